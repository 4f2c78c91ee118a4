"""Loan performance import, the default definition as policy data, and training from the
database (issue 6)."""

import datetime as dt
import json
import types
from decimal import Decimal

import pytest
from django.core.management import CommandError, call_command
from django.db import transaction
from django.utils import timezone

from apps.applications.models import Application
from apps.audit.models import AuditEvent
from apps.audit.services import audit_record
from apps.scoring.features.spec import KINDS
from apps.scoring.models import FeatureSnapshot, LoanPerformance, ModelVersion
from apps.scoring.policy import DEFAULT_POLICY
from apps.scoring.services import decision_policy_create
from apps.scoring.services.performance import (
    add_months,
    disbursement_dates,
    outcome_labels,
)
from apps.scoring.synthetic import TARGET, generate_rows

pytestmark = pytest.mark.django_db
# read per use, not at import: a run may cross midnight (Asia/Shanghai)
today = timezone.localdate


def _applications(world, n: int, *, state="disbursed", prefix="L") -> list[Application]:
    template = world.draft()
    Application.objects.bulk_create([
        Application(reference=f"{prefix}{i:06d}", enterprise=template.enterprise, state=state,
                    product_version=template.product_version, branch=template.branch,
                    account_manager=template.account_manager, amount_requested=Decimal("1"),
                    # Decided after the snapshots below are stored: they are what it was
                    # decided on (training reads the snapshot at decision).
                    decided_at=timezone.now() + dt.timedelta(minutes=5))
        for i in range(n)])
    return list(Application.objects.filter(reference__startswith=prefix).order_by("id"))


def _disbursed_on(monkeypatch, applications, day: dt.date) -> None:
    """Write the disbursement audit events as if the payout happened on `day`."""
    at = timezone.make_aware(dt.datetime.combine(day, dt.time(10)))
    monkeypatch.setattr("apps.audit.services.timezone", types.SimpleNamespace(now=lambda: at))
    with transaction.atomic():
        for application in applications:
            audit_record(action="application.disbursed", actor=None, subject=application)
    monkeypatch.undo()


def _csv(tmp_path, lines, name="perf.csv"):
    path = tmp_path / name
    path.write_text("reference,as_of,days_past_due\n" + "\n".join(lines) + "\n")
    return str(path)


def test_import_is_all_or_nothing_with_line_numbers_and_one_audit_event(
        world, tmp_path, monkeypatch, capsys):
    one, two = _applications(world, 2)
    [draft] = _applications(world, 1, state="draft", prefix="D")
    paid = today() - dt.timedelta(days=400)
    _disbursed_on(monkeypatch, [one, two], paid)
    assert disbursement_dates([one.pk, two.pk, draft.pk]) == {one.pk: paid, two.pk: paid}

    good = _csv(tmp_path, [f"{one.reference},{paid + dt.timedelta(days=90)},0",
                           f"{one.reference},{paid + dt.timedelta(days=380)},95",
                           f"{two.reference},{paid + dt.timedelta(days=200)},3"])
    call_command("import_loan_performance", csv=good)
    assert "imported 3 record(s) for 2 application(s)" in capsys.readouterr().out
    [event] = AuditEvent.objects.filter(action="loan_performance.imported")
    assert event.payload["imported"] == 3 and event.payload["source"] == "perf.csv"

    bad = _csv(tmp_path, [
        f"{two.reference},{paid + dt.timedelta(days=300)},0",      # 2: fine, but not written
        f"NOPE,{paid},0",                                          # 3
        f"{draft.reference},{paid},0",                             # 4: not disbursed
        f"{two.reference},31/12/2025,0",                           # 5
        f"{two.reference},{paid + dt.timedelta(days=10)},-3",      # 6
        f"{two.reference},{today() + dt.timedelta(days=1)},0",       # 7: future
        f"{two.reference},{paid - dt.timedelta(days=1)},0",        # 8: before payout
        f"{two.reference},{paid + dt.timedelta(days=300)},0",      # 9: twice in the file
        f"{one.reference},{paid + dt.timedelta(days=380)},20",     # 10: conflicts with stored
    ], name="bad.csv")
    with pytest.raises(CommandError, match="8 row"):
        call_command("import_loan_performance", csv=bad)
    errors = capsys.readouterr().err
    for line in range(3, 11):
        assert f"line {line}:" in errors
    assert "line 2:" not in errors and "already recorded with 95" in errors
    assert LoanPerformance.objects.count() == 3
    assert AuditEvent.objects.filter(action="loan_performance.imported").count() == 1

    call_command("import_loan_performance", csv=good)  # re-sent: nothing new, nothing refused
    out = capsys.readouterr().out
    assert "imported 0 record(s)" in out and "3 already stored" in out
    assert LoanPerformance.objects.count() == 3


def test_labels_follow_the_policy_default_definition_and_count_exclusions(world):
    apps = _applications(world, 7)
    paid = dt.date(2024, 1, 31)
    end = add_months(paid, 12)
    assert end == dt.date(2025, 1, 31) and add_months(dt.date(2024, 1, 31), 1) == \
        dt.date(2024, 2, 29)
    a, b, c, d, e, f, g = (x.pk for x in apps)
    LoanPerformance.objects.bulk_create([
        LoanPerformance(application_id=app_id, as_of=as_of, days_past_due=dpd, source="t")
        for app_id, as_of, dpd in [
            (a, paid + dt.timedelta(days=180), 95),              # bad inside the window
            (b, end, 0),                                         # good: observed to the end
            (c, end - dt.timedelta(days=30), 45),                # immature
            (e, end + dt.timedelta(days=20), 120),               # reached 90 dpd 10 days early
            (f, end + dt.timedelta(days=10), 95),                # reached 90 dpd 5 days late
        ]])
    disbursed_on = {x: paid for x in (a, b, c, d, e, f)}  # g: no payout on record

    labels = outcome_labels(disbursed_on=disbursed_on)
    assert labels.outcomes == {a: 1, b: 0, e: 1, f: 0}
    assert labels.excluded == {"immature": 1, "no_performance_records": 1,
                               "no_disbursement_date": 1}
    assert (labels.days_past_due, labels.observation_months) == (90, 12)
    assert labels.summary()["excluded"]["immature"] == 1

    stricter = {**DEFAULT_POLICY, "default_definition": {
        "days_past_due": 30, "observation_months": 12, "min_goods": 1, "min_bads": 1}}
    policy = decision_policy_create(document=stricter, effective_from=today(),
                                    actor=world.user("reviewer.north"))
    labels = outcome_labels(policy=policy, disbursed_on=disbursed_on)
    assert labels.outcomes == {a: 1, b: 0, c: 1, e: 1, f: 1}
    assert labels.policy_version == policy.version and labels.excluded["immature"] == 0


def test_a_malformed_default_definition_is_refused():
    from apps.scoring.policy import PolicyError, validate_policy

    with pytest.raises(PolicyError, match="default_definition.days_past_due"):
        validate_policy({**DEFAULT_POLICY, "default_definition": {"days_past_due": "90"}})


def _book(world, monkeypatch, n: int) -> dict[int, int]:
    """`n` disbursed loans with stored score inputs and a year of performance behind them."""
    apps = _applications(world, n)
    paid = today() - dt.timedelta(days=500)
    snapshots, records, outcomes = [], [], {}
    for i, (application, row) in enumerate(zip(apps, generate_rows(n, seed=4), strict=True)):
        values = {k: (None if row[k] == "" else float(row[k]) if KINDS[k] == "numeric"
                      else row[k]) for k in KINDS}
        snapshots.append(FeatureSnapshot(application_id=application.pk, input_hash=f"{i:064d}",
                                         spec_version="t", values=values))
        bad = int(row[TARGET])
        outcomes[application.pk] = bad
        records.append(LoanPerformance(
            application_id=application.pk, source="t",
            as_of=paid + dt.timedelta(days=100 if bad else 370), days_past_due=91 if bad else 0))
    FeatureSnapshot.objects.bulk_create(snapshots)
    LoanPerformance.objects.bulk_create(records)
    monkeypatch.setattr("apps.scoring.services.performance.disbursement_dates",
                        lambda ids: {app.pk: paid for app in apps})
    return outcomes


def test_train_model_from_database_registers_a_version_like_the_csv_path(
        world, monkeypatch, capsys):
    outcomes = _book(world, monkeypatch, 1000)
    call_command("train_model", from_database=True, kind="scorecard", seed=2)
    captured = capsys.readouterr()
    metrics = json.loads(captured.out.strip().splitlines()[-1])
    labels = json.loads(captured.err.strip().splitlines()[-1])["labels"]
    assert labels["bads"] == sum(outcomes.values()) and labels["goods"] + labels["bads"] == 1000
    assert set(metrics) >= {"auc", "ks", "gini", "n_train", "n_holdout", "version"}
    assert metrics["n_train"] + metrics["n_holdout"] == 1000 and metrics["auc"] > 0.6
    version = ModelVersion.objects.get(version=metrics["version"])
    assert version.target == "default" and version.state == "draft"
    assert AuditEvent.objects.filter(action="model.trained", subject_id=str(version.pk)).exists()


def test_train_model_from_database_refuses_too_few_goods_or_bads(world, monkeypatch):
    _book(world, monkeypatch, 60)
    with pytest.raises(CommandError, match=r"too few labelled loans.*minimum 100"):
        call_command("train_model", from_database=True)
    with pytest.raises(CommandError, match="--target is required"):
        call_command("train_model", csv="x.csv")
    assert not ModelVersion.objects.exists()

"""The set-based monthly run gives what the per-loan path gives, on a varied book.

Set-based: `classification_run_start` + `classification_chunk_run` (one chunk holds the whole
book; special checks scheduled in one batch). Per loan: `classify_range` over one loan id at
a time, each special check through the one-loan provider (`inspection_request_special`).
Both run on the same book, the first inside a savepoint that is then rolled back; every
result is compared by loan (ids of new rows differ, nothing else may).

Runs on whichever database the session uses: PostgreSQL in CI, SQLite under `make test`
without DATABASE_URL (the `dialect` module's two spellings)."""

import datetime as dt
from decimal import Decimal

import pytest
from django.db import transaction
from django.utils import timezone

from apps.loans.models import Loan
from apps.loans.states import OPEN_LOAN_STATES
from apps.monitoring import hooks, wiring
from apps.monitoring.floors import add_months
from apps.monitoring.inspection_models import Inspection
from apps.monitoring.inspection_seed import seed_inspection_templates
from apps.monitoring.models import (
    Action,
    Classification,
    ClassificationRun,
    ClassificationRunChunk,
    ClassificationSnapshot,
    LoanRestructuring,
    LoanRiskStatus,
    Signal,
)
from apps.monitoring.services.classification import loan_floor
from apps.monitoring.services.run import (
    classification_chunk_run,
    classification_run_start,
    classify_range,
    dpd_floor_counts_sql,
)
from apps.monitoring.services.signals import signal_raise


def _book(world) -> dict:
    """Every rule the run applies, at least once: each DPD band (principal and interest),
    cross-default above and below the policy share, a restructuring inside and one without a
    date, open W17 (L3) and W18 (L2) signals from inspections, an earlier month's proposal the
    data no longer supports, a proposal that still holds, and loans in two branches."""
    today = timezone.localdate()
    loans = {}
    for dpd in (0, 1, 15, 30, 45, 90, 91, 200, 271, 361, 500):
        loans[f"dpd{dpd}"] = world.loan(dpd=dpd)
    loans["interest95"] = world.loan(dpd_interest=95)
    loans["south40"] = world.loan(branch=world.south, dpd=40)
    firm = world.enterprise()
    loans["xd_npa"] = world.loan(enterprise=firm, dpd=120, outstanding="120000")
    loans["xd_a"] = world.loan(enterprise=firm, outstanding="440000")
    loans["xd_b"] = world.loan(enterprise=firm, outstanding="440000")
    other = world.enterprise()
    loans["nx_npa"] = world.loan(enterprise=other, dpd=120, outstanding="80000")
    loans["nx_a"] = world.loan(enterprise=other, outstanding="920000")
    loans["restr_dated"] = world.loan(state="restructured")
    LoanRestructuring.objects.create(loan=loans["restr_dated"],
                                     restructured_on=add_months(today, -3), source="test")
    loans["restr_undated"] = world.loan(state="restructured")
    loans["w17"] = world.loan()
    signal_raise(loan_id=loans["w17"].pk, code="W17", observed="diverted", source="check")
    loans["w18"] = world.loan(dpd=10)
    signal_raise(loan_id=loans["w18"].pk, code="W18", observed="refused", source="check")
    loans["settled"] = world.loan(state="settled", dpd=400)
    return loans


def _results() -> dict:
    return {
        "signals": {(s.loan_id, s.code): (s.level, s.state, s.observed, s.baseline, s.rule_id,
                                          s.source, s.close_note)
                    for s in Signal.objects.all()},
        "actions": {(a.loan_id, a.kind, a.state): (a.level, a.due_date, a.owner_id,
                                                   a.deadline_policy, a.rule_id,
                                                   a.signal.code if a.signal else None)
                    for a in Action.objects.select_related("signal")},
        "classifications": {(c.loan_id, c.state): (c.category, c.previous_category, c.floor,
                                                   c.floor_reasons, c.is_upgrade, c.source,
                                                   c.reason)
                            for c in Classification.objects.all()},
        # Every policy key the chunk read by then (a chunk of one reads fewer): compared as
        # "same version wherever both name a key".
        "policy_versions": {(c.loan_id, c.state): c.policy_versions
                            for c in Classification.objects.all()},
        "risk": {r.loan_id: (r.category, r.floor, r.floor_reasons, r.floor_as_of,
                             r.warning_level) for r in LoanRiskStatus.objects.all()},
        "inspections": {(i.loan_id, i.schedule_key): (i.kind, i.state, i.due_date,
                                                      i.template_id, i.officer_id, i.reason,
                                                      i.policy_basis, i.branch_id)
                        for i in Inspection.objects.filter(kind="special")},
        "snapshots": {s.loan_id: (s.category, s.floor, Decimal(s.outstanding), s.vintage,
                                  s.branch_id, s.product_id, s.officer_id)
                      for s in ClassificationSnapshot.objects.all()},
        "restructurings": {(r.loan_id, r.restructured_on, r.source)
                           for r in LoanRestructuring.objects.all()},
    }


def _set_based(as_of) -> dict:
    run = classification_run_start(as_of=as_of)
    for chunk_id in ClassificationRunChunk.objects.filter(run=run).values_list("pk", flat=True):
        classification_chunk_run(chunk_id=chunk_id)
    return _results()


@transaction.atomic
def _per_loan(as_of) -> dict:
    """One loan at a time, special checks one request each (the path before batching)."""
    run = ClassificationRun.objects.create(as_of=as_of)
    hooks.unregister_special_inspections(wiring.special_inspections_for_actions)
    hooks.register_special_inspection(wiring.special_inspection_for_action)
    try:
        for loan_id in (Loan.objects.filter(state__in=list(OPEN_LOAN_STATES)).order_by("pk")
                        .values_list("pk", flat=True)):
            classify_range(first_id=loan_id, last_id=loan_id, as_of=as_of, run=run)
    finally:
        hooks.unregister_special_inspection(wiring.special_inspection_for_action)
        hooks.register_special_inspections(wiring.special_inspections_for_actions)
    return _results()


def _both(as_of) -> tuple[dict, dict]:
    savepoint = transaction.savepoint()
    batched = _set_based(as_of)
    transaction.savepoint_rollback(savepoint)
    return batched, _per_loan(as_of)


def _assert_same(batched: dict, per_loan: dict) -> None:
    for key in batched:
        if key == "policy_versions":
            assert batched[key].keys() == per_loan[key].keys()
            for proposal, versions in per_loan[key].items():
                assert versions.items() <= batched[key][proposal].items(), proposal
        else:
            assert batched[key] == per_loan[key], key


@pytest.fixture
def templates(world):
    """The built-in post-loan templates, so special checks are really scheduled."""
    seed_inspection_templates()


def test_set_based_run_matches_per_loan_path(world, templates):
    loans = _book(world)
    batched, per_loan = _both(timezone.localdate())
    _assert_same(batched, per_loan)
    # The book exercised what it claims to: every floor rule, signals, actions, checks.
    reasons = {r["rule"] for _c, _f, rs, _d, _w in batched["risk"].values() for r in rs}
    assert reasons == {"dpd", "cross_default", "restructured", "signal"}
    floors = {loan_id: floor for loan_id, (_c, floor, *_rest) in batched["risk"].items()}
    assert floors[loans["xd_a"].pk] == "substandard"  # 12 % of the borrower is NPA
    assert floors[loans["nx_a"].pk] == "normal"  # 8 %: no contagion
    assert floors[loans["dpd361"].pk] == "loss"
    assert loans["settled"].pk not in floors
    assert {kind for _l, kind, _s in batched["actions"]} >= {"contact", "special_check",
                                                             "freeze", "workout"}
    checks = {loan_id for loan_id, _key in batched["inspections"]}
    assert loans["dpd91"].pk in checks and loans["dpd15"].pk not in checks
    assert len(batched["classifications"]) >= 10
    assert len(batched["snapshots"]) == len(loans) - 1


def test_second_month_matches_per_loan_path(world, templates):
    """A month later, on the first month's results: arrears repaid (signals resolved,
    system proposals withdrawn), arrears grown (signals raised, more actions), unchanged."""
    loans = _book(world)
    today = timezone.localdate()
    run = classification_run_start(as_of=today - dt.timedelta(days=31))
    for chunk in ClassificationRunChunk.objects.filter(run=run):
        classification_chunk_run(chunk_id=chunk.pk)
    Loan.objects.filter(pk__in=[loans["dpd45"].pk, loans["dpd200"].pk]).update(
        dpd_principal=0)
    Loan.objects.filter(pk=loans["dpd15"].pk).update(dpd_principal=100)
    batched, per_loan = _both(today)
    _assert_same(batched, per_loan)
    resolved = {loan_id for (loan_id, code), row in batched["signals"].items()
                if row[1] == "closed" and code == "W01"}
    assert resolved == {loans["dpd45"].pk, loans["dpd200"].pk}


def test_floor_of_one_loan_and_baseline_on_this_database(world):
    """The single-loan floor and the baseline run their SQL on either database (SQLite has
    no GREATEST, ANY or make_interval)."""
    loan = world.loan(dpd_interest=95)
    firm = world.enterprise()
    world.loan(enterprise=firm, dpd=120, outstanding="120000")
    other = world.loan(enterprise=firm, outstanding="880000")
    restructured = world.loan(state="restructured")
    LoanRestructuring.objects.create(loan=restructured, source="test",
                                     restructured_on=add_months(timezone.localdate(), -11))
    assert loan_floor(loan_id=loan.pk).floor == "substandard"
    assert loan_floor(loan_id=other.pk).reasons[-1] == {
        "rule": "cross_default", "observed": "0.1200", "category": "substandard",
        "policy": {"classification.cross_default.npa_share_gt": 1}}
    assert loan_floor(loan_id=restructured.pk).floor == "substandard"
    assert dpd_floor_counts_sql(as_of=timezone.localdate()) == {
        "substandard": 2, "normal": 2}

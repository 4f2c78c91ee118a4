"""Loan performance: importing days past due, and labelling applications good or bad for
training with the default definition of the decision policy (issue 6; domain reference §7.2).

Outcomes come from the loan book (`apps.loans`, which registers itself here with
`register_outcome_source`: it sits right of scoring): each file's first value date and its
loans' days-past-due history. Files paid out before the loan book existed can still be labelled
from a CSV of the bank's loan system (`import_loan_performance`), dated by the audit trail's
`application.disbursed` event (the record nobody can edit).
"""

from __future__ import annotations

import calendar
import csv
import hashlib
import io
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from apps.applications.models import Application
from apps.applications.states import ApplicationState
from apps.audit.models import AuditEvent
from apps.audit.services import audit_record
from apps.scoring.models import LoanPerformance
from apps.scoring.permissions import may_manage_models
from apps.scoring.policy import DEFAULT_POLICY
from apps.scoring.scorecard.data import DataError

COLUMNS = ("reference", "as_of", "days_past_due")


class ImportRefused(ValueError):
    """Nothing was imported; `errors` lists (line number, message) for every bad row."""

    def __init__(self, errors: list[tuple[int, str]]):
        self.errors = errors
        super().__init__("; ".join(f"line {line}: {message}" for line, message in errors[:20]))


# (application ids) -> ({id: first value date}, {id: [(day, days past due)]})
OutcomeSource = Callable[[list[int]], tuple[dict[int, date], dict[int, list[tuple[date, int]]]]]
_outcome_sources: list[OutcomeSource] = []


def register_outcome_source(source: OutcomeSource) -> None:
    """Called by the loan book's `AppConfig.ready()`; registering twice is a no-op."""
    if source not in _outcome_sources:
        _outcome_sources.append(source)


def _book_outcomes(ids) -> tuple[dict[int, date], dict[int, list[tuple[date, int]]]]:
    paid_on, seen = {}, {}
    for source in _outcome_sources:
        dates, observations = source(list(ids))
        paid_on.update(dates)
        seen.update(observations)
    return paid_on, seen


def disbursement_dates(application_ids) -> dict[int, date]:
    """When each application was paid out, from its `application.disbursed` audit event."""
    dates = {}
    for app_id, at in (AuditEvent.objects.filter(action="application.disbursed",
                                                 application_id__in=list(application_ids))
                       .order_by("seq").values_list("application_id", "occurred_at")):
        dates.setdefault(app_id, timezone.localdate(at))
    return dates


@transaction.atomic
def loan_performance_import(*, content: bytes, source: str, actor=None) -> dict:
    """Import a CSV of (reference, as_of, days_past_due): every row or none.

    A row already stored with the same figure is skipped, so a file can be re-sent; a different
    figure for a stored date is refused (a correction must not overwrite silently).
    """
    if actor is not None and not may_manage_models(actor):
        raise PermissionDenied(_("You may not import loan performance."))
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ImportRefused([(1, _("The file is not UTF-8 text."))]) from None
    reader = csv.DictReader(io.StringIO(text))
    header = [h.strip() for h in (reader.fieldnames or [])]
    missing = [c for c in COLUMNS if c not in header]
    if missing:
        raise ImportRefused([(1, _("Columns missing: %(cols)s.") % {"cols": ", ".join(missing)})])
    reader.fieldnames = header
    rows = [(reader.line_num, row) for row in reader]
    references = {(row.get("reference") or "").strip() for _, row in rows}
    apps = {a.reference: a for a in Application.objects.filter(reference__in=references)
            .only("id", "reference", "state")}
    disbursed = disbursement_dates([a.pk for a in apps.values()])
    stored = {(a, d): dpd for a, d, dpd in LoanPerformance.objects.filter(
        application_id__in=[a.pk for a in apps.values()]).values_list(
        "application_id", "as_of", "days_past_due")}
    today = timezone.localdate()
    errors, new, seen, unchanged = [], [], set(), 0
    for line, row in rows:
        reference = (row.get("reference") or "").strip()
        application = apps.get(reference)
        try:
            as_of = date.fromisoformat((row.get("as_of") or "").strip())
        except ValueError:
            as_of = None
        raw_dpd = (row.get("days_past_due") or "").strip()
        dpd = int(raw_dpd) if raw_dpd.isdigit() else None
        if application is None:
            errors.append((line, _("No application with reference %(ref)s.") % {"ref": reference}))
            continue
        if application.state != ApplicationState.DISBURSED:
            errors.append((line, _("Application %(ref)s has not been disbursed.")
                           % {"ref": reference}))
            continue
        if as_of is None:
            errors.append((line, _("as_of must be a date (YYYY-MM-DD).")))
            continue
        if dpd is None:
            errors.append((line, _("days_past_due must be a whole number ≥ 0.")))
            continue
        if as_of > today:
            errors.append((line, _("as_of %(date)s is in the future.") % {"date": as_of}))
            continue
        if application.pk in disbursed and as_of < disbursed[application.pk]:
            errors.append((line, _("as_of %(date)s is before the disbursement on %(paid)s.")
                           % {"date": as_of, "paid": disbursed[application.pk]}))
            continue
        key = (application.pk, as_of)
        if key in seen:
            errors.append((line, _("%(ref)s on %(date)s appears twice in the file.")
                           % {"ref": reference, "date": as_of}))
            continue
        seen.add(key)
        if key in stored:
            if stored[key] != dpd:
                errors.append((line, _("%(ref)s on %(date)s is already recorded with "
                                       "%(old)s days past due.")
                               % {"ref": reference, "date": as_of, "old": stored[key]}))
            else:
                unchanged += 1
            continue
        new.append(LoanPerformance(application=application, as_of=as_of, days_past_due=dpd,
                                   source=source[:200]))
    if errors:
        raise ImportRefused(errors)
    LoanPerformance.objects.bulk_create(new, batch_size=2000)
    counts = {"rows": len(rows), "imported": len(new), "unchanged": unchanged,
              "applications": len({r.application_id for r in new})}
    sha = hashlib.sha256(content).hexdigest()
    audit_record(action="loan_performance.imported", actor=actor,
                 subject=("scoring.loanperformance", sha[:64]),
                 payload={"source": source[:200], "sha256": sha, **counts})
    return counts


def add_months(day: date, months: int) -> date:
    month0 = day.month - 1 + months
    year, month = day.year + month0 // 12, month0 % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


@dataclass
class Labels:
    """Outcomes for training ({application id: 1 bad / 0 good}) and what was left out, why."""

    outcomes: dict[int, int]
    excluded: Counter
    days_past_due: int
    observation_months: int
    policy_version: int | None
    min_goods: int
    min_bads: int
    goods: int = field(init=False)
    bads: int = field(init=False)
    reject_inference: dict | None = None  # what was inferred for declined applications

    def __post_init__(self):
        self.bads = sum(self.outcomes.values())
        self.goods = len(self.outcomes) - self.bads

    def summary(self) -> dict:
        return {"goods": self.goods, "bads": self.bads, "excluded": dict(self.excluded),
                **({"reject_inference": self.reject_inference}
                   if self.reject_inference else {}),
                "default_definition": {"days_past_due": self.days_past_due,
                                       "observation_months": self.observation_months,
                                       "policy_version": self.policy_version}}

    def check_enough(self) -> None:
        """Refuse to train on too few goods or bads, saying how many and why others are out."""
        if self.goods < self.min_goods or self.bads < self.min_bads:
            raise DataError(_(
                "too few labelled loans to train: %(goods)s goods (minimum %(min_goods)s) and "
                "%(bads)s bads (minimum %(min_bads)s); excluded: %(excluded)s") % {
                "goods": self.goods, "bads": self.bads, "min_goods": self.min_goods,
                "min_bads": self.min_bads,
                "excluded": ", ".join(f"{k} {v}" for k, v in sorted(self.excluded.items()))
                or "none"})


def default_definition(policy=None) -> tuple[dict, int]:
    """The default definition of the decision policy in force, and that policy's version;
    a version stored before the definition existed uses the [G] design default."""
    from apps.scoring.services.registry import decision_policy_ensure

    policy = policy or decision_policy_ensure()
    definition = policy.document.get("default_definition") or DEFAULT_POLICY["default_definition"]
    return definition, policy.version


def outcome_labels(*, policy=None, disbursed_on: dict[int, date] | None = None) -> Labels:
    """Label every disbursed application that has a usable observation.

    Bad: reached the threshold within the window from disbursement. A record of N days past
    due on day D means the threshold was reached on D − (N − threshold), so a loan seen at
    120 dpd a month after the window closed went bad inside it. Good: observed to the end of
    the window without reaching it. Anything else is excluded, counted by reason.
    """
    definition, version = default_definition(policy)
    threshold, months = definition["days_past_due"], definition["observation_months"]
    defaults = DEFAULT_POLICY["default_definition"]
    ids = list(Application.objects.filter(state=ApplicationState.DISBURSED)
               .values_list("id", flat=True))
    # The loan book first; the imported table only for files the book does not hold.
    book_dates, records = _book_outcomes(ids)
    legacy = [app_id for app_id in ids if app_id not in book_dates]
    dates = {**(disbursed_on if disbursed_on is not None else disbursement_dates(legacy)),
             **book_dates}
    for app_id, as_of, dpd in LoanPerformance.objects.filter(application_id__in=legacy) \
            .values_list("application_id", "as_of", "days_past_due"):
        records.setdefault(app_id, []).append((as_of, dpd))
    outcomes, excluded = {}, Counter()
    for app_id in ids:
        paid = dates.get(app_id)
        if paid is None:
            excluded["no_disbursement_date"] += 1
            continue
        seen = records.get(app_id)
        if not seen:
            excluded["no_performance_records"] += 1
            continue
        window_end = add_months(paid, months)
        if any(dpd >= threshold and as_of - timedelta(days=dpd - threshold) <= window_end
               for as_of, dpd in seen):
            outcomes[app_id] = 1
        elif max(as_of for as_of, _ in seen) >= window_end:
            outcomes[app_id] = 0
        else:
            excluded["immature"] += 1
    return Labels(outcomes=outcomes, excluded=excluded, days_past_due=threshold,
                  observation_months=months, policy_version=version,
                  min_goods=definition.get("min_goods", defaults["min_goods"]),
                  min_bads=definition.get("min_bads", defaults["min_bads"]))


def training_set_from_database(*, policy=None, disbursed_on=None,
                               reject_inference: str | None = None,
                               parcel_coefficient: float = 1.0):
    """The labelled disbursed applications' snapshots at decision, as training data, with
    the labels (counts, exclusions); refused when too few goods or bads remain.

    `reject_inference="parcelling"` adds the declined applications with inferred outcomes
    (services/reject_inference.py, domain reference §7.4); the labels' summary says how many."""
    from apps.scoring.features.training import training_set_from_snapshots

    labels = outcome_labels(policy=policy, disbursed_on=disbursed_on)
    labels.check_enough()
    # Labelled but never scored (no stored inputs): left out, counted, and checked again.
    snapshotted = set(training_set_snapshot_ids(labels.outcomes))
    unscored = [a for a in labels.outcomes if a not in snapshotted]
    if unscored:
        labels.excluded["no_feature_snapshot"] += len(unscored)
        labels = Labels(outcomes={a: y for a, y in labels.outcomes.items() if a in snapshotted},
                        excluded=labels.excluded, days_past_due=labels.days_past_due,
                        observation_months=labels.observation_months,
                        policy_version=labels.policy_version, min_goods=labels.min_goods,
                        min_bads=labels.min_bads)
        labels.check_enough()
    outcomes = labels.outcomes
    if reject_inference:
        from apps.scoring.services.reject_inference import METHODS, rejects_parcelled

        if reject_inference not in METHODS:
            raise DataError(_("unknown reject inference method %(method)s (known: %(known)s)")
                            % {"method": reject_inference, "known": ", ".join(METHODS)})
        inferred, labels.reject_inference = rejects_parcelled(
            outcomes=outcomes, coefficient=parcel_coefficient, policy=policy)
        outcomes = {**outcomes, **inferred}
    return training_set_from_snapshots(outcomes), labels


def training_set_snapshot_ids(outcomes) -> list[int]:
    """Applications that have a snapshot taken no later than their decision."""
    from apps.scoring.features.training import snapshot_ids_at_decision

    return list(snapshot_ids_at_decision(outcomes))

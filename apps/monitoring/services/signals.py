"""Early-warning signals (§4.3): de-duplicated per loan and code, updated on each
observation, closed with a note; an L3 close needs a second person.

`signals_apply` is the batched core used by the monthly run (many loans at once) and by
`signal_raise` (one observation from the inspections code: W17, W18)."""

import datetime as dt
import json
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from apps.core.fsm import transition_check
from apps.loans.models import Loan
from apps.monitoring import dialect
from apps.monitoring.bulk_rows import insert_rows
from apps.monitoring.models import Signal, SignalRule
from apps.monitoring.policy import Policy
from apps.monitoring.services.actions import actions_open_missing
from apps.monitoring.services.audit import audit_loan_event
from apps.monitoring.sql import any_of
from apps.monitoring.states import OPEN_SIGNAL_STATES, SignalState, WarningLevel


@dataclass
class LoanObservation:
    """What an evaluator saw on one loan: level 0 means the rule no longer fires. `loan` is
    a Loan or any object with its pk, branch_id, officer_id and application_id (the run
    passes light references: building 5,000 model instances costs more than the work)."""

    loan: object
    code: str
    level: int
    observed: str = ""
    baseline: str = ""
    source: str = ""
    details: dict | None = None


def signal_rules_in_force(*, on: dt.date) -> dict[str, SignalRule]:
    """code → the highest rule version effective on `on`."""
    rules = (SignalRule.objects.filter(effective_from__lte=on)
             .filter(Q(effective_to__isnull=True) | Q(effective_to__gt=on))
             .order_by("code", "-version"))
    current: dict[str, SignalRule] = {}
    for rule in rules:
        current.setdefault(rule.code, rule)
    return current


def signals_apply(*, observations: list[LoanObservation], on: dt.date, actor=None,
                  rules: dict[str, SignalRule] | None = None, policy: Policy | None = None,
                  refresh_levels: bool = True) -> dict[str, list]:
    """Open, update or resolve signals for these observations, then open the mandatory
    actions of every signal that opened or rose, and refresh the loans' warning levels.

    Set-based: one read of the open signals, one insert, one bulk update; resolves (the rule
    no longer fires) go through the transition one by one, as they are few. Must run inside
    the caller's transaction. `refresh_levels=False`: the caller refreshes the warning
    levels itself (the monthly run does, for every loan of its chunk, with the floors)."""
    rules = rules or signal_rules_in_force(on=on)
    now = timezone.now()
    loan_ids = {o.loan.pk for o in observations}
    codes = {o.code for o in observations}
    locked = Signal.objects.select_for_update(no_key=True).filter(
        any_of(Signal, "loan", loan_ids), code__in=codes, state__in=OPEN_SIGNAL_STATES)
    open_signals = {(s.loan_id, s.code): s for s in locked}
    opened, updated, resolved, raised = [], [], [], []
    for obs in observations:
        existing = open_signals.get((obs.loan.pk, obs.code))
        rule = rules.get(obs.code)
        if obs.level <= 0:
            if existing is not None:
                existing.resolve(at=now, note=_("No longer observed: %(value)s") % {
                    "value": obs.observed or "-"})
                existing.save()
                resolved.append(existing)
            continue
        if rule is None:
            continue  # no rule in force for this code: nothing may be raised
        if existing is None:
            signal = Signal(loan_id=obs.loan.pk, branch_id=obs.loan.branch_id, code=obs.code,
                            rule=rule, level=obs.level, observed=obs.observed[:200],
                            baseline=obs.baseline[:200], source=obs.source,
                            details=obs.details or {}, raised_at=now, observed_at=now)
            opened.append(signal)
            raised.append((obs.loan, obs.level, signal))
            continue
        if existing.level < obs.level:
            raised.append((obs.loan, obs.level, existing))
        existing.level, existing.rule = obs.level, rule
        existing.observed, existing.baseline = obs.observed[:200], obs.baseline[:200]
        existing.details, existing.observed_at = obs.details or {}, now
        updated.append(existing)
    _signals_insert(opened)
    _signals_update(updated, now)
    actions = actions_open_missing(raised=raised, on=on, policy=policy, actor=actor)
    if refresh_levels:
        loan_warning_levels_refresh(loan_ids=loan_ids)
    return {"opened": opened, "updated": updated, "resolved": resolved, "actions": actions}


_INSERTED = ("loan_id", "branch_id", "code", "rule_id", "level", "observed", "baseline",
             "source", "details", "raised_at", "observed_at", "created_at", "updated_at")


def _signals_insert(signals: list[Signal]) -> None:
    """One INSERT … RETURNING for the new signals (bulk_create cost ~1 ms a row in the
    run); the ids come back by (loan, code), unique among open signals."""
    for signal in signals:
        signal.created_at = signal.updated_at = signal.raised_at
    rows = insert_rows(Signal, {name: [getattr(x, name) for x in signals]
                                for name in _INSERTED}, returning=("id", "loan_id", "code"))
    ids = {(loan_id, code): pk for pk, loan_id, code in rows}
    for signal in signals:
        signal.pk = ids[(signal.loan_id, signal.code)]
        signal._state.adding, signal._state.db = False, "default"


def _signals_update(signals: list[Signal], now) -> None:
    """One UPDATE … FROM the chunk's rows for the observed figures of still-open signals
    (Django's bulk_update builds a CASE per row and field: seconds for a few hundred rows)."""
    if not signals:
        return
    params = {"now": connection.ops.adapt_datetimefield_value(now)}
    source = dialect.rows("u", [
        ("id", "bigint"), ("level", "int"), ("rule_id", "bigint"), ("observed", "text"),
        ("baseline", "text"), ("details", "json")], {
        "id": [x.pk for x in signals], "level": [x.level for x in signals],
        "rule_id": [x.rule_id for x in signals], "observed": [x.observed for x in signals],
        "baseline": [x.baseline for x in signals],
        "details": [json.dumps(x.details, cls=DjangoJSONEncoder) for x in signals]}, params)
    sql = f"""
    UPDATE monitoring_signal SET level = u.level, rule_id = u.rule_id, observed = u.observed,
           baseline = u.baseline, details = {dialect.json_value("u.details")},
           observed_at = %(now)s, updated_at = %(now)s
    FROM {source}
    WHERE monitoring_signal.id = u.id
    """  # noqa: S608 - fragments from apps.monitoring.dialect, values bound
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


def loan_warning_levels_refresh(*, loan_ids) -> None:
    """The highest open signal level sets the loan's level (§4.4), L0 without one. One
    statement: a risk-status row is created for a loan that has none yet."""
    loan_ids = list(loan_ids)
    if not loan_ids:
        return
    params = {"now": connection.ops.adapt_datetimefield_value(timezone.now()),
              "open": dialect.id_list(sorted(OPEN_SIGNAL_STATES))}
    source = dialect.rows("l", [("id", "bigint")], {"id": loan_ids}, params)
    sql = f"""
    INSERT INTO monitoring_loanriskstatus (loan_id, category, floor, floor_reasons,
                                           warning_level, updated_at)
    SELECT u.id, 'normal', 'normal', {dialect.empty_json_list()}, COALESCE(MAX(s.level), 0),
           %(now)s
    FROM {source}
    LEFT JOIN monitoring_signal s ON s.loan_id = u.id AND {dialect.in_ids("s.state", "open")}
    WHERE true
    GROUP BY u.id
    ON CONFLICT (loan_id) DO UPDATE SET warning_level = EXCLUDED.warning_level,
                                        updated_at = EXCLUDED.updated_at
    WHERE monitoring_loanriskstatus.warning_level <> EXCLUDED.warning_level
    """  # noqa: S608 - fragments from apps.monitoring.dialect, values bound
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


@transaction.atomic
def signal_raise(*, loan_id: int, code: str, observed: str, baseline: str = "",
                 source: str, actor=None, level: int | None = None) -> Signal:
    """Raise (or update) a signal other code observed: the inspections code calls this for
    W17 (use of funds) and W18 (cooperation). The level is the rule's unless given."""
    loan = Loan.objects.select_for_update(no_key=True, of=("self",)).get(pk=loan_id)
    on = timezone.localdate()
    rules = signal_rules_in_force(on=on)
    rule = rules.get(code)
    if rule is None:
        raise ValidationError({"code": _("No signal rule %(code)s is in force.") % {
            "code": code}})
    obs = LoanObservation(loan=loan, code=code, level=level or rule.level, observed=observed,
                          baseline=baseline, source=source)
    result = signals_apply(observations=[obs], on=on, actor=actor, rules=rules)
    signal = (result["opened"] or result["updated"])[0]
    audit_loan_event(action="signal.raised", actor=actor, subject=signal, loan=loan, payload={
        "loan": loan.loan_number, "code": code, "level": signal.level, "observed": observed,
        "baseline": baseline, "rule_version": rule.version, "source": source})
    return signal


def _locked(signal_id: int) -> Signal:
    return Signal.objects.select_for_update(no_key=True, of=("self",)).select_related("loan").get(
        pk=signal_id)


@transaction.atomic
def signal_acknowledge(*, signal_id: int, actor) -> Signal:
    """The officer has seen the signal."""
    signal = _locked(signal_id)
    transition_check(signal.acknowledge, actor=actor)
    signal.acknowledge(by=actor, at=timezone.now())
    signal.save()
    audit_loan_event(action="signal.acknowledged", actor=actor, subject=signal,
                     loan=signal.loan, payload={"code": signal.code, "level": signal.level})
    return signal


def _note_required(note: str) -> str:
    if not (note or "").strip():
        raise ValidationError({"note": _("A signal cannot be closed without a note.")})
    return note.strip()


@transaction.atomic
def signal_close(*, signal_id: int, actor, note: str) -> Signal:
    """Close with a note. Below L3 the officer closes; an L3 signal only moves to
    'close requested' and waits for a second person (§4.3)."""
    signal = _locked(signal_id)
    if signal.level >= WarningLevel.L3:
        transition_check(signal.request_close, actor=actor)
        signal.request_close(by=actor, note=_note_required(note))
        action = "signal.close_requested"
    else:
        transition_check(signal.close, actor=actor)
        signal.close(by=actor, at=timezone.now(), note=_note_required(note))
        action = "signal.closed"
    signal.save()
    audit_loan_event(action=action, actor=actor, subject=signal, loan=signal.loan,
                     payload={"code": signal.code, "level": signal.level,
                              "note": signal.close_note})
    if signal.state == SignalState.CLOSED:
        loan_warning_levels_refresh(loan_ids=[signal.loan_id])
    return signal


@transaction.atomic
def signal_close_decide(*, signal_id: int, actor, confirm: bool, note: str = "") -> Signal:
    """The second person confirms an L3 close, or refuses it with a reason."""
    signal = _locked(signal_id)
    if confirm:
        transition_check(signal.confirm_close, actor=actor)
        signal.confirm_close(by=actor, at=timezone.now())
        action = "signal.closed"
    else:
        transition_check(signal.refuse_close, actor=actor)
        if not (note or "").strip():
            raise ValidationError({"note": _("Say why the signal stays open.")})
        signal.refuse_close(by=actor, note=note.strip())
        action = "signal.close_refused"
    signal.save()
    audit_loan_event(action=action, actor=actor, subject=signal, loan=signal.loan,
                     payload={"code": signal.code, "level": signal.level, "note": note})
    loan_warning_levels_refresh(loan_ids=[signal.loan_id])
    return signal

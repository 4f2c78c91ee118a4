"""Early-warning signals (§4.3): de-duplicated per loan and code, updated on each
observation, closed with a note; an L3 close needs a second person.

`signals_apply` is the batched core used by the monthly run (many loans at once) and by
`signal_raise` (one observation from the inspections code: W17, W18)."""

import datetime as dt
import json
from dataclasses import dataclass
from typing import NamedTuple

from django.core.exceptions import ValidationError
from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection, transaction
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
from apps.policy.versioning import version_in_force


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
    """code → the rule version in force on `on` (the highest, where versions overlap)."""
    rules = version_in_force(SignalRule.objects, on=on).order_by("code", "-version")
    current: dict[str, SignalRule] = {}
    for rule in rules:
        current.setdefault(rule.code, rule)
    return current


class SignalRow(NamedTuple):
    """A signal the batch opened or updated, as plain values (see `signals_apply`)."""

    pk: int
    loan_id: int
    code: str
    level: int


def signals_apply(*, observations: list[LoanObservation], on: dt.date, actor=None,
                  rules: dict[str, SignalRule] | None = None, policy: Policy | None = None,
                  refresh_levels: bool = True, raised_before: list[tuple] = ()
                  ) -> dict[str, list]:
    """Open, update or resolve signals for these observations, then open the mandatory
    actions of every signal that opened or rose, and refresh the loans' warning levels.

    Set-based: one locking read of the open signals (values, not model instances), one
    INSERT … SELECT for the new ones, one UPDATE … FROM for the observed figures; resolves
    (the rule no longer fires) go through the state machine one by one, as they are few.
    Must run inside the caller's transaction. `refresh_levels=False`: the caller refreshes
    the warning levels itself (the monthly run does, with the floors).

    Creating a signal is not a transition: the row is inserted in the state machine's
    initial state (the FSM field's default, `open`), exactly what `Signal(...)` + save would
    write, without building a django-fsm model instance per new signal (~0.15 ms each in the
    field descriptor, most of the run's signal phase). Every later change of state (resolve
    here; acknowledge, close, confirm or refuse a close in the services) goes through the
    FSM. "opened" and "updated" are returned as `SignalRow`s.

    `raised_before`: (loan, level, signal) the caller already opened or raised (the monthly
    run's W01, computed in SQL), placed first: their actions are opened in the same batch."""
    rules = rules or signal_rules_in_force(on=on)
    now = timezone.now()
    loan_ids = {o.loan.pk for o in observations}
    codes = {o.code for o in observations}
    locked = Signal.objects.select_for_update(no_key=True).filter(
        any_of(Signal, "loan", loan_ids), code__in=codes, state__in=OPEN_SIGNAL_STATES
    ).values_list("loan_id", "code", "id", "level")
    open_signals = {(loan_id, code): (pk, level) for loan_id, code, pk, level in locked}
    opened: list[LoanObservation] = []
    updated: list[tuple[int, LoanObservation, SignalRule]] = []
    resolving: list[tuple[int, LoanObservation]] = []
    # (loan, level, SignalRow or the observation of a signal still to be inserted), in
    # observation order: a loan's first raising signal owns the action kinds it opens.
    raised: list[tuple] = list(raised_before)
    for obs in observations:
        existing = open_signals.get((obs.loan.pk, obs.code))
        if obs.level <= 0:
            if existing is not None:
                resolving.append((existing[0], obs))
            continue
        rule = rules.get(obs.code)
        if rule is None:
            continue  # no rule in force for this code: nothing may be raised
        if existing is None:
            opened.append(obs)
            raised.append((obs.loan, obs.level, obs))
            continue
        pk, level = existing
        if level < obs.level:
            raised.append((obs.loan, obs.level, SignalRow(pk, obs.loan.pk, obs.code, level)))
        updated.append((pk, obs, rule))
    resolved = _signals_resolve(resolving, now)
    inserted = _signals_insert(opened, rules, now)
    raised = [(loan, level, inserted[id(key)] if isinstance(key, LoanObservation) else key)
              for loan, level, key in raised]
    _signals_update(updated, now)
    actions = actions_open_missing(raised=raised, on=on, policy=policy, actor=actor)
    if refresh_levels:
        loan_warning_levels_refresh(loan_ids=loan_ids)
    return {"opened": [inserted[id(obs)] for obs in opened],
            "updated": [SignalRow(pk, obs.loan.pk, obs.code, obs.level)
                        for pk, obs, _rule in updated],
            "resolved": resolved, "actions": actions}


def _signals_resolve(resolving: list[tuple[int, LoanObservation]], now) -> list[Signal]:
    """Resolve signals no longer observed: a transition, so through the state machine, one
    instance each (already locked by the caller's read)."""
    if not resolving:
        return []
    signals = Signal.objects.in_bulk([pk for pk, _obs in resolving])
    resolved = []
    for pk, obs in resolving:
        signal = signals[pk]
        signal.resolve(at=now, note=_("No longer observed: %(value)s") % {
            "value": obs.observed or "-"})
        signal.save()
        resolved.append(signal)
    return resolved


def _signals_insert(opened: list[LoanObservation], rules: dict[str, SignalRule],
                    now) -> dict[int, SignalRow]:
    """One INSERT … SELECT … RETURNING for the new signals, from plain column lists (every
    other column, `state` included, takes its field default: the FSM's initial state). The
    ids come back by (loan, code), unique among open signals. Returns id(observation) →
    SignalRow."""
    if not opened:
        return {}
    rows = insert_rows(Signal, {
        "loan_id": [o.loan.pk for o in opened],
        "branch_id": [o.loan.branch_id for o in opened],
        "code": [o.code for o in opened],
        "rule_id": [rules[o.code].pk for o in opened],
        "level": [o.level for o in opened],
        "observed": [o.observed[:200] for o in opened],
        "baseline": [o.baseline[:200] for o in opened],
        "source": [o.source for o in opened],
        "details": [o.details or {} for o in opened],
        "raised_at": [now] * len(opened), "observed_at": [now] * len(opened),
        "created_at": [now] * len(opened), "updated_at": [now] * len(opened),
    }, returning=("id", "loan_id", "code"))
    ids = {(loan_id, code): pk for pk, loan_id, code in rows}
    return {id(o): SignalRow(ids[(o.loan.pk, o.code)], o.loan.pk, o.code, o.level)
            for o in opened}


def _signals_update(updated: list[tuple[int, LoanObservation, SignalRule]], now) -> None:
    """One UPDATE … FROM the chunk's rows for the observed figures of still-open signals
    (Django's bulk_update builds a CASE per row and field: seconds for a few hundred rows)."""
    if not updated:
        return
    params = {"now": connection.ops.adapt_datetimefield_value(now)}
    source = dialect.rows("u", [
        ("id", "bigint"), ("level", "int"), ("rule_id", "bigint"), ("observed", "text"),
        ("baseline", "text"), ("details", "json")], {
        "id": [pk for pk, _o, _r in updated], "level": [o.level for _p, o, _r in updated],
        "rule_id": [r.pk for _p, _o, r in updated],
        "observed": [o.observed[:200] for _p, o, _r in updated],
        "baseline": [o.baseline[:200] for _p, o, _r in updated],
        "details": [json.dumps(o.details or {}, cls=DjangoJSONEncoder)
                    for _p, o, _r in updated]}, params)
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
    signal = Signal.objects.get(pk=(result["opened"] or result["updated"])[0].pk)
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

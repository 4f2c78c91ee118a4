"""The monthly run's chunk as set-based SQL on PostgreSQL (`classify_range` calls it there;
SQLite keeps the row-by-row path in `run.py`, and `test_run_set_based.py` holds the two
equal on the same book).

Per chunk of loan ids, the database computes what the Python path computed per loan:

- W01 (days past due) signals: the level from the policy's DPD bands, one INSERT … SELECT
  for the loans without an open W01, one UPDATE … FROM for those with one (the old level
  returned, so a rise opens its actions); a W01 no longer observed is resolved through the
  state machine (a transition, and few a month);
- the floors (DPD, restructuring observation period, open signal floors, cross-default over
  each borrower's whole exposure) with their reasons as JSON, written into the loans' risk
  status with the warning level in one INSERT … ON CONFLICT;
- the system proposals: one INSERT … SELECT where the floor differs from the category in
  force (upgrades only with a clean record); a proposal the data no longer supports, or
  one a new proposal replaces, is superseded through the state machine.

Every policy value is read through `Policy` (so the versions are recorded as before) and
bound as a parameter; nothing about credit risk is written in the SQL.

Creating a signal or a proposal is not a transition: the rows are inserted in the state
machine's initial state (the FSM field's default), what `Model.objects.create` writes.
"""

import datetime as dt
import json
from typing import NamedTuple

from django.db import connection
from django.db.models import Exists, F, OuterRef
from django.utils import timezone
from django.utils.translation import gettext as _

from apps.loans.models import Loan
from apps.monitoring.bulk_rows import insert_select
from apps.monitoring.floors import NPA_CODES, OPEN_STATES
from apps.monitoring.models import Classification, Signal
from apps.monitoring.policy import K, Policy
from apps.monitoring.services.classification import unclean_loan_ids
from apps.monitoring.services.signals import SignalRow
from apps.monitoring.states import (
    CATEGORY_BY_RANK,
    OPEN_SIGNAL_STATES,
    ClassificationState,
    ProposalSource,
)

CATEGORIES = [str(CATEGORY_BY_RANK[r]) for r in sorted(CATEGORY_BY_RANK)]
OPEN_PROPOSAL = [ClassificationState.PROPOSED.value, ClassificationState.CONFIRMED.value]


class LoanKey(NamedTuple):
    """What opening an action needs of a loan."""

    pk: int
    branch_id: int
    officer_id: int


def _now():
    return connection.ops.adapt_datetimefield_value(timezone.now())


def _execute(sql: str, params: dict) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall() if cursor.description else []


# --- W01 -----------------------------------------------------------------------------------

_W01_LOANS = """
SELECT l.id, l.branch_id, l.officer_id, GREATEST(l.dpd_principal, l.dpd_interest) AS dpd,
       CASE WHEN GREATEST(l.dpd_principal, l.dpd_interest) >= %(l3)s THEN 3
            WHEN GREATEST(l.dpd_principal, l.dpd_interest) >= %(l2)s THEN 2
            WHEN GREATEST(l.dpd_principal, l.dpd_interest) >= %(l1)s THEN 1 ELSE 0 END AS level
FROM loans_loan l
WHERE l.id BETWEEN %(lo)s AND %(hi)s AND l.state = ANY(%(states)s)
"""


def w01_apply(*, first_id: int, last_id: int, policy: Policy, rule, now) -> dict:
    """W01 for the chunk's open loans. Returns opened / updated `SignalRow`s, the resolved
    signals, and `raised`: (LoanKey, level, SignalRow) for each signal opened or risen, in
    loan order (what `actions_open_missing` takes)."""
    params = {"l1": policy.integer(K.W01_L1), "l2": policy.integer(K.W01_L2),
              "l3": policy.integer(K.W01_L3), "lo": first_id, "hi": last_id,
              "states": OPEN_STATES, "open": sorted(OPEN_SIGNAL_STATES), "now": _now()}
    # Open W01 signals of the chunk, locked (a chunk is the only writer of its loans' W01,
    # but an officer may be closing one now): the old level and the new one.
    existing = _execute(f"""
    SELECT s.id, s.level, w.level, w.dpd
    FROM monitoring_signal s JOIN ({_W01_LOANS}) w ON w.id = s.loan_id
    WHERE s.loan_id BETWEEN %(lo)s AND %(hi)s AND s.code = 'W01' AND s.state = ANY(%(open)s)
    ORDER BY s.id
    FOR NO KEY UPDATE OF s
    """, params)  # noqa: S608 - constant fragments, values bound
    resolving = [(pk, dpd) for pk, _old, level, dpd in existing if level <= 0]
    resolved = []
    if resolving:
        signals = Signal.objects.in_bulk([pk for pk, _dpd in resolving])
        for pk, dpd in resolving:
            signal = signals[pk]
            signal.resolve(at=now, note=_("No longer observed: %(value)s") % {"value": str(dpd)})
            signal.save()
            resolved.append(signal)
    if rule is None:  # no W01 rule in force: nothing may be raised or updated
        return {"opened": [], "updated": [], "resolved": resolved, "raised": []}
    params.update({"rule": rule.pk, "source": _("core banking"),
                   "now_ts": connection.ops.adapt_datetimefield_value(now)})
    # Update first: the INSERT below adds open W01 rows the UPDATE must not see.
    updated = _execute(f"""
    UPDATE monitoring_signal SET level = w.level, rule_id = %(rule)s, observed = w.dpd::text,
           baseline = '0', details = jsonb_build_object('dpd', w.dpd),
           observed_at = %(now_ts)s, updated_at = %(now_ts)s
    FROM monitoring_signal old JOIN ({_W01_LOANS}) w ON w.id = old.loan_id
    WHERE monitoring_signal.id = old.id AND old.loan_id BETWEEN %(lo)s AND %(hi)s
      AND old.code = 'W01' AND old.state = ANY(%(open)s) AND w.level > 0
    RETURNING monitoring_signal.id, monitoring_signal.loan_id, old.level, w.level,
              w.branch_id, w.officer_id
    """, params)  # noqa: S608 - constant fragments, values bound
    opened = _execute(insert_select(Signal, {
        "loan_id": "w.id", "branch_id": "w.branch_id", "code": "'W01'", "rule_id": "%(rule)s",
        "level": "w.level", "observed": "w.dpd::text", "baseline": "'0'",
        "source": "%(source)s", "details": "jsonb_build_object('dpd', w.dpd)",
        "raised_at": "%(now_ts)s", "observed_at": "%(now_ts)s", "created_at": "%(now_ts)s",
        "updated_at": "%(now_ts)s"},
        f"""({_W01_LOANS}) w WHERE w.level > 0 AND NOT EXISTS (
            SELECT 1 FROM monitoring_signal s WHERE s.loan_id = w.id AND s.code = 'W01'
            AND s.state = ANY(%(open)s))""", params,  # noqa: S608 - constant fragments
        returning="id, loan_id, level"), params)
    keys = {}
    if opened:
        keys = {pk: LoanKey(pk, branch, officer) for pk, branch, officer in
                Loan.objects.filter(pk__in=[row[1] for row in opened])
                .values_list("pk", "branch_id", "officer_id")}
    raised = [(keys[loan_id], level, SignalRow(pk, loan_id, "W01", level))
              for pk, loan_id, level in opened]
    raised += [(LoanKey(loan_id, branch, officer), level, SignalRow(pk, loan_id, "W01", old))
               for pk, loan_id, old, level, branch, officer in updated if old < level]
    raised.sort(key=lambda r: r[0].pk)
    return {"opened": [SignalRow(pk, loan_id, "W01", level) for pk, loan_id, level in opened],
            "updated": [SignalRow(pk, loan_id, "W01", level)
                        for pk, loan_id, _old, level, _b, _o in updated],
            "resolved": resolved, "raised": raised}


def loans_with_other_data(first_id: int, last_id: int):
    """The chunk's open loans that have data for the signals computed in Python (parsed
    documents, months the data hub pulled about the enterprise, re-scores): the only ones
    the run builds references for."""
    from apps.datahub.selectors import monthly_records
    from apps.documents.models import DocumentCheck
    from apps.monitoring.services.run import SERIES_FIELDS
    from apps.scoring.models import ScoreResult

    documents = DocumentCheck.objects.filter(
        document__application_id=OuterRef("application_id"), kind__in=list(SERIES_FIELDS))
    pulled = monthly_records().filter(enterprise_id=OuterRef("enterprise_id"))
    scores = ScoreResult.objects.filter(application_id=OuterRef("application_id"))
    return Loan.objects.filter(pk__range=(first_id, last_id), state__in=OPEN_STATES).filter(
        Exists(documents) | Exists(pulled) | Exists(scores))


# --- floors and risk status -----------------------------------------------------------------

# The month's snapshot, written by the same statement as the risk status (`_floors_sql` with
# a run): each open loan's category in force (the upsert never changes it) and the floor just
# computed, which is what the row-by-row path's `_snapshots_insert` reads back afterwards.
# Idempotent on (as_of, loan).
_SNAPSHOT = """,
snapshot AS (
  INSERT INTO monitoring_classificationsnapshot (run_id, as_of, loan_id, branch_id,
      product_id, officer_id, vintage, category, floor, outstanding)
  SELECT %(run)s, %(as_of)s, b.id, b.branch_id, pv.product_id, b.officer_id,
         to_char(b.value_date, 'YYYY"Q"Q'), b.category,
         (%(categories)s::text[])[f.floor_rank], b.outstanding_principal
  FROM floors f JOIN base b ON b.id = f.id
  JOIN products_productversion pv ON pv.id = b.product_version_id
  ON CONFLICT (as_of, loan_id) DO NOTHING
  RETURNING 1
)"""


def _floors_sql(*, snapshot: bool = False) -> str:
    """The chunk's floors and reasons (see `apps.monitoring.floors` for the rules; the reasons
    are the same JSON, in the same order: dpd, restructured, signal, cross-default), upserted
    into the risk status with the warning level, and with `snapshot` the month's snapshot
    rows; returns the number of loans."""
    return """
WITH base AS (
  SELECT l.id, l.enterprise_id, GREATEST(l.dpd_principal, l.dpd_interest) AS dpd,
         COALESCE(rs.category, 'normal') AS category, rr.restructured_on,
         COALESCE(sg.level, 0) AS signal_level, l.branch_id, l.officer_id,
         l.product_version_id, l.value_date, l.outstanding_principal
  FROM loans_loan l
  LEFT JOIN monitoring_loanriskstatus rs ON rs.loan_id = l.id
  LEFT JOIN (SELECT loan_id, MAX(restructured_on) AS restructured_on
             FROM monitoring_loanrestructuring WHERE loan_id BETWEEN %(lo)s AND %(hi)s
             GROUP BY loan_id) rr ON rr.loan_id = l.id
  LEFT JOIN (SELECT s.loan_id, MAX(s.level) AS level FROM monitoring_signal s
             JOIN monitoring_signalrule r ON r.id = s.rule_id AND r.implies_floor
             WHERE s.loan_id BETWEEN %(lo)s AND %(hi)s AND s.state <> 'closed'
             GROUP BY s.loan_id) sg ON sg.loan_id = l.id
  WHERE l.id BETWEEN %(lo)s AND %(hi)s AND l.state = ANY(%(states)s)
),
firm_loans AS (
  SELECT l.id, l.enterprise_id, l.outstanding_principal,
         GREATEST(l.dpd_principal, l.dpd_interest) AS dpd
  FROM (SELECT DISTINCT enterprise_id FROM base) e
  CROSS JOIN LATERAL (
    SELECT l.id, l.enterprise_id, l.outstanding_principal, l.dpd_principal, l.dpd_interest
    FROM loans_loan l
    WHERE l.enterprise_id = e.enterprise_id AND l.state = ANY(%(states)s)) l
),
exposure AS (
  SELECT f.enterprise_id, SUM(f.outstanding_principal) AS total,
         SUM(CASE WHEN COALESCE(c.category, 'normal') = ANY(%(npa)s) OR f.dpd > %(sub_gt)s
                    OR (%(restr_npa)s AND rr.restructured_on IS NOT NULL
                        AND (rr.restructured_on + make_interval(months => %(months)s))::date
                            > %(as_of)s)
                    OR (COALESCE(sg.level, 0) >= 3 AND %(l3_npa)s)
                    OR (COALESCE(sg.level, 0) = 2 AND %(l2_npa)s)
                  THEN f.outstanding_principal ELSE 0 END) AS npa
  FROM firm_loans f
  LEFT JOIN monitoring_loanriskstatus c ON c.loan_id = f.id
  LEFT JOIN (SELECT loan_id, MAX(restructured_on) AS restructured_on
             FROM monitoring_loanrestructuring
             WHERE loan_id IN (SELECT id FROM firm_loans) GROUP BY loan_id) rr
         ON rr.loan_id = f.id
  LEFT JOIN (SELECT s.loan_id, MAX(s.level) AS level FROM monitoring_signal s
             JOIN monitoring_signalrule r ON r.id = s.rule_id AND r.implies_floor
             WHERE s.loan_id IN (SELECT id FROM firm_loans) AND s.state <> 'closed'
             GROUP BY s.loan_id) sg ON sg.loan_id = f.id
  GROUP BY f.enterprise_id
  HAVING COUNT(*) > 1
),
ranked AS (
  SELECT b.*,
         CASE WHEN b.dpd > %(loss_gt)s THEN 5 WHEN b.dpd > %(doubtful_gt)s THEN 4
              WHEN b.dpd > %(sub_gt)s THEN 3 WHEN b.dpd > %(sm_gt)s THEN 2 ELSE 1 END AS dpd_rank,
         CASE WHEN b.restructured_on IS NOT NULL
                   AND (b.restructured_on + make_interval(months => %(months)s))::date
                       > %(as_of)s
              THEN (b.restructured_on + make_interval(months => %(months)s))::date END
              AS restructured_until,
         CASE WHEN b.signal_level >= 3 THEN %(l3_rank)s
              WHEN b.signal_level = 2 THEN %(l2_rank)s ELSE 1 END AS signal_rank,
         CASE WHEN e.total <> 0 AND e.npa / e.total > %(share_gt)s
              THEN e.npa / e.total END AS share
  FROM base b LEFT JOIN exposure e ON e.enterprise_id = b.enterprise_id
),
floors AS (
  SELECT r.id,
         GREATEST(r.dpd_rank,
                  CASE WHEN r.restructured_until IS NOT NULL THEN %(restr_rank)s ELSE 1 END,
                  r.signal_rank, CASE WHEN r.share IS NOT NULL THEN 3 ELSE 1 END) AS floor_rank,
         CASE WHEN r.dpd_rank > 1 THEN jsonb_build_array(jsonb_build_object(
                'rule', 'dpd', 'observed', r.dpd, 'policy', %(dpd_policy)s::jsonb,
                'category', (%(categories)s::text[])[r.dpd_rank]))
              ELSE '[]'::jsonb END
         || CASE WHEN r.restructured_until IS NOT NULL AND %(restr_rank)s > 1
              THEN jsonb_build_array(jsonb_build_object(
                'rule', 'restructured', 'observed', to_char(r.restructured_on, 'YYYY-MM-DD'),
                'until', to_char(r.restructured_until, 'YYYY-MM-DD'),
                'policy', %(restr_policy)s::jsonb,
                'category', (%(categories)s::text[])[%(restr_rank)s]))
              ELSE '[]'::jsonb END
         || CASE WHEN r.signal_level >= 2 AND r.signal_rank > 1
              THEN jsonb_build_array(jsonb_build_object(
                'rule', 'signal', 'observed', LEAST(r.signal_level, 3),
                'policy', CASE WHEN r.signal_level >= 3 THEN %(l3_policy)s::jsonb
                               ELSE %(l2_policy)s::jsonb END,
                'category', (%(categories)s::text[])[r.signal_rank]))
              ELSE '[]'::jsonb END
         || CASE WHEN r.share IS NOT NULL
              THEN jsonb_build_array(jsonb_build_object(
                'rule', 'cross_default',
                'observed', (CASE WHEN r.share * 10000 - trunc(r.share * 10000) = 0.5
                                       AND mod(trunc(r.share * 10000), 2) = 0
                                  THEN round(trunc(r.share * 10000) / 10000, 4)
                                  ELSE round(r.share, 4) END)::text,
                'policy', %(share_policy)s::jsonb, 'category', 'substandard'))
              ELSE '[]'::jsonb END AS reasons
  FROM ranked r
),
written AS (
  INSERT INTO monitoring_loanriskstatus (loan_id, category, floor, floor_reasons, floor_as_of,
                                         warning_level, updated_at)
  SELECT f.id, 'normal', (%(categories)s::text[])[f.floor_rank], f.reasons, %(as_of)s,
         COALESCE(w.level, 0), %(now)s
  FROM floors f
  LEFT JOIN (SELECT loan_id, MAX(level) AS level FROM monitoring_signal
             WHERE loan_id BETWEEN %(lo)s AND %(hi)s AND state = ANY(%(open)s)
             GROUP BY loan_id) w ON w.loan_id = f.id
  ON CONFLICT (loan_id) DO UPDATE SET floor = EXCLUDED.floor,
      floor_reasons = EXCLUDED.floor_reasons, floor_as_of = EXCLUDED.floor_as_of,
      warning_level = EXCLUDED.warning_level, updated_at = EXCLUDED.updated_at
  WHERE monitoring_loanriskstatus.floor IS DISTINCT FROM EXCLUDED.floor
     OR monitoring_loanriskstatus.floor_reasons IS DISTINCT FROM EXCLUDED.floor_reasons
     OR monitoring_loanriskstatus.floor_as_of IS DISTINCT FROM EXCLUDED.floor_as_of
     OR monitoring_loanriskstatus.warning_level IS DISTINCT FROM EXCLUDED.warning_level
  RETURNING 1
)""" + (_SNAPSHOT if snapshot else "") + """
SELECT (SELECT COUNT(*) FROM base), (SELECT COUNT(*) FROM written)
"""  # noqa: S608 - constant text, values bound


def floors_upsert(*, first_id: int, last_id: int, as_of: dt.date, policy: Policy,
                  run=None) -> int:
    """Floors and risk status for the chunk, and the run's snapshot rows if a run is given
    (see `_floors_sql`); returns the loans."""
    dpd_keys = (K.FLOOR_SPECIAL_MENTION_DPD_GT, K.FLOOR_SUBSTANDARD_DPD_GT,
                K.FLOOR_DOUBTFUL_DPD_GT, K.FLOOR_LOSS_DPD_GT)
    substandard = 3
    restr_rank = policy.integer(K.RESTRUCTURED_FLOOR)
    l2_rank, l3_rank = policy.integer(K.SIGNAL_FLOOR_L2), policy.integer(K.SIGNAL_FLOOR_L3)
    params = {
        "lo": first_id, "hi": last_id, "states": OPEN_STATES, "as_of": as_of,
        "open": sorted(OPEN_SIGNAL_STATES), "npa": NPA_CODES, "now": _now(),
        "categories": CATEGORIES,
        "sm_gt": policy.integer(K.FLOOR_SPECIAL_MENTION_DPD_GT),
        "sub_gt": policy.integer(K.FLOOR_SUBSTANDARD_DPD_GT),
        "doubtful_gt": policy.integer(K.FLOOR_DOUBTFUL_DPD_GT),
        "loss_gt": policy.integer(K.FLOOR_LOSS_DPD_GT),
        "months": policy.integer(K.RESTRUCTURED_MONTHS), "restr_rank": restr_rank,
        "l2_rank": l2_rank, "l3_rank": l3_rank,
        "share_gt": policy.value(K.CROSS_DEFAULT_SHARE_GT),
        "restr_npa": restr_rank >= substandard, "l2_npa": l2_rank >= substandard,
        "l3_npa": l3_rank >= substandard,
        "dpd_policy": json.dumps(policy.versions(*dpd_keys)),
        "restr_policy": json.dumps(policy.versions(K.RESTRUCTURED_MONTHS,
                                                   K.RESTRUCTURED_FLOOR)),
        "l2_policy": json.dumps(policy.versions(K.SIGNAL_FLOOR_L2)),
        "l3_policy": json.dumps(policy.versions(K.SIGNAL_FLOOR_L3)),
        "share_policy": json.dumps(policy.versions(K.CROSS_DEFAULT_SHARE_GT)),
        "run": run.pk if run is not None else None,
    }
    ((loans, _written),) = _execute(_floors_sql(snapshot=run is not None), params)
    return loans


# --- proposals -----------------------------------------------------------------------------

_CHUNK_STATUS = """
monitoring_loanriskstatus rs JOIN loans_loan l ON l.id = rs.loan_id
WHERE rs.loan_id BETWEEN %(lo)s AND %(hi)s AND l.state = ANY(%(states)s)
"""


def proposals_write(*, first_id: int, last_id: int, as_of: dt.date, policy: Policy,
                    run) -> int:
    """System proposals where the floor differs from the category in force (see
    `run._propose`, the same rules): returns how many were made."""
    params = {"lo": first_id, "hi": last_id, "states": OPEN_STATES,
              "categories": CATEGORIES, "open_states": OPEN_PROPOSAL,
              "system": ProposalSource.SYSTEM.value}
    # A system proposal the data no longer supports (floor = category in force again) is
    # withdrawn: a transition, through the state machine.
    stale = Classification.objects.select_for_update(no_key=True, of=("self",)).filter(
        loan_id__gte=first_id, loan_id__lte=last_id, loan__state__in=OPEN_STATES,
        loan__risk_status__floor=F("loan__risk_status__category"),
        source=ProposalSource.SYSTEM, state__in=OPEN_PROPOSAL)
    for proposal in stale.order_by("pk"):
        proposal.supersede()
        proposal.save()
    wanted = _execute(f"""
    SELECT rs.loan_id,
           array_position(%(categories)s::text[], rs.floor)
             < array_position(%(categories)s::text[], rs.category) AS upgrade,
           rs.floor
    FROM {_CHUNK_STATUS} AND rs.floor <> rs.category
    """, params)  # noqa: S608 - constant fragments, values bound
    if not wanted:
        return 0
    unclean = unclean_loan_ids(loan_ids=[loan_id for loan_id, upgrade, _f in wanted if upgrade],
                               on=as_of, months=policy.integer(K.UPGRADE_CLEAN_MONTHS))
    floor_of = {loan_id: floor for loan_id, _u, floor in wanted if loan_id not in unclean}
    # Open proposals of those loans: one saying the same, or an officer's, stays; any other
    # is replaced (superseded through the state machine, then the new one inserted).
    replaced = [pk for pk, loan_id, category, source in
                Classification.objects.select_for_update(no_key=True).filter(
                    loan_id__gte=first_id, loan_id__lte=last_id, state__in=OPEN_PROPOSAL)
                .values_list("pk", "loan_id", "category", "source")
                if loan_id in floor_of and category != floor_of[loan_id]
                and source != ProposalSource.OFFICER]
    if replaced:
        for proposal in Classification.objects.filter(pk__in=replaced).order_by("pk"):
            proposal.supersede()
            proposal.save()
    versions = dict(policy.used)
    reasons = {category: _("Monthly run: rule floor %(floor)s.") % {"floor": category}
               for category in {floor for floor in floor_of.values()}}
    params.update({"unclean": sorted(unclean), "run": run.pk if run is not None else None,
                   "versions": json.dumps(versions), "reasons": json.dumps(reasons),
                   "now_ts": _now()})
    sql = insert_select(Classification, {
        "loan_id": "rs.loan_id", "branch_id": "l.branch_id", "category": "rs.floor",
        "previous_category": "rs.category", "floor": "rs.floor",
        "floor_reasons": "rs.floor_reasons",
        "is_upgrade": "array_position(%(categories)s::text[], rs.floor) "
                      "< array_position(%(categories)s::text[], rs.category)",
        "source": "%(system)s", "run_id": "CAST(%(run)s AS bigint)",
        "reason": "(%(reasons)s::jsonb ->> rs.floor)", "policy_versions": "%(versions)s::jsonb",
        "created_at": "%(now_ts)s", "updated_at": "%(now_ts)s"},
        f"""{_CHUNK_STATUS} AND rs.floor <> rs.category
        AND NOT (rs.loan_id = ANY(%(unclean)s))
        AND NOT EXISTS (SELECT 1 FROM monitoring_classification c WHERE c.loan_id = rs.loan_id
                        AND c.state = ANY(%(open_states)s))""", params)  # noqa: S608 - constant
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.rowcount

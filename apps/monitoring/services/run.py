"""The monthly classification and signal run (§5.3): Celery beat fires one sweep; the sweep
records a run for the as-of day and enqueues one task per chunk of loan ids; each chunk does
set-based work: signals from the data Credence has (W01 DPD, W03/W07/W08 tax and utility
series from documents and from the data hub's pulled months, W09 inflows, score
deterioration), the rule floors, the loans' risk status, the proposals where the floor
differs from the category in force, and the month's snapshot.

Chunks are idempotent (a done chunk is a no-op; every write is an upsert or guarded by a
unique key), so the reconciler may re-send a chunk whose message was lost.
"""

import datetime as dt
import time
from collections import defaultdict
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from django.db import connection, transaction
from django.db.models import Max, Min
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext as _

from apps.audit.services import audit_record
from apps.core.queue import enqueue_on_commit
from apps.core.task_names import TaskName
from apps.loans.models import Loan
from apps.monitoring import dialect
from apps.monitoring import evaluators as ev
from apps.monitoring.bulk_rows import insert_rows
from apps.monitoring.floors import OPEN_STATES, loan_floors
from apps.monitoring.models import (
    Classification,
    ClassificationRun,
    ClassificationRunChunk,
    LoanRestructuring,
    Signal,
)
from apps.monitoring.policy import K, Policy
from apps.monitoring.services.classification import unclean_loan_ids
from apps.monitoring.services.signals import (
    LoanObservation,
    signal_rules_in_force,
    signals_apply,
)
from apps.monitoring.sql import any_of
from apps.monitoring.states import (
    OPEN_SIGNAL_STATES,
    ChunkState,
    ClassificationState,
    ProposalSource,
    RunState,
    rank,
)


def month_end(day: dt.date) -> dt.date:
    """The last day of the month before `day`: what a run at the start of a month classifies."""
    return day.replace(day=1) - dt.timedelta(days=1)


@transaction.atomic
def classification_run_start(*, as_of: dt.date | None = None) -> ClassificationRun:
    """Record the run for `as_of` (default: the end of last month) and enqueue its chunks.
    A second call for the same day returns the existing run (beat may fire twice)."""
    as_of = as_of or month_end(timezone.localdate())
    run, created = ClassificationRun.objects.get_or_create(as_of=as_of)
    if not created:
        return run
    policy = Policy(on=as_of)
    size = policy.integer(K.RUN_CHUNK_SIZE)
    chunks = [ClassificationRunChunk(run=run, first_loan_id=first, last_loan_id=last,
                                     loans=loans)
              for first, last, loans in _chunk_bounds(size)]
    ClassificationRunChunk.objects.bulk_create(chunks)
    run.chunks_total = len(chunks)
    run.loans_total = sum(c.loans for c in chunks)
    run.policy_versions = policy.versions(K.RUN_CHUNK_SIZE)
    if not chunks:
        run.state, run.finished_at = RunState.DONE, timezone.now()
    run.save()
    audit_record(action="classification_run.started", actor=None, subject=run,
                 payload={"as_of": str(as_of), "chunks": len(chunks), "loans": run.loans_total})
    for chunk in run.chunks.all():
        enqueue_on_commit(TaskName.MONITORING_CLASSIFY_CHUNK, chunk_id=chunk.pk)
    return run


def _chunk_bounds(size: int) -> list[tuple[int, int, int]]:
    """(first id, last id, loans) of each run of `size` consecutive open loans, in id order,
    numbered by the database: one row per chunk comes back, not one per loan (streaming
    20,000 ids through a server cursor was a tenth of a no-change run)."""
    sql = f"""
    SELECT MIN(id), MAX(id), COUNT(*)
    FROM (SELECT id, (ROW_NUMBER() OVER (ORDER BY id) - 1) / %(size)s AS chunk
          FROM loans_loan WHERE {dialect.in_ids("state", "states")}) numbered
    GROUP BY chunk ORDER BY chunk
    """  # noqa: S608 - fragments from apps.monitoring.dialect, values bound
    with connection.cursor() as cursor:
        cursor.execute(sql, {"size": size, "states": dialect.id_list(OPEN_STATES)})
        return cursor.fetchall()


def classification_chunks_reconcile(*, now: dt.datetime | None = None) -> int:
    """Re-send chunks still pending after the policy's minutes (a lost message)."""
    now = now or timezone.now()
    minutes = Policy(on=now.date()).integer(K.RUN_CHUNK_STUCK_MINUTES)
    stuck = list(ClassificationRunChunk.objects.filter(
        state=ChunkState.PENDING, updated_at__lt=now - dt.timedelta(minutes=minutes))
        .values_list("pk", flat=True))
    for chunk_id in stuck:
        with transaction.atomic():
            ClassificationRunChunk.objects.filter(pk=chunk_id).update(updated_at=now)
            enqueue_on_commit(TaskName.MONITORING_CLASSIFY_CHUNK, chunk_id=chunk_id)
    return len(stuck)


def classification_chunk_fail(*, chunk_id: int, error: str) -> None:
    """A chunk that raised: visible as failed on its run, re-runnable by hand or sweep."""
    with transaction.atomic():
        chunk = ClassificationRunChunk.objects.select_for_update(no_key=True).get(pk=chunk_id)
        chunk.state, chunk.error = ChunkState.FAILED, error[:2000]
        chunk.save(update_fields=["state", "error", "updated_at"])
        ClassificationRun.objects.filter(pk=chunk.run_id).update(state=RunState.FAILED)


@transaction.atomic
def classification_chunk_run(*, chunk_id: int) -> dict:
    """Classify one chunk of loans (see module docstring); returns the counts."""
    chunk = (ClassificationRunChunk.objects.select_for_update(no_key=True, of=("self",))
             .select_related("run").get(pk=chunk_id))
    if chunk.state == ChunkState.DONE:
        return chunk.counts
    _commit_without_flush_wait()
    chunk.attempts += 1
    run = chunk.run
    counts = classify_range(first_id=chunk.first_loan_id, last_id=chunk.last_loan_id,
                            as_of=run.as_of, run=run)
    chunk.state, chunk.counts, chunk.error = ChunkState.DONE, counts, ""
    chunk.save()
    audit_record(action="classification_run.chunk_done", actor=None, subject=chunk,
                 payload={"as_of": str(run.as_of), "first": chunk.first_loan_id,
                          "last": chunk.last_loan_id, **counts})
    if not run.chunks.exclude(state=ChunkState.DONE).exists():
        ClassificationRun.objects.filter(pk=run.pk).update(state=RunState.DONE,
                                                           finished_at=timezone.now())
    return counts


def _commit_without_flush_wait() -> None:
    """The chunk's commit does not wait for its WAL to reach disk (PostgreSQL's asynchronous
    commit, for this transaction only): a chunk writes thousands of rows, and on a busy disk
    the flush at commit was about a quarter of a chunk's time. Nothing is lost that the run
    cannot redo: a crash can only drop the latest commits, each whole (a chunk's rows, its
    audit events and its done state together, never a hole in the audit chain, as any later
    ordinary commit flushes the log up to itself), and a dropped chunk is pending again, which
    the reconciler re-sends (`classification_chunks_reconcile`; chunks are idempotent)."""
    if dialect.is_postgres():
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL synchronous_commit TO OFF")


# Seconds spent in each phase of `classify_range`, summed over this process's chunks: the
# benchmark prints them (it resets the dict before a run) so a slow phase is visible.
PHASE_SECONDS: dict[str, float] = defaultdict(float)


@contextmanager
def _phase(name: str):
    started = time.perf_counter()
    try:
        yield
    finally:
        PHASE_SECONDS[name] += time.perf_counter() - started


def classify_range(*, first_id: int, last_id: int, as_of: dt.date,
                   run: ClassificationRun | None = None, in_sql: bool | None = None) -> dict:
    """The work for loan ids [first_id, last_id]; inside the caller's transaction. On
    PostgreSQL the database computes W01, floors, risk status and proposals
    (`run_set`); `in_sql=False` (and SQLite) takes the row-by-row path below, which gives
    the same rows."""
    if in_sql is None:
        in_sql = dialect.is_postgres()
    if in_sql:
        return _classify_range_in_sql(first_id=first_id, last_id=last_id, as_of=as_of, run=run)
    policy = Policy(on=as_of)
    with _phase("restructurings"):
        _record_restructurings(first_id, last_id, as_of)
    with _phase("loans"):
        stubs = _loan_stubs(first_id, last_id)
        rules = signal_rules_in_force(on=as_of)
    with _phase("observations"):
        observations = _observations(stubs, as_of=as_of, policy=policy,
                                     w01_open=_open_w01(first_id, last_id))
    with _phase("signals"):
        # Warning levels are refreshed below for the whole chunk, with the floors.
        signals = signals_apply(observations=observations, on=as_of, rules=rules,
                                policy=policy, refresh_levels=False)
    with _phase("floors"):
        floors = loan_floors(first_id=first_id, last_id=last_id, as_of=as_of, policy=policy)
    with _phase("risk_status"):
        _risk_status_upsert(floors, as_of, first_id=first_id, last_id=last_id)
    with _phase("proposals"):
        proposals = _propose(floors, stubs, as_of=as_of, policy=policy, run=run)
    if run is not None:
        with _phase("snapshot"):
            _snapshots_insert(run=run, as_of=as_of, first_id=first_id, last_id=last_id)
    return {"loans": len(floors), "signals_opened": len(signals["opened"]),
            "signals_updated": len(signals["updated"]),
            "signals_resolved": len(signals["resolved"]),
            "actions_opened": len(signals["actions"]), "proposals": proposals,
            "policy": dict(policy.used),
            "rules": {code: rule.version for code, rule in rules.items()}}


def _classify_range_in_sql(*, first_id: int, last_id: int, as_of: dt.date,
                           run: ClassificationRun | None) -> dict:
    """`classify_range` on PostgreSQL: see `apps.monitoring.services.run_set`."""
    from apps.monitoring.services import run_set

    policy = Policy(on=as_of)
    with _phase("restructurings"):
        _record_restructurings(first_id, last_id, as_of)
    with _phase("loans"):
        rules = signal_rules_in_force(on=as_of)
        # References only for loans with documents or re-scores (W01 needs none).
        stubs = _loan_stubs(first_id, last_id,
                            run_set.loans_with_other_data(first_id, last_id))
    with _phase("signals"):
        w01 = run_set.w01_apply(first_id=first_id, last_id=last_id, policy=policy,
                                rule=rules.get("W01"), now=timezone.now())
        signals = signals_apply(observations=_data_observations(stubs, policy=policy),
                                on=as_of, rules=rules, policy=policy, refresh_levels=False,
                                raised_before=w01["raised"])
    # One statement: floors, risk status and (for a run) the month's snapshot.
    with _phase("floors, risk status and snapshot"):
        loans = run_set.floors_upsert(first_id=first_id, last_id=last_id, as_of=as_of,
                                      policy=policy, run=run)
    with _phase("proposals"):
        proposals = run_set.proposals_write(first_id=first_id, last_id=last_id, as_of=as_of,
                                            policy=policy, run=run) if loans else 0
    return {"loans": loans, "signals_opened": len(w01["opened"]) + len(signals["opened"]),
            "signals_updated": len(w01["updated"]) + len(signals["updated"]),
            "signals_resolved": len(w01["resolved"]) + len(signals["resolved"]),
            "actions_opened": len(signals["actions"]), "proposals": proposals,
            "policy": dict(policy.used),
            "rules": {code: rule.version for code, rule in rules.items()}}


@dataclass
class LoanRef:
    """The loan fields signals and actions need, without building model instances."""

    pk: int
    loan_number: str
    branch_id: int
    officer_id: int
    application_id: int
    enterprise_id: int
    value_date: dt.date
    dpd_principal: int
    dpd_interest: int
    decided_at: dt.datetime | None


def _loan_stubs(first_id: int, last_id: int, loans=None) -> dict[int, LoanRef]:
    """Light references to the chunk's open loans (or to those of `loans`), one query."""
    if loans is None:
        loans = Loan.objects.filter(pk__range=(first_id, last_id), state__in=OPEN_STATES)
    rows = (loans.values_list("id", "loan_number", "branch_id", "officer_id", "application_id",
                         "enterprise_id", "value_date", "dpd_principal", "dpd_interest",
                         "application__decided_at"))
    return {row[0]: LoanRef(*row) for row in rows}


def _risk_status_upsert(floors, as_of: dt.date, *, first_id: int, last_id: int) -> None:
    """Floors, reasons and warning levels (the highest open signal level, §4.4) into each
    loan's risk status: one INSERT … ON CONFLICT for the chunk, writing only rows that
    differ (a re-sent chunk writes nothing; a month's run writes each row once, not once
    for the level and again for the floor)."""
    if not floors:
        return
    params = {"as_of": as_of, "now": _now_param(), "lo": first_id, "hi": last_id,
              "open": dialect.id_list(sorted(OPEN_SIGNAL_STATES))}
    # The reasons nested in the one JSON parameter (`jsonobj`), not serialised per loan.
    source = dialect.rows("u", [("loan_id", "bigint"), ("floor", "text"),
                                ("reasons", "jsonobj")],
                          {"loan_id": [f.loan_id for f in floors],
                           "floor": [f.floor for f in floors],
                           "reasons": [f.reasons for f in floors]}, params)
    rs = "monitoring_loanriskstatus"
    changed = " OR ".join(dialect.distinct(f"{rs}.{column}", f"EXCLUDED.{column}")
                          for column in ("floor", "floor_reasons", "floor_as_of",
                                         "warning_level"))
    # `WHERE true` lets SQLite tell the SELECT's end from the ON CONFLICT clause.
    sql = f"""
    INSERT INTO {rs} (loan_id, category, floor, floor_reasons, floor_as_of, warning_level,
                      updated_at)
    SELECT u.loan_id, 'normal', u.floor, {dialect.json_value("u.reasons")}, %(as_of)s,
           COALESCE(w.level, 0), %(now)s
    FROM {source}
    LEFT JOIN (SELECT loan_id, MAX(level) AS level FROM monitoring_signal
               WHERE loan_id BETWEEN %(lo)s AND %(hi)s AND {dialect.in_ids("state", "open")}
               GROUP BY loan_id) w ON w.loan_id = u.loan_id
    WHERE true
    ON CONFLICT (loan_id) DO UPDATE SET floor = EXCLUDED.floor,
        floor_reasons = EXCLUDED.floor_reasons, floor_as_of = EXCLUDED.floor_as_of,
        warning_level = EXCLUDED.warning_level, updated_at = EXCLUDED.updated_at
    WHERE {changed}
    """  # noqa: S608 - fragments from apps.monitoring.dialect, values bound
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


def _now_param():
    """Now, as the database's datetime columns store it (SQLite: naive UTC text)."""
    return connection.ops.adapt_datetimefield_value(timezone.now())


def _snapshots_insert(*, run, as_of: dt.date, first_id: int, last_id: int) -> None:
    """The month's snapshot rows, idempotent on (as_of, loan): one INSERT … SELECT from the
    chunk's open loans and the risk status just written (category in force and floor)."""
    params = {"run": run.pk, "as_of": as_of, "lo": first_id, "hi": last_id,
              "states": dialect.id_list(OPEN_STATES)}
    sql = f"""
    INSERT INTO monitoring_classificationsnapshot (run_id, as_of, loan_id, branch_id,
        product_id, officer_id, vintage, category, floor, outstanding)
    SELECT %(run)s, %(as_of)s, l.id, l.branch_id, pv.product_id, l.officer_id,
           {dialect.quarter_label("l.value_date")}, rs.category, rs.floor,
           l.outstanding_principal
    FROM loans_loan l
    JOIN products_productversion pv ON pv.id = l.product_version_id
    JOIN monitoring_loanriskstatus rs ON rs.loan_id = l.id
    WHERE l.id BETWEEN %(lo)s AND %(hi)s AND {dialect.in_ids("l.state", "states")}
    ON CONFLICT (as_of, loan_id) DO NOTHING
    """  # noqa: S608 - fragments from apps.monitoring.dialect, values bound
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


def _record_restructurings(first_id: int, last_id: int, as_of: dt.date) -> None:
    """Every restructuring the loan book holds gets a row dated with its own day (the first
    day in force of each later schedule version: a second restructuring is a second row),
    catching any the restructure's own task did not record. A restructured loan with no
    later schedule version (booked before versions had a first day) is dated from the loan's
    audit trail in local business time, else this run's day (the observation period then
    starts late, never early)."""
    from apps.monitoring.services.classification import restructuring_days

    in_range = Loan.objects.filter(pk__range=(first_id, last_id))
    known = restructuring_days(in_range.values("pk"))
    LoanRestructuring.objects.bulk_create([
        LoanRestructuring(loan_id=loan_id, restructured_on=day, source="loan book")
        for loan_id, day in sorted(known) if day <= as_of], ignore_conflicts=True)
    missing = list(in_range.filter(state="restructured")
                   .exclude(restructurings__isnull=False).values_list("pk", flat=True))
    if not missing:
        return
    from apps.audit.models import AuditEvent

    seen = dict(AuditEvent.objects.filter(
        subject_type="loans.loan", subject_id__in=[str(i) for i in missing],
        action="loan.restructured").values("subject_id").annotate(
        at=Max("occurred_at")).values_list("subject_id", "at"))
    LoanRestructuring.objects.bulk_create([LoanRestructuring(
        loan_id=i, restructured_on=(timezone.localdate(seen[str(i)]) if str(i) in seen
                                    else as_of),
        source="audit trail" if str(i) in seen else "first seen by the monthly run")
        for i in missing], ignore_conflicts=True)


def _open_w01(first_id: int, last_id: int) -> set[int]:
    """Loans of the range with an open W01 signal (it may have to be resolved)."""
    return set(Signal.objects.filter(loan_id__gte=first_id, loan_id__lte=last_id, code="W01",
                                     state__in=OPEN_SIGNAL_STATES)
               .values_list("loan_id", flat=True))


def _observations(stubs: dict[int, LoanRef], *, as_of, policy,
                  w01_open: set[int]) -> list[LoanObservation]:
    observations = []
    source = _("core banking")  # translated once per chunk, not per loan
    # W01 is evaluated only where it can say something: DPD at or above its lowest band
    # (it fires) or an open W01 signal (it may resolve). Below the band with nothing open,
    # the evaluator's level 0 would change nothing. The thresholds are read here for every
    # chunk, so the policy versions a chunk records do not depend on its loans.
    lowest = min(policy.integer(key) for key in (K.W01_L1, K.W01_L2, K.W01_L3))
    for loan in stubs.values():
        dpd = max(loan.dpd_principal, loan.dpd_interest)
        if dpd < lowest and loan.pk not in w01_open:
            continue
        o = ev.w01_overdue(dpd, policy)
        observations.append(LoanObservation(loan, o.code, o.level, o.observed, o.baseline,
                                            source, o.details))
    return observations + _data_observations(stubs, policy=policy)


def _data_observations(stubs: dict[int, LoanRef], *, policy) -> list[LoanObservation]:
    """The signals from monthly series (W03, W07, W08, W09: parsed documents and the months
    the data hub pulled) and re-scores (W23)."""
    from apps.monitoring.external_signals import series_observations

    observations = []
    by_app = {loan.application_id: loan for loan in stubs.values()}
    # Translated once per chunk, not per loan: (uploaded, pulled) for each series.
    sources = {"W03": (_("tax records"), _("tax records")),
               "W07": (_("tax records"), _("tax bureau data pulled by the data hub")),
               "W08": (_("utility records"), _("utility data pulled by the data hub")),
               "W09": (_("bank statements"), _("bank statements"))}
    for app_id, timed in monthly_series(by_app).items():
        loan = by_app[app_id]
        series = {name: {month: value for month, (_at, value, _o) in months.items()}
                  for name, months in timed.items()}
        found = []
        if series.get("revenue"):
            found.append(ev.w03_revenue_decline(series["revenue"], policy))
        if series.get("tax_paid"):
            found.append(ev.w07_tax_drop(series["tax_paid"], policy))
        utility = {name: series[name] for name in ("kwh", "water_m3") if series.get(name)}
        if utility:
            # Electricity and water: the one that fires (the first read when neither does).
            found.append(series_observations("W08", utility, policy=policy)[0])
        if series.get("in"):
            found.append(ev.w09_inflows_fall(series["in"], policy=policy,
                                             loan_month=loan.value_date.strftime("%Y-%m")))
        for o in found:
            field = o.details.get("field") or {"W03": "revenue", "W07": "tax_paid",
                                               "W09": "in"}[o.code]
            pulled = _newest_origin(timed[field]) == PULLED
            observations.append(LoanObservation(loan, o.code, o.level, o.observed, o.baseline,
                                                sources[o.code][pulled], o.details))
    for app_id, (decision, latest) in _score_pairs(by_app).items():
        o = ev.w23_score_drop(at_decision=decision, latest=latest, policy=policy)
        observations.append(LoanObservation(by_app[app_id], o.code, o.level, o.observed,
                                            o.baseline, _("re-scoring"), o.details))
    return observations


SERIES_FIELDS = {"tax_record": ("revenue", "tax_paid"), "utility_bill": ("kwh",),
                 "bank_statement": ("in",)}
# The data hub's monthly figures the run reads: tax paid (W07), electricity and water (W08).
PULLED_FIELDS = ("tax_paid", "kwh", "water_m3")
UPLOADED, PULLED = "document", "data hub"

# {application: {figure: {"YYYY-MM": (as of, value, origin)}}}
TimedSeries = dict[int, dict[str, dict[str, tuple[dt.datetime, Decimal, str]]]]


def _newest_origin(months: dict[str, tuple]) -> str:
    """Where the newest month of a series came from."""
    return months[max(months)][2]


def monthly_series(by_app: dict[int, LoanRef]) -> TimedSeries:
    """Each loan's monthly series: the months parsed from its application's documents and the
    months the data hub pulled about its enterprise, the later of the two winning a month (a
    document as of its check's end, a pull as of its fetch), so a signal raised from pulled
    data is read again from the same months by the next run, and resolved only when the
    newest data, pulled or uploaded, no longer shows it."""
    from apps.datahub.selectors import pulled_months

    series = _document_series(list(by_app))
    pulled = pulled_months(enterprise_ids={loan.enterprise_id for loan in by_app.values()})
    for app_id, loan in by_app.items():
        for name, months in pulled.get(loan.enterprise_id, {}).items():
            if name not in PULLED_FIELDS:
                continue
            mine = series[app_id][name]
            for month, (at, value) in months.items():
                if month not in mine or mine[month][0] <= at:
                    mine[month] = (at, value, PULLED)
    return {app_id: figures for app_id, figures in series.items()
            if any(figures.values())}


def _document_series(application_ids: list[int]) -> TimedSeries:
    """Monthly series parsed from the loans' documents (later documents win a month)."""
    from apps.documents.models import Document, DocumentCheck

    checks = (DocumentCheck.objects.filter(
        document__in=Document.objects.filter(any_of(Document, "application", application_ids)),
        kind__in=list(SERIES_FIELDS),
        status__in=["passed", "attention", "failed"])
        .annotate(at=Coalesce("finished_at", "created_at"))
        .order_by("at", "pk").values_list("document__application_id", "kind", "findings",
                                          "at"))
    series: TimedSeries = defaultdict(lambda: defaultdict(dict))
    for app_id, kind, findings, at in checks.iterator(chunk_size=2000):
        for month, values in (findings or {}).get("monthly", {}).items():
            for name in SERIES_FIELDS[kind]:
                try:
                    series[app_id][name][month] = (at, Decimal(str(values[name])), UPLOADED)
                except (KeyError, InvalidOperation, TypeError):
                    continue
    return series


def _score_pairs(by_app: dict[int, LoanRef]) -> dict[int, tuple[float, float]]:
    """(score at decision, latest score) for applications re-scored after their decision."""
    from apps.scoring.models import ScoreResult

    rescored = (ScoreResult.objects.filter(any_of(ScoreResult, "application", by_app))
                .values("application_id").annotate(first=Min("created_at"),
                                                   last=Max("created_at"))
                .values_list("application_id", "first", "last"))
    candidates = [a for a, first, last in rescored if first != last]
    pairs = {}
    if not candidates:
        return pairs
    results = defaultdict(list)
    scores = (ScoreResult.objects.filter(any_of(ScoreResult, "application", candidates))
              .order_by("created_at", "pk").values_list("application_id", "score", "created_at"))
    for app_id, score, created in scores:
        results[app_id].append((created, score))
    for app_id, rows in results.items():
        decided = by_app[app_id].decided_at
        before = [s for c, s in rows if decided is None or c <= decided]
        after = [s for c, s in rows if decided is not None and c > decided]
        if before and after:
            pairs[app_id] = (before[-1], after[-1])
    return pairs


def _propose(floors, stubs, *, as_of, policy, run) -> int:
    """System proposals where the floor differs from the category in force: downgrades
    always; upgrades only with a clean record. A loan whose open proposal already says the
    same keeps it; an officer's open proposal is left to the reviewer."""
    wanted = {f.loan_id: f for f in floors if f.floor_rank != rank(f.category)}
    settled = [f.loan_id for f in floors if f.floor_rank == rank(f.category)]
    # A system proposal the data no longer supports (arrears repaid) is withdrawn.
    for stale in Classification.objects.select_for_update(no_key=True).filter(
            any_of(Classification, "loan", settled), source=ProposalSource.SYSTEM,
            state__in=[ClassificationState.PROPOSED, ClassificationState.CONFIRMED]):
        stale.supersede()
        stale.save()
    if not wanted:
        return 0
    upgrades = [i for i, f in wanted.items() if f.floor_rank < rank(f.category)]
    unclean = unclean_loan_ids(loan_ids=upgrades, on=as_of,
                               months=policy.integer(K.UPGRADE_CLEAN_MONTHS))
    # The open proposals as values (locked); only those replaced become model instances, to
    # go through the state machine's `supersede`.
    open_ones = {loan_id: (pk, category, source) for pk, loan_id, category, source in
                 Classification.objects.select_for_update(no_key=True).filter(
                     any_of(Classification, "loan", wanted),
                     state__in=[ClassificationState.PROPOSED, ClassificationState.CONFIRMED])
                 .values_list("pk", "loan_id", "category", "source")}
    new: dict[str, list] = {name: [] for name in (
        "loan_id", "branch_id", "category", "previous_category", "floor", "floor_reasons",
        "is_upgrade", "source", "run_id", "reason", "policy_versions")}
    versions = dict(policy.used)
    reasons: dict[str, str] = {}  # translated once per floor, not per proposal
    replaced: list[int] = []
    for loan_id, f in wanted.items():
        if loan_id in unclean:
            continue
        current = open_ones.get(loan_id)
        if current is not None:
            _pk, category, source = current
            if category == f.floor or source == ProposalSource.OFFICER:
                continue
            replaced.append(current[0])
        floor = f.floor
        if floor not in reasons:
            reasons[floor] = _("Monthly run: rule floor %(floor)s.") % {"floor": floor}
        for name, value in (
                ("loan_id", loan_id), ("branch_id", f.branch_id), ("category", floor),
                ("previous_category", f.category), ("floor", floor),
                ("floor_reasons", f.reasons), ("is_upgrade", f.floor_rank < rank(f.category)),
                ("source", ProposalSource.SYSTEM.value),
                ("run_id", run.pk if run is not None else None),
                ("reason", reasons[floor]), ("policy_versions", versions)):
            new[name].append(value)
    if replaced:
        instances = Classification.objects.in_bulk(replaced)
        for pk in replaced:
            instances[pk].supersede()
            instances[pk].save()
    # One INSERT for the chunk's proposals (bulk_create cost ~1 ms a row here).
    insert_rows(Classification, new)
    return len(new["loan_id"])


def dpd_floor_counts_sql(*, as_of: dt.date) -> dict[str, int]:
    """The plain-SQL baseline the benchmark compares against: DPD floors of the open book,
    counted per category, with the policy thresholds in force (no signals, no writes)."""
    policy = Policy(on=as_of)
    sql = f"""
    SELECT CASE WHEN d > %(loss)s THEN 'loss' WHEN d > %(doubtful)s THEN 'doubtful'
                WHEN d > %(sub)s THEN 'substandard' WHEN d > %(sm)s THEN 'special_mention'
                ELSE 'normal' END AS floor, COUNT(*)
    FROM (SELECT {dialect.greatest("dpd_principal", "dpd_interest")} AS d FROM loans_loan
          WHERE {dialect.in_ids("state", "states")}) x GROUP BY 1
    """  # noqa: S608 - fragments from apps.monitoring.dialect, values bound
    with connection.cursor() as cursor:
        cursor.execute(sql, {"loss": policy.integer(K.FLOOR_LOSS_DPD_GT),
                             "doubtful": policy.integer(K.FLOOR_DOUBTFUL_DPD_GT),
                             "sub": policy.integer(K.FLOOR_SUBSTANDARD_DPD_GT),
                             "sm": policy.integer(K.FLOOR_SPECIAL_MENTION_DPD_GT),
                             "states": dialect.id_list(OPEN_STATES)})
        return dict(cursor.fetchall())

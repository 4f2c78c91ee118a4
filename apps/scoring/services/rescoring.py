"""Portfolio re-scoring: one Celery job walks every scored application in chunks (never one
task per loan, CONVENTIONS §8), scoring each chunk's stored feature snapshots with the chosen
model in arrays and writing the results in bulk.

Audit granularity: one `score.rescored_chunk` event per chunk, with the application ids and
counts, not one per result. A hash-chained audit insert runs at ~1,600/s here (CONVENTIONS
§8), so per-result events would make 100,000 re-scores take a minute of audit alone; the chunk
event names every application, and each ScoreResult row carries its job, model version, input
hash and policy version, so a single score is still fully traceable.

Only the champion writes decision scores (`ScoreResult`). A job run with any other version (a
draft or a validated challenger) writes shadow scores (`ShadowScore`), which nothing that
decides ever reads; they feed the challenger's agreement report on the model page.

Idempotent like single scoring: results are unique per (application, model version, input
hash) and inserted with "on conflict do nothing", so a re-run or a redelivered job only fills
what is missing. Progress (done / total) is written after each chunk for the job page.
"""

from __future__ import annotations

import gc
import json
import logging
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager, nullcontext
from decimal import Decimal

import numpy as np
import psycopg
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, close_old_connections, connection, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from apps.audit.services import audit_record
from apps.core.queue import enqueue_on_commit
from apps.core.task_names import TaskName
from apps.scoring.features.assemble import records_to_columns
from apps.scoring.models import (
    RESCORING_CHUNK,
    FeatureSnapshot,
    ModelVersion,
    RescoringJob,
    ScoreResult,
    ShadowScore,
)
from apps.scoring.permissions import may_manage_models
from apps.scoring.policy import _STRICTNESS, grade_codes, knockout_matrix, suggested_limit
from apps.scoring.scorecard.batch import predict_arrays
from apps.scoring.scorecard.binning import NUMERIC
from apps.scoring.scorecard.model import Scorecard
from apps.scoring.services import bulk
from apps.scoring.services.registry import champion_ensure, decision_policy_ensure, model_of
from apps.scoring.states import ModelVersionState, RescoringJobState, ScoreTrigger

logger = logging.getLogger(__name__)
DEFAULT_CHUNK = RESCORING_CHUNK  # models.py says why 1,000


@transaction.atomic
def rescoring_start(*, actor, model_version_id: int | None = None,
                    chunk_size: int = DEFAULT_CHUNK) -> RescoringJob:
    """Queue a re-scoring of the portfolio with a model version (default: the champion).
    The champion writes decision scores; any other version writes shadow scores.

    Single flight (services/bulk.py): while a re-score is queued or running, a request for the
    same version joins it (that job comes back with `joined = True`, nothing new starts) and
    one for another version is refused (409); a new job counts against the person's limit
    (429)."""
    if not may_manage_models(actor):
        raise PermissionDenied(_("You may not start a re-scoring."))
    version = (ModelVersion.objects.filter(pk=model_version_id).first() if model_version_id
               else champion_ensure())
    if version is None or version.state == ModelVersionState.RETIRED:
        raise ValidationError({"model_version": _("Choose the champion or a model that is not "
                                                  "retired.")})
    bulk.rescoring_single_flight_lock()
    active = bulk.rescoring_active()
    if active is not None:
        if active.model_version_id != version.pk:
            raise bulk.RescoringBusy(_(
                "Re-scoring #%(job)s with %(version)s is already running; wait until it ends.")
                % {"job": active.pk, "version": active.model_version.version})
        audit_record(action="score.rescoring_joined", actor=actor, subject=active,
                     payload={"model_version": version.version})
        active.joined = True
        return active
    bulk.rescoring_rate_check(actor=actor)
    job = RescoringJob.objects.create(model_version=version, requested_by=actor,
                                      chunk_size=max(1, min(chunk_size, 20_000)))
    audit_record(action="score.rescoring_started", actor=actor, subject=job,
                 payload={"model_version": version.version, "chunk_size": job.chunk_size,
                          "shadow": version.state != ModelVersionState.CHAMPION})
    enqueue_on_commit(TaskName.SCORING_RESCORE, job_id=job.pk)
    job.joined = False
    return job


def _portfolio_snapshot_ids() -> list[int]:
    """The latest feature snapshot of every application ever scored, in id order: sorted by
    the database and read as plain rows (no queryset machinery per id; SQL both databases
    read)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT MAX(id) FROM scoring_featuresnapshot GROUP BY application_id "
                       "ORDER BY 1")
        return [row[0] for row in cursor.fetchall()]


class _ReasonText:
    """Reason codes per (feature, bin), built once as dicts and as JSON text: every row of a
    scorecard picks from the same few dozen, so no row builds or encodes its own."""

    def __init__(self, model):
        self.model, self.cache, self.text, self.copied = model, {}, {}, {}
        if isinstance(model, Scorecard):
            table = model.points_table()
            for j, f in enumerate(model.features):
                best = max(table[f])
                for b, (bin_, points) in enumerate(zip(model.binnings[f].bins, table[f],
                                                       strict=True)):
                    self.cache[(j, b)] = {"feature": f, "attribute": bin_.label,
                                          "points": points, "shortfall": best - points}
        for j, f in enumerate(model.features):
            self.cache.setdefault((j, -1), {"feature": f})
        self.text = {key: json.dumps(value) for key, value in self.cache.items()}

    def row(self, features, bins) -> list[dict]:
        return [self.cache[(j, b)] for j, b in zip(features, bins, strict=True) if j >= 0]

    def row_json(self, features, bins) -> str:
        return "[" + ",".join(self.text[(j, b)] for j, b in zip(features, bins, strict=True)
                              if j >= 0) + "]"

    def row_copy_text(self, features: list, bins: list) -> str:
        """`row_json` as a COPY text field, kept for the job: the same (feature, bin) choices
        recur across chunks."""
        key = (*features, *bins)
        out = self.copied.get(key)
        if out is None:
            out = self.copied[key] = _copy_text(self.row_json(features, bins))
        return out


def _read_chunk(snapshot_ids: list[int]) -> list[tuple]:
    """(snapshot id, application id, input hash, values, red-flag codes) per snapshot."""
    if connection.vendor != "postgresql":
        return list(FeatureSnapshot.objects.filter(id__in=snapshot_ids).order_by("id")
                    .values_list("id", "application_id", "input_hash", "values",
                                 "red_flag_codes"))
    # One array parameter instead of 5,000 bound ids; JSON decoded once, here.
    with connection.cursor() as cursor:
        cursor.execute("SELECT id, application_id, input_hash, values::text, "
                       "NULLIF(red_flag_codes, '[]'::jsonb)::text "
                       "FROM scoring_featuresnapshot WHERE id = ANY(%s) ORDER BY id",
                       [snapshot_ids])
        return [(i, a, h, json.loads(v), json.loads(r) if r else [])
                for i, a, h, v, r in cursor.fetchall()]


def _id_array(ids: list[int]) -> str:
    """Ids as one PostgreSQL array literal (bound as text, cast to bigint[] in the statement):
    the driver's list adapter costs more per chunk than the query's own planning."""
    return "{" + ",".join(map(str, ids)) + "}"


class _Extra:
    """More cells the chunk read adds to each row (after the five of `_read_chunk`'s rows):
    select-list SQL with its parameters, and the joins it needs."""

    def __init__(self, select: str = "", params: tuple = (), joins: str = ""):
        self.select, self.params, self.joins = select, list(params), joins


_NO_EXTRA = _Extra()


def _result_extra(version) -> _Extra:
    """What the champion's chunk needs to COPY its results straight into the score results
    (`_write_copy`): whether the (application, model, input) result exists already, and the
    application's amount requested and its enterprise's annual revenue as exact decimal text
    ("amount revenue", either empty when NULL) for the suggested limit. Both are scalar
    subqueries, run per row by index (the result by its unique key, an application and its
    enterprise by primary key): as a join or an EXISTS, the planner may hash a whole table for
    a chunk's thousand rows (the results, when their statistics are older than the job's
    first chunks)."""
    return _Extra(
        select=(", (SELECT true FROM scoring_scoreresult r WHERE r.application_id = "
                "s.application_id AND r.model_version_id = %s AND r.input_hash = s.input_hash)"
                ", (SELECT COALESCE(a.amount_requested::text, '') || ' ' || "
                "COALESCE(e.annual_revenue::text, '') FROM applications_application a "
                "JOIN parties_enterprise e ON e.id = a.enterprise_id "
                "WHERE a.id = s.application_id)"),
        params=[version.pk])


def _limit_text(figures: str, share: Decimal, decline: bool) -> str:
    """COPY text of `policy.suggested_limit` from "amount revenue" (`_result_extra`; the rule
    of `_write_postgresql`'s SQL too), NULL without a revenue."""
    amount, _, revenue = figures.partition(" ")
    limit = suggested_limit(Decimal(amount) if amount else None,
                            Decimal(revenue) if revenue else None, share, decline=decline)
    return "\\N" if limit is None else str(limit)


def _fetch_binary(sql: str, params: list) -> list[tuple]:
    """Rows in PostgreSQL's binary format: floats and ids as the driver's C loaders read
    them, no text to parse (a quarter of a chunk read's time). Django's cursor binds on the
    client and reads text only, so this one runs on the driver's connection."""
    connection.ensure_connection()
    with psycopg.Cursor(connection.connection) as cursor:
        cursor.execute(sql, params, binary=True)
        return cursor.fetchall()


def _chunk_from_fetched(fetched: list[tuple], kinds: dict[str, str]):
    """(rows, columns) from the chunk read's rows (id, application, input hash, red flags'
    text, "odd categorical" flag, then one cell per model column, then any extra cells), or
    None when the chunk needs the portable path: a categorical cell of another JSON type, or a
    numeric text numpy's `float()` refuses. Null or absent numeric cells become NaN, as numpy
    converts None for a float array. Rows are `_read_chunk`'s with the values left out (None)
    and the extra cells after them."""
    names = list(kinds)
    if any(r[4] for r in fetched):
        return None
    width = 5 + len(names)
    cells = list(zip(*fetched, strict=True))[5:width] if fetched else [()] * len(names)
    columns = {}
    for k, name in enumerate(names):
        if kinds[name] == NUMERIC:
            try:
                columns[name] = np.array(cells[k], dtype=float)
            except (ValueError, TypeError):
                return None
        else:
            columns[name] = [None if v == "" else v for v in cells[k]]
    rows = [(r[0], r[1], r[2], None, json.loads(r[3]) if r[3] else [], *r[width:])
            for r in fetched]
    return rows, columns


def _read_chunk_columns(snapshot_ids: list[int], kinds: dict[str, str],
                        extra: _Extra = _NO_EXTRA):
    """PostgreSQL: the chunk's model columns picked out of the snapshots by the database, in one
    query, instead of decoding 5,000 JSON documents in Python and picking their keys row by row
    (most of a chunk's Python time). The same columns as `records_to_columns` on `_read_chunk`'s
    values:

    - numeric: each value's text (`->>`; a JSON number's text is its exact decimal) converted
      to float8 by the database, a correctly rounded conversion as Python's `float()` is, so
      the double is the same and the driver hands over floats rather than text for numpy to
      parse; null or absent → NaN. A text the database refuses (a boolean, an object, a
      string that is no number, a number beyond a double's range) sends the chunk to
      `_read_chunk_text`, which converts the text with Python's `float()`;
    - categorical: a JSON string as it is, "" / null / absent → None; any other JSON type (a
      number, a boolean: `str()` of the decoded value would spell it differently) makes the
      query say so, and the chunk goes down the portable path.

    Returns (rows, columns), rows as `_read_chunk`'s with the values left out (None) and
    `extra`'s cells after them, or None when the chunk needs the portable path."""
    names = list(kinds)
    categorical = [n for n in names if kinds[n] != NUMERIC]
    odd = " OR ".join(["jsonb_typeof(s.values -> %s) NOT IN ('string', 'null')"]
                      * len(categorical)) or "false"
    picks = ["(s.values ->> %s)::float8" if kinds[n] == NUMERIC else "s.values ->> %s"
             for n in names]
    # Only placeholders are joined into the text; feature names are bound parameters.
    sql = ("SELECT s.id, s.application_id, s.input_hash, "  # noqa: S608
           f"NULLIF(s.red_flag_codes, '[]'::jsonb)::text, COALESCE({odd}, false), "
           + ", ".join(picks) + extra.select + " FROM scoring_featuresnapshot s" + extra.joins
           + " WHERE s.id = ANY(%s::bigint[]) ORDER BY s.id")
    try:
        # Inside a caller's transaction the refusal must not abort it: a savepoint there
        # (none otherwise: the read runs in autocommit, between the chunks' transactions).
        with transaction.atomic() if connection.in_atomic_block else nullcontext():
            fetched = _fetch_binary(sql, [*categorical, *names, *extra.params,
                                          _id_array(snapshot_ids)])
    except psycopg.DataError:
        return _read_chunk_text(snapshot_ids, kinds, extra)
    return _chunk_from_fetched(fetched, kinds)


def _read_chunk_text(snapshot_ids: list[int], kinds: dict[str, str],
                     extra: _Extra = _NO_EXTRA):
    """`_read_chunk_columns` for a chunk with a numeric value the database would not convert:
    each
    numeric value's text (`->>`) converted by numpy with Python's `float()`, as
    `records_to_columns` converts the decoded value; a text `float()` refuses sends the chunk
    down the portable path (None)."""
    names = list(kinds)
    categorical = [n for n in names if kinds[n] != NUMERIC]
    odd = " OR ".join(["jsonb_typeof(s.values -> %s) NOT IN ('string', 'null')"]
                      * len(categorical)) or "false"
    # Only placeholders are joined into the text; feature names are bound parameters.
    sql = ("SELECT s.id, s.application_id, s.input_hash, "  # noqa: S608
           f"NULLIF(s.red_flag_codes, '[]'::jsonb)::text, COALESCE({odd}, false)"
           + ", s.values ->> %s" * len(names) + extra.select + " FROM scoring_featuresnapshot s"
           + extra.joins + " WHERE s.id = ANY(%s::bigint[]) ORDER BY s.id")
    fetched = _fetch_binary(sql, [*categorical, *names, *extra.params, _id_array(snapshot_ids)])
    return _chunk_from_fetched(fetched, kinds)


def _score_chunk(rows: list[tuple], document: dict, model, reasons: _ReasonText,
                 columns: dict | None = None) -> dict:
    """Everything but the limit, in arrays: prediction, grade, recommendation, knock-outs.
    `columns`: the model columns when the read already built them (`_read_chunk_columns`)."""
    if columns is None:
        columns = records_to_columns([r[3] for r in rows], model.feature_kinds)
    pred = predict_arrays(model, columns, top_k=3)
    grades = [g for g, _ in document["grades"]]
    grade_idx = grade_codes(document, pred.score)
    strictness = np.array([_STRICTNESS[document["recommendation_by_grade"][g]]
                           for g in grades])[grade_idx]
    rules = document.get("knockouts") or []
    hits = knockout_matrix(document, columns, [r[4] for r in rows])
    for j, rule in enumerate(rules):  # a knock-out only makes the advice stricter
        strictness = np.where(hits[:, j], np.maximum(
            strictness, _STRICTNESS[rule.get("recommendation", "decline")]), strictness)
    names = {v: str(k) for k, v in _STRICTNESS.items()}
    # The rules each row hit, one list per distinct pattern of hits (a few per chunk), shared
    # by the rows with that pattern: nothing changes them once built.
    knockouts: list = [[] for _ in range(len(rows))]
    if hits.shape[1]:
        patterns: dict = {}
        for i, hit in zip(np.flatnonzero(hits.any(axis=1)).tolist(),
                          hits[hits.any(axis=1)].tolist(), strict=True):
            key = tuple(hit)
            found = patterns.get(key)
            if found is None:
                found = patterns[key] = [{"code": rules[j]["code"]}
                                         for j, on in enumerate(hit) if on]
            knockouts[i] = found
    features, bins = pred.reason_feature.tolist(), pred.reason_bin.tolist()
    return {
        "rows": rows, "probability": pred.probability.tolist(), "score": pred.score.tolist(),
        "grade": [grades[g] for g in grade_idx.tolist()],
        "recommendation": [names[s] for s in strictness.tolist()],
        "reasons": features, "bins": bins,
        "knockouts": knockouts,
        "band": [document["limits"][grades[g]].get("price_band", "")
                 for g in grade_idx.tolist()],
    }


def _copy_text(value: str) -> str:
    """A string as one field of COPY's text format. Four C-level scans and, only when one
    finds something, four replaces: `str.translate` with a mapping looks up every character
    in Python and cost most of a chunk's COPY text (reason texts run to hundreds of
    characters)."""
    if "\\" in value or "\t" in value or "\n" in value or "\r" in value:
        return (value.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n")
                .replace("\r", "\\r"))
    return value


def _copy_text_once():
    """`_copy_text` that escapes each distinct value once: the texts that repeat across a
    chunk's rows (reasons, grade, advice, band)."""
    texts: dict = {}

    def text(value: str) -> str:
        out = texts.get(value)
        if out is None:
            out = texts[value] = _copy_text(value)
        return out

    return text


def _copy_block(scored: dict, reasons: _ReasonText) -> str:
    """The chunk's temporary-table rows as one block of COPY text, instead of a `write_row`
    per result: the same fields (floats as `repr`, which round-trips exactly), and each text
    that repeats across rows (reasons, grade, advice, band) escaped once per distinct value."""
    text = _copy_text_once()

    reason_texts: dict = {}
    lines = []
    for i, row in enumerate(scored["rows"]):
        key = (tuple(scored["reasons"][i]), tuple(scored["bins"][i]))
        why = reason_texts.get(key)
        if why is None:
            why = reason_texts[key] = _copy_text(reasons.row_json(*key))
        knocked = scored["knockouts"][i]
        lines.append(f"{row[1]:d}\t{row[0]:d}\t{_copy_text(row[2])}\t"
                     f"{scored['probability'][i]!r}\t{scored['score'][i]!r}\t"
                     f"{text(scored['grade'][i])}\t{why}\t"
                     f"{text(scored['recommendation'][i])}\t"
                     f"{_copy_text(json.dumps(knocked)) if knocked else '[]'}\t"
                     f"{text(scored['band'][i])}\n")
    return "".join(lines)


def _temp_table(cursor, name: str, columns: str) -> None:
    """Create the chunk's temporary table once per database session, not once per chunk (a
    CREATE … IF NOT EXISTS is still a catalog lookup and a notice per chunk). The session is
    recognised by its driver connection: a reconnect (CONN_MAX_AGE, a health check) starts
    one without the table. Known to exist only once its creation has committed: a rolled
    back transaction (a failed chunk, a caller's) takes the table with it."""
    session = connection.connection
    made = getattr(session, "_credence_temp_tables", None)
    if made is None:
        made = set()
        session._credence_temp_tables = made
    if name not in made:
        cursor.execute(f"CREATE TEMP TABLE IF NOT EXISTS {name} ({columns}) "
                       "ON COMMIT DELETE ROWS")
        transaction.on_commit(lambda: made.add(name))


def _temp_table_empty(cursor, name: str) -> None:
    """ON COMMIT DELETE ROWS empties the table when the chunk's own transaction commits; only
    inside a caller's transaction (the chunk is then a savepoint) must it be emptied here."""
    if len(connection.atomic_blocks) > 1:
        cursor.execute(f"TRUNCATE {name}")


def _write_postgresql(scored: dict, *, job, version, policy, reasons: _ReasonText) -> int:
    """COPY into a temporary table, then one INSERT … SELECT … ON CONFLICT DO NOTHING
    (CONVENTIONS §8). The suggested limit is computed there, in exact NUMERIC: the smaller of
    the amount requested and the grade's share of annual revenue, zero when declined — the
    same rule as `policy.recommend`, with the figures read in the same statement."""
    document = policy.document
    shares = [(g, str(document["limits"][g]["revenue_share"])) for g, _ in document["grades"]]
    with connection.cursor() as cursor:
        _temp_table(cursor, "scoring_rescore_tmp", "application_id bigint, snapshot_id bigint, "
                    "input_hash varchar(64), probability float8, score float8, "
                    "grade varchar(10), reasons jsonb, recommendation varchar(10), "
                    "knockouts jsonb, price_band varchar(20)")
        with cursor.cursor.copy("COPY scoring_rescore_tmp FROM STDIN") as copy:
            copy.write(_copy_block(scored, reasons))
        # Only placeholders are joined into the text; every value is a bound parameter.
        values = ", ".join(["(%s, %s::numeric)"] * len(shares))
        cursor.execute(
            "INSERT INTO scoring_scoreresult (application_id, model_version_id, snapshot_id, "  # noqa: S608
            "input_hash, probability, score, grade, reasons, policy_id, recommendation, "
            "knockouts, suggested_limit, price_band, trigger, job_id, created_at) "
            "SELECT t.application_id, %s, t.snapshot_id, t.input_hash, t.probability, t.score, "
            "t.grade, t.reasons, %s, t.recommendation, t.knockouts, "
            "CASE WHEN e.annual_revenue IS NULL THEN NULL "
            "WHEN t.recommendation = 'decline' THEN 0 "
            "ELSE trunc(LEAST(COALESCE(a.amount_requested, e.annual_revenue * g.share), "
            "e.annual_revenue * g.share), 2) END, "
            "t.price_band, %s, %s, %s "
            "FROM scoring_rescore_tmp t "
            "JOIN applications_application a ON a.id = t.application_id "
            "JOIN parties_enterprise e ON e.id = a.enterprise_id "
            f"JOIN (VALUES {values}) AS g(grade, share) ON g.grade = t.grade "
            "ON CONFLICT (application_id, model_version_id, input_hash) DO NOTHING",
            [version.pk, policy.pk, ScoreTrigger.RESCORING, job.pk, timezone.now(),
             *[x for pair in shares for x in pair]])
        created = cursor.rowcount
        _temp_table_empty(cursor, "scoring_rescore_tmp")
    return created


_RESULT_COLUMNS = ("application_id, snapshot_id, input_hash, probability, score, grade, "
                   "reasons, recommendation, knockouts, suggested_limit, price_band, "
                   "model_version_id, policy_id, trigger, job_id, created_at")


def _write_copy(scored: dict, *, job, version, policy, reasons: _ReasonText) -> int:
    """The champion's chunk COPYed straight into the score results (no temporary table, no
    INSERT … SELECT: PostgreSQL writes the rows a page at a time), for a chunk read with
    `_result_extra`: rows whose result exists already are left out (what ON CONFLICT DO
    NOTHING did), and each row's limit is its grade's, computed by that read (zero when the
    advice is to decline). A result of the same key written after the read (a single score
    of the same input) makes the COPY fail with a unique violation: the caller then writes the
    chunk again through `_write_postgresql`, in a new transaction. Returns the rows written."""
    shares = {g: Decimal(str(policy.document["limits"][g]["revenue_share"]))
              for g, _ in policy.document["grades"]}
    limits: dict = {}
    tail = (f"\t{version.pk:d}\t{policy.pk:d}\t{_copy_text(ScoreTrigger.RESCORING)}\t{job.pk:d}"
            f"\t{timezone.now().isoformat()}\n")
    text = _copy_text_once()

    hit_texts: dict = {}
    lines = []
    probability, score, grade = scored["probability"], scored["score"], scored["grade"]
    advice, knockouts, band = scored["recommendation"], scored["knockouts"], scored["band"]
    for i, row in enumerate(scored["rows"]):
        if row[5]:  # scored before: (application, model, input) is there already
            continue
        why = reasons.row_copy_text(scored["reasons"][i], scored["bins"][i])
        key = (row[6], grade[i], advice[i] == "decline")
        limit = limits.get(key)
        if limit is None:
            limit = limits[key] = _limit_text(row[6], shares[grade[i]], key[2])
        knocked = knockouts[i]
        if knocked:
            codes = tuple(k["code"] for k in knocked)
            knocked = hit_texts.get(codes)
            if knocked is None:
                knocked = hit_texts[codes] = _copy_text(json.dumps(knockouts[i]))
        else:
            knocked = "[]"
        lines.append(f"{row[1]:d}\t{row[0]:d}\t{_copy_text(row[2])}\t{probability[i]!r}\t"
                     f"{score[i]!r}\t{text(grade[i])}\t{why}\t{text(advice[i])}\t"
                     f"{knocked}\t{limit}\t{text(band[i])}" + tail)
    if lines:
        with connection.cursor() as cursor, cursor.cursor.copy(
                f"COPY scoring_scoreresult ({_RESULT_COLUMNS}) FROM STDIN") as copy:
            copy.write("".join(lines))
    return len(lines)


def _write_orm(scored: dict, *, job, version, policy, reasons: _ReasonText) -> int:
    """The portable path (SQLite, local runs): limits in Python through `policy.recommend`'s
    rule, bulk insert ignoring conflicts."""
    from apps.applications.models import Application

    document = policy.document
    figures = dict((pk, (amount, revenue)) for pk, amount, revenue in
                   Application.objects.filter(pk__in=[r[1] for r in scored["rows"]])
                   .values_list("pk", "amount_requested", "enterprise__annual_revenue"))
    now, before = timezone.now(), ScoreResult.objects.filter(job=job).count()
    results = []
    for i, row in enumerate(scored["rows"]):
        amount, revenue = figures[row[1]]
        grade, advice = scored["grade"][i], scored["recommendation"][i]
        limit = suggested_limit(amount, revenue,
                                Decimal(str(document["limits"][grade]["revenue_share"])),
                                decline=advice == "decline")
        results.append(ScoreResult(
            application_id=row[1], model_version=version, snapshot_id=row[0],
            input_hash=row[2], probability=scored["probability"][i], score=scored["score"][i],
            grade=grade, reasons=reasons.row(scored["reasons"][i], scored["bins"][i]),
            policy=policy, recommendation=advice, knockouts=scored["knockouts"][i],
            suggested_limit=limit, price_band=scored["band"][i], trigger=ScoreTrigger.RESCORING,
            job=job, created_at=now))
    ScoreResult.objects.bulk_create(results, batch_size=1000, ignore_conflicts=True)
    return ScoreResult.objects.filter(job=job).count() - before


def _write_shadow_postgresql(scored: dict, *, job, version, policy, reasons) -> int:
    """A challenger's chunk: COPY into a temporary table, then one INSERT … ON CONFLICT DO
    NOTHING into the shadow table (no advice, limit or price: nothing decides on these)."""
    with connection.cursor() as cursor:
        _temp_table(cursor, "scoring_shadow_tmp", "application_id bigint, snapshot_id bigint, "
                    "input_hash varchar(64), probability float8, score float8, "
                    "grade varchar(10)")
        with cursor.cursor.copy("COPY scoring_shadow_tmp FROM STDIN") as copy:
            for i, row in enumerate(scored["rows"]):
                copy.write_row((row[1], row[0], row[2], scored["probability"][i],
                                scored["score"][i], scored["grade"][i]))
        cursor.execute(
            "INSERT INTO scoring_shadowscore (application_id, model_version_id, snapshot_id, "
            "input_hash, probability, score, grade, policy_id, trigger, job_id, created_at) "
            "SELECT application_id, %s, snapshot_id, input_hash, probability, score, grade, "
            "%s, %s, %s, %s FROM scoring_shadow_tmp "
            "ON CONFLICT (model_version_id, application_id, input_hash) DO NOTHING",
            [version.pk, policy.pk, ScoreTrigger.RESCORING, job.pk, timezone.now()])
        created = cursor.rowcount
        _temp_table_empty(cursor, "scoring_shadow_tmp")
    return created


def _write_shadow_orm(scored: dict, *, job, version, policy, reasons) -> int:
    """The portable path for a challenger's chunk."""
    now, before = timezone.now(), ShadowScore.objects.filter(job=job).count()
    ShadowScore.objects.bulk_create([
        ShadowScore(application_id=row[1], model_version=version, snapshot_id=row[0],
                    input_hash=row[2], probability=scored["probability"][i],
                    score=scored["score"][i], grade=scored["grade"][i], policy=policy,
                    trigger=ScoreTrigger.RESCORING, job=job, created_at=now)
        for i, row in enumerate(scored["rows"])], batch_size=1000, ignore_conflicts=True)
    return ShadowScore.objects.filter(job=job).count() - before


def _writer(version):
    """Decision scores for the champion only; every other version scores in shadow."""
    postgresql = connection.vendor == "postgresql"
    if version.state == ModelVersionState.CHAMPION:
        return _write_postgresql if postgresql else _write_orm
    return _write_shadow_postgresql if postgresql else _write_shadow_orm


# How often a running job lets Django replace its database connection (CONN_MAX_AGE is 60 s).
_RECYCLE_SECONDS = 10
_ASYNC_COMMIT = "SET LOCAL synchronous_commit = off; "


def _progress(job, rows: int, created: int, *, asynchronous: bool) -> None:
    """Count the chunk in the job's progress. On PostgreSQL, in a transaction the job owns
    (`asynchronous`), the same round trip also lets the chunk's commit return before its WAL
    is flushed to disk (SET LOCAL: this transaction only): a crash can then lose only the
    last few chunks' commits, each whole (results, progress and audit event together, in WAL
    order, so never the middle of the audit chain: any later commit that is flushed flushes
    them first); the job is then failed as interrupted on redelivery, and a new run fills in
    what is missing (results are idempotent)."""
    if connection.vendor == "postgresql":
        update = ("UPDATE scoring_rescoringjob SET done = done + %s, created = created + %s "
                  "WHERE id = %s")
        with connection.cursor() as cursor:
            # Two statements in one text: psycopg's client-side cursor sends them together.
            cursor.execute(_ASYNC_COMMIT + update if asynchronous else update,
                           [rows, created, job.pk])
        return
    RescoringJob.objects.filter(pk=job.pk).update(done=F("done") + rows,
                                                  created=F("created") + created)


def _write_chunk(n: int, scored: dict, *, job, version, policy, reasons, write,
                 own: bool) -> None:
    """One chunk's transaction: its results, the job's progress and the chunk's audit event
    (`own`: a transaction of the job's own, whose commit may be asynchronous)."""
    rows = scored["rows"]
    with transaction.atomic():
        created = write(scored, job=job, version=version, policy=policy, reasons=reasons)
        _progress(job, len(rows), created, asynchronous=own)
        # The audit lock comes last: taken just before commit, held only for the append.
        audit_record(action="score.rescored_chunk", actor=None, subject=job, payload={
            "chunk": n, "model_version": version.version, "policy_version": policy.version,
            "count": len(rows), "created": created, "application_ids": [r[1] for r in rows]})


def _store_chunk(n: int, scored: dict, *, job, version, policy, reasons, write,
                 own: bool) -> None:
    """Write a scored chunk: by COPY straight into the results when its read brought what
    that needs (`_result_extra`, in a transaction of the job's own), else by `write`. A result
    of one of the chunk's keys written after the read (a single score of the same input)
    fails the COPY with a unique violation: the chunk's transaction is rolled back whole and
    the chunk written again by `write`, which skips what exists."""
    rows = scored["rows"]
    direct = own and write is _write_postgresql and bool(rows) and len(rows[0]) > 5
    try:
        _write_chunk(n, scored, job=job, version=version, policy=policy, reasons=reasons,
                     write=_write_copy if direct else write, own=own)
    except (IntegrityError, psycopg.IntegrityError) as exc:
        # The COPY runs on the driver's cursor: its error comes unwrapped.
        if not direct or "23505" not in (getattr(exc, "sqlstate", None),
                                         getattr(exc.__cause__, "sqlstate", None)):
            raise
        _write_chunk(n, scored, job=job, version=version, policy=policy, reasons=reasons,
                     write=write, own=own)


@contextmanager
def _old_objects_frozen():
    """The process's objects from before the job left out of the garbage collector's full
    passes while it runs (`gc.freeze`), and put back after. Each chunk allocates thousands of
    containers, so the collector runs its full pass a few times a job, each over every object
    of the worker (~200,000: Django, the model, the portfolio's ids): ~0.1 s each, a tenth of
    a 100,000-row job on a 2-CPU machine. The chunks' own garbage is still collected. Not when
    something else froze objects already (its own unfreeze is its to make)."""
    if gc.get_freeze_count():
        yield
        return
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()


@contextmanager
def _chunk_reader(kinds: dict[str, str], extra: _Extra, *, ahead: bool):
    """`read(chunk, following)`: the chunk's (rows, columns) as `_read_chunk_columns` reads them
    (None on SQLite or when the chunk needs the portable path). `ahead` (PostgreSQL, the job's
    chunks in transactions of their own): the following chunk is read meanwhile on a
    connection of a thread of its own (Django's connections are per thread), so the database
    works on it while this process scores and writes the current one. The reads are plain
    autocommit SELECTs of stored snapshots, which never change; a result the write of the
    current chunk adds is of another application (the chunks are disjoint). Inside a caller's
    transaction the reads stay on its connection, which sees what it has not committed."""
    if connection.vendor != "postgresql":
        yield lambda chunk, following: None
        return
    if not ahead:
        yield lambda chunk, following: _read_chunk_columns(chunk, kinds, extra)
        return
    pending: dict = {}
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="rescore-read") as reader:

        def read(chunk, following):
            future = pending.pop(chunk[0], None)
            typed = (future.result() if future is not None
                     else _read_chunk_columns(chunk, kinds, extra))
            if following:
                pending[following[0]] = reader.submit(_read_chunk_columns, following, kinds,
                                                      extra)
            return typed

        try:
            yield read
        finally:
            for future in pending.values():
                future.cancel()
            reader.submit(lambda: connection.close()).result()  # the thread's own


def rescoring_run(*, job_id: int) -> RescoringJob:
    """Run a queued job to the end (called by its one Celery task)."""
    with transaction.atomic():
        job = RescoringJob.objects.select_for_update(no_key=True).get(pk=job_id)
        if job.state == RescoringJobState.RUNNING:
            # Redelivered while running: with acks_late that means its worker was lost (every
            # task ends within the visibility timeout). Say so visibly rather than leave the
            # job "running" forever; the chunks written stand, and a new job fills the rest.
            job.fail(at=timezone.now(), error="The re-scoring was interrupted; start it again.")
            job.save()
            audit_record(action="score.rescoring_failed", actor=None, subject=job,
                         payload={"error": job.error, "done": job.done})
            return job
        if job.state != RescoringJobState.QUEUED:
            return job  # redelivered after it finished: nothing to redo here
        snapshot_ids = _portfolio_snapshot_ids()
        job.start(at=timezone.now(), total=len(snapshot_ids))
        job.save()
    version = job.model_version
    try:
        policy = decision_policy_ensure()
        model = model_of(version)
        reasons = _ReasonText(model)
        write = _writer(version)
        # The champion's chunks in transactions of the job's own go straight into the results
        # by COPY (`_write_copy`); the read then also says which exist and computes the limits.
        extra = (_result_extra(version) if write is _write_postgresql else _NO_EXTRA)
        recycle_at = time.monotonic() + _RECYCLE_SECONDS
        chunks = [snapshot_ids[start:start + job.chunk_size]
                  for start in range(0, len(snapshot_ids), job.chunk_size)]
        own = not connection.in_atomic_block
        with _old_objects_frozen(), _chunk_reader(model.feature_kinds, extra if own else
                                                  _NO_EXTRA, ahead=own) as read:
            for n, chunk in enumerate(chunks, start=1):
                # Read and scored before the write transaction: snapshots are never changed
                # once stored (only their spec label on a re-store of the same input), so the
                # transaction holds only the writes, the progress and the audit event.
                typed = read(chunk, chunks[n] if n < len(chunks) else None)
                rows, columns = typed if typed is not None else (_read_chunk(chunk), None)
                scored = _score_chunk(rows, policy.document, model, reasons, columns)
                _store_chunk(n, scored, job=job, version=version, policy=policy, reasons=reasons,
                             write=write, own=own)
                # A caller's transaction keeps its connection; otherwise one past its age (or
                # broken) is replaced, checked every few seconds rather than every chunk: each
                # check costs the next query a health-check round trip.
                if own and time.monotonic() >= recycle_at:
                    close_old_connections()
                    recycle_at = time.monotonic() + _RECYCLE_SECONDS
    except Exception as exc:
        with transaction.atomic():
            job = RescoringJob.objects.select_for_update(no_key=True).get(pk=job_id)
            job.fail(at=timezone.now(), error=repr(exc))
            job.save()
            audit_record(action="score.rescoring_failed", actor=None, subject=job,
                         payload={"error": repr(exc)[:500], "done": job.done})
        logger.exception("re-scoring job %s failed", job_id)
        raise
    with transaction.atomic():
        job = RescoringJob.objects.select_for_update(no_key=True).get(pk=job_id)
        job.complete(at=timezone.now())
        job.save()
        audit_record(action="score.rescoring_completed", actor=None, subject=job,
                     payload={"total": job.total, "done": job.done, "created": job.created})
    return job

"""The step clock summary (apps/insight/models.py), kept current from the audit trail.

Each run reads only the audit events past the watermark (`seq` > watermark, a range of the
trail's unique index), in batches, never the whole trail: for each application move it writes
one StepClock row, pairing it with the move before it (earlier in the same batch, else the
application's latest StepClock row). The audit trail's `seq` is handed out under a lock held
until commit (apps/audit/services.py), so events become visible in `seq` order and nothing
can appear behind the watermark.

Safe to run twice at once: a run locks the watermark row for each batch (the second waits,
then finds the batch done) and rows are keyed by the move's `seq` (a repeat inserts nothing).
Beat runs it every minute (`insight.summaries_refresh`); `manage.py insight_summaries
[--rebuild]` runs it by hand. The pipeline page reads the summary plus the moves since the
watermark (`clock_rows_sql(upper=False)`), so it is never stale, only slower if beat stops.
"""

from django.db import connection, transaction

from apps.insight.models import StepClock, SummaryWatermark

STEP_CLOCK = "step_clock"
BATCH = 200_000
# The audit actions that move an application (each records payload "from" and "to").
MOVES = ("application.submitted", "application.investigation_started",
         "application.sent_to_review", "application.returned",
         "application.investigation_resumed", "application.sent_to_approval",
         "application.approved", "application.rejected", "application.contracted",
         "application.disbursed", "application.withdrawn", "application.expired")


def _dialect() -> dict[str, str]:
    if connection.vendor == "postgresql":
        return {"step": "e.payload ->> 'from'",
                "seconds": "EXTRACT(EPOCH FROM (b.occurred_at - b.entered))"}
    return {"step": "json_extract(e.payload, '$.from')",
            "seconds": "((julianday(b.occurred_at) - julianday(b.entered)) * 86400.0)"}


def clock_rows_sql(*, lower: str = "%s", upper: bool) -> tuple[str, list]:
    """SELECT of the StepClock rows of the moves with seq in (lower, %s] (or (lower, ∞)
    without `upper`): seq, application, branch, product, step, entered_at, left_at, seconds.
    `lower` is a placeholder or a scalar subquery (its parameters come first)."""
    d = _dialect()
    moves = ", ".join(["%s"] * len(MOVES))
    bound = "AND e.seq <= %s " if upper else ""
    sql = (
        "SELECT b.seq, b.application_id, a.branch_id, v.product_id, b.step, "  # noqa: S608 - fixed fragments
        "b.entered AS entered_at, b.occurred_at AS left_at, " + d["seconds"] + " AS seconds FROM ("
        "SELECT e.seq, e.application_id, e.occurred_at, " + d["step"] + " AS step, "
        "COALESCE(LAG(e.occurred_at) OVER (PARTITION BY e.application_id ORDER BY e.seq), "
        "(SELECT c.left_at FROM insight_stepclock c WHERE c.application_id = e.application_id "
        "ORDER BY c.seq DESC LIMIT 1)) AS entered "
        "FROM audit_auditevent e WHERE e.seq > " + lower + " " + bound
        + f"AND e.action IN ({moves}) "
        "AND e.application_id IS NOT NULL) b "
        "JOIN applications_application a ON a.id = b.application_id "
        "JOIN products_productversion v ON v.id = a.product_version_id")
    return sql, list(MOVES)


def watermark() -> int:
    """The step clock's watermark: moves up to it are summarised, later ones are the tail."""
    found = SummaryWatermark.objects.filter(name=STEP_CLOCK).values_list("seq", flat=True)
    return next(iter(found), 0)


def _head() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT COALESCE(MAX(seq), 0) FROM audit_auditevent")
        return cursor.fetchone()[0]


def _batch_end(*, after: int, batch: int, head: int) -> int:
    """The seq of the `batch`-th event past `after` (a walk of the unique index), or the head:
    batches count events, whatever the gaps in seq."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT seq FROM audit_auditevent WHERE seq > %s AND seq <= %s "
                       "ORDER BY seq OFFSET %s LIMIT 1", [after, head, batch - 1])
        found = cursor.fetchone()
    return found[0] if found else head


def refresh_step_clock(*, rebuild: bool = False, batch: int = BATCH) -> int:
    """Summarise the moves past the watermark (all of them after `rebuild`, which empties the
    summary first, in the same transaction as its first batch). Returns the rows written."""
    written, first = 0, True
    head = _head()
    while True:
        with transaction.atomic():
            mark, _ = SummaryWatermark.objects.get_or_create(name=STEP_CLOCK)
            mark = SummaryWatermark.objects.select_for_update(of=("self",)).get(pk=mark.pk)
            if rebuild and first:
                StepClock.objects.all().delete()
                mark.seq = 0
            first = False
            if mark.seq >= head:
                mark.save(update_fields=["seq", "updated_at"])
                return written
            upper = _batch_end(after=mark.seq, batch=batch, head=head)
            select, moves = clock_rows_sql(upper=True)
            with connection.cursor() as cursor:
                cursor.execute(
                    "INSERT INTO insight_stepclock (seq, application_id, branch_id, product_id, "  # noqa: S608 - fixed fragments
                    "step, entered_at, left_at, seconds) SELECT * FROM (" + select + ") n "
                    "WHERE true ON CONFLICT (seq) DO NOTHING", [mark.seq, upper, *moves])
                written += max(cursor.rowcount, 0)
            mark.seq = upper
            mark.save(update_fields=["seq", "updated_at"])

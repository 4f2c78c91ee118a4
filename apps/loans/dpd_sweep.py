"""The nightly days-past-due recomputation over every open loan, in chunks (CONVENTIONS §8).

The beat entry fires one sweep; the sweep cuts the open loans into id ranges of
`LOANS_DPD_CHUNK_SIZE` (default 5,000) loans and sends one chunk task per range, after its
transaction commits. A chunk recomputes from scratch (apps.loans.dpd_store), so a chunk
delivered twice or a sweep run twice changes nothing the second time; a chunk lost by the
broker is done by the next night's sweep, which recomputes everything again.
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from apps.core.queue import enqueue_on_commit
from apps.core.task_names import TaskName
from apps.loans.dpd_store import RecomputeResult, dpd_recompute_scratch
from apps.loans.models import Loan
from apps.loans.states import OPEN_LOAN_STATES


def chunk_size() -> int:
    return getattr(settings, "LOANS_DPD_CHUNK_SIZE", 5000)


def open_loan_ranges(size: int) -> list[tuple[int, int]]:
    """(first id, last id) of consecutive runs of `size` open loans, in id order (one query
    reading only ids, from the state index)."""
    ids = list(Loan.objects.filter(state__in=sorted(str(s) for s in OPEN_LOAN_STATES))
               .order_by("id").values_list("id", flat=True))
    return [(ids[k], ids[min(k + size, len(ids)) - 1]) for k in range(0, len(ids), size)]


@transaction.atomic
def dpd_recompute_sweep(*, as_of: dt.date | None = None, size: int | None = None) -> int:
    """Send one chunk task per range of open loans; returns the number of chunks sent."""
    as_of = as_of or timezone.localdate()
    ranges = open_loan_ranges(size or chunk_size())
    for first_id, last_id in ranges:
        enqueue_on_commit(TaskName.LOANS_DPD_RECOMPUTE_CHUNK, first_id=first_id,
                          last_id=last_id, as_of=as_of.isoformat())
    return len(ranges)


@transaction.atomic
def dpd_recompute_chunk(*, first_id: int, last_id: int,
                        as_of: dt.date | None = None) -> RecomputeResult:
    """Recompute from scratch the open loans with ids in [first_id, last_id].

    The loans are locked in id order first, as the feed import locks them, so an import and
    the nightly run never interleave their writes to the same loan's history (SQLite, which
    has no row locks, serialises whole write transactions instead).
    """
    list(Loan.objects.filter(id__gte=first_id, id__lte=last_id,
                             state__in=sorted(str(s) for s in OPEN_LOAN_STATES))
         .select_for_update(no_key=True, of=("self",)).order_by("id")
         .values_list("id", flat=True))
    return dpd_recompute_scratch(first_id=first_id, last_id=last_id,
                                 as_of=as_of or timezone.localdate())

"""The DPD engine (apps.loans.dpd): hand-built cases and the acceptance property — DPD built
incrementally, events applied one by one in any order of arrival, equals DPD recomputed from
scratch over all events."""

import datetime as dt

from hypothesis import given, settings
from hypothesis import strategies as st

from apps.loans.dpd import (
    DpdPoint,
    Event,
    Instalment,
    Segment,
    dpd_history,
    dpd_on,
    figures,
    recompute_from,
    schedule_segments,
)

D0 = dt.date(2026, 1, 1)


def day(n: int) -> dt.date:
    return D0 + dt.timedelta(days=n)


# Three monthly instalments of 1,000.00 principal + 50.00 interest (amounts in fen).
SCHEDULE = [Instalment(day(30), 100_000, 5_000), Instalment(day(60), 100_000, 5_000),
            Instalment(day(90), 100_000, 5_000)]


def pay(rid, n, principal, interest):
    return Event(rid, day(n), principal, interest)


def test_paid_on_time_is_never_past_due():
    events = [pay("a", 30, 100_000, 5_000), pay("b", 59, 100_000, 5_000),
              pay("c", 90, 100_000, 5_000)]
    assert dpd_history(SCHEDULE, events, as_of=day(120)) == []
    f = figures(SCHEDULE, events, as_of=day(120))
    assert (f.dpd_principal, f.dpd_interest) == (0, 0)
    assert (f.overdue_principal, f.overdue_interest) == (0, 0)
    assert f.principal_paid == 300_000


def test_missed_instalment_counts_from_its_due_date():
    history = dpd_history(SCHEDULE, [], as_of=day(75))
    # Arrears start the day after the first due date and keep counting from it: the second
    # due date passing moves nothing (the first unpaid due date is still day 30).
    assert history == [DpdPoint(day(31), 1, 1)]
    assert dpd_on(history, day(75)) == (45, 45)
    assert dpd_on(history, day(30)) == (0, 0)
    f = figures(SCHEDULE, [], as_of=day(75))
    assert (f.dpd_principal, f.dpd_interest) == (45, 45)
    assert (f.overdue_principal, f.overdue_interest) == (200_000, 10_000)


def test_partial_payment_pays_interest_before_principal():
    # 60.00 paid on the due date: the 50.00 interest, then 10.00 of principal.
    events = [pay("a", 30, 6_000, 0)]
    f = figures(SCHEDULE, events, as_of=day(40))
    assert (f.dpd_principal, f.dpd_interest) == (10, 0)
    assert (f.overdue_principal, f.overdue_interest) == (99_000, 0)
    assert (f.principal_paid, f.interest_paid) == (1_000, 5_000)


def test_back_dated_payment_clears_the_arrears_from_its_value_date():
    events = []
    history = dpd_history(SCHEDULE, events, as_of=day(45))
    assert history == [DpdPoint(day(31), 1, 1)]
    # Booked on day 45 by the core, value date day 35: arrears end on day 35.
    events.append(pay("late", 35, 100_000, 5_000))
    kept, fresh = recompute_from(history, SCHEDULE, events, first_affected=day(35),
                                 as_of=day(45))
    assert kept + fresh == [DpdPoint(day(31), 1, 1), DpdPoint(day(35), 0, 0)]
    assert kept + fresh == dpd_history(SCHEDULE, events, as_of=day(45))
    # Back-dated to the due date itself: the loan was never past due.
    on_time = [pay("ontime", 30, 100_000, 5_000)]
    assert dpd_history(SCHEDULE, on_time, as_of=day(45)) == []


def test_reversal_reopens_the_arrears():
    events = [pay("a", 30, 100_000, 5_000)]
    assert dpd_history(SCHEDULE, events, as_of=day(50)) == []
    events.append(Event("rev-a", day(40), reverses="a"))
    history = dpd_history(SCHEDULE, events, as_of=day(50))
    # The reversed money never counted: past due since the day after day 30.
    assert history == [DpdPoint(day(31), 1, 1)]
    assert figures(SCHEDULE, events, as_of=day(50)).dpd_principal == 20


def test_second_instalment_becomes_first_unpaid_after_the_first_is_paid():
    events = [pay("a", 70, 100_000, 5_000)]
    history = dpd_history(SCHEDULE, events, as_of=day(80))
    # Paid on day 70: the first unpaid due date moves from day 30 to day 60.
    assert history == [DpdPoint(day(31), 1, 1), DpdPoint(day(70), 10, 10)]
    assert dpd_on(history, day(80)) == (20, 20)


def test_interest_only_instalments_have_no_principal_arrears():
    bullet = [Instalment(day(30), 0, 5_000), Instalment(day(60), 100_000, 5_000)]
    f = figures(bullet, [], as_of=day(40))
    assert (f.dpd_principal, f.dpd_interest) == (0, 10)


# --- restructuring --------------------------------------------------------------------------

def restructured(on: int, *rows, version: int = 2):
    """A new schedule version in force from day `on`: (due day, principal, interest) rows."""
    return [Instalment(day(due), p, i, version, day(on)) for due, p, i in rows]


# The first schedule (in force from day 0) and, on day 50, the 3,000.00 outstanding with the
# first instalment's arrears capitalised into two instalments due on days 80 and 110.
FIRST = [Instalment(i.due_date, i.principal, i.interest, 1, day(0)) for i in SCHEDULE]
SECOND = restructured(50, (80, 150_000, 8_000), (110, 150_000, 8_000))


def test_restructuring_cures_the_arrears_from_its_day_and_keeps_the_history_before():
    before = dpd_history(FIRST, [], as_of=day(49))
    assert before == [DpdPoint(day(31), 1, 1)]
    history = dpd_history(FIRST + SECOND, [], as_of=day(79))
    # Days 31..49 as the first schedule gave them; current from day 50 on.
    assert [p for p in history if p.as_of < day(50)] == before
    assert history == [DpdPoint(day(31), 1, 1), DpdPoint(day(50), 0, 0)]
    assert dpd_on(history, day(49)) == (19, 19)
    assert dpd_on(history, day(79)) == (0, 0)
    f = figures(FIRST + SECOND, [], as_of=day(79))
    assert (f.dpd_principal, f.dpd_interest, f.overdue_principal, f.overdue_interest) == \
        (0, 0, 0, 0)


def test_missing_the_new_schedule_counts_from_its_due_date():
    history = dpd_history(FIRST + SECOND, [], as_of=day(95))
    assert history == [DpdPoint(day(31), 1, 1), DpdPoint(day(50), 0, 0),
                       DpdPoint(day(81), 1, 1)]
    f = figures(FIRST + SECOND, [], as_of=day(95))
    assert (f.dpd_principal, f.dpd_interest) == (15, 15)
    assert (f.overdue_principal, f.overdue_interest) == (150_000, 8_000)


def test_payments_count_against_the_version_in_force_on_their_value_date():
    # Paid before the restructuring: the first schedule's first instalment, nothing of the
    # new one. Paid from day 50: the new schedule's.
    events = [pay("old", 40, 100_000, 5_000), pay("new", 80, 150_000, 8_000)]
    history = dpd_history(FIRST + SECOND, events, as_of=day(100))
    assert history == [DpdPoint(day(31), 1, 1), DpdPoint(day(40), 0, 0)]
    f = figures(FIRST + SECOND, events, as_of=day(100))
    assert (f.dpd_principal, f.overdue_principal) == (0, 0)
    # Principal repaid as the schedule in force sees it: 3,000.00 disbursed, 3,000.00 owed
    # from day 50, 1,500.00 of it paid.
    assert f.principal_paid == 300_000 - 300_000 + 150_000


def test_a_back_dated_repayment_before_the_restructuring_changes_only_the_history_before():
    history = dpd_history(FIRST + SECOND, [], as_of=day(60))
    late = [pay("late", 45, 100_000, 5_000)]
    kept, fresh = recompute_from(history, FIRST + SECOND, late, first_affected=day(45),
                                 as_of=day(60))
    assert kept + fresh == [DpdPoint(day(31), 1, 1), DpdPoint(day(45), 0, 0)]
    assert kept + fresh == dpd_history(FIRST + SECOND, late, as_of=day(60))


def test_a_second_restructuring_and_a_superseded_version():
    third = restructured(90, (120, 300_000, 9_000), version=3)
    history = dpd_history(FIRST + SECOND + third, [], as_of=day(100))
    assert history == [DpdPoint(day(31), 1, 1), DpdPoint(day(50), 0, 0),
                       DpdPoint(day(81), 1, 1), DpdPoint(day(90), 0, 0)]
    # A version in force on or before an earlier one's day replaces it wholly.
    same_day = restructured(50, (140, 300_000, 9_000), version=3)
    assert dpd_history(FIRST + SECOND + same_day, [], as_of=day(100)) == \
        [DpdPoint(day(31), 1, 1), DpdPoint(day(50), 0, 0)]
    segments = schedule_segments((i.version, i.effective_from, i.due_date, i.principal,
                                  i.interest) for i in FIRST + SECOND + same_day)
    assert [s.start for s in segments] == [None, day(50)]
    assert segments[1] == Segment(day(50), [(day(140), 300_000, 9_000)])


# --- the property -------------------------------------------------------------------------

schedules = st.lists(
    st.tuples(st.integers(1, 40), st.integers(0, 5_000), st.integers(0, 800)),
    min_size=1, max_size=6,
).map(lambda rows: _schedule(rows))


def _schedule(rows):
    due, out = 0, []
    for gap, principal, interest in rows:
        due += gap
        out.append(Instalment(day(due), principal, interest))
    return out


@st.composite
def arrivals(draw):
    """Repayments and reversals, and an order of arrival (a reversal after its repayment),
    each with the day the loan was last computed when it arrived."""
    horizon = 260
    n = draw(st.integers(0, 8))
    repayments = [Event(f"r{k}", day(draw(st.integers(0, horizon))),
                        draw(st.integers(0, 3_000)), draw(st.integers(0, 500)))
                  for k in range(n)]
    reversed_ = draw(st.lists(st.sampled_from(repayments), unique_by=lambda e: e.record_id)
                     ) if repayments else []
    order = draw(st.permutations(repayments))
    for k, target in enumerate(reversed_):
        reversal = Event(f"x{k}", target.value_date + dt.timedelta(days=draw(st.integers(0, 30))),
                         reverses=target.record_id)
        after = order.index(target)
        order.insert(draw(st.integers(after + 1, len(order))), reversal)
    computed_on = sorted(draw(st.lists(st.integers(0, horizon), min_size=len(order),
                                       max_size=len(order))))
    return order, [day(d) for d in computed_on]


@st.composite
def restructurings(draw):
    """0 to 2 restructurings: (first day in force, new schedule rows due after it)."""
    out = []
    for version in range(2, 2 + draw(st.integers(0, 2))):
        on = draw(st.integers(1, 240))
        rows = draw(st.lists(st.tuples(st.integers(1, 40), st.integers(0, 5_000),
                                       st.integers(0, 800)), min_size=1, max_size=4))
        due, versioned = on, []
        for gap, principal, interest in rows:
            due += gap
            versioned.append(Instalment(day(due), principal, interest, version, day(on)))
        out.append(versioned)
    return out


@settings(max_examples=400, deadline=None)
@given(schedule=schedules, arrival=arrivals(), final=st.integers(0, 300),
       later=restructurings(), data=st.data())
def test_incremental_dpd_equals_recomputation_for_any_order_of_arrival(
        schedule, arrival, final, later, data):
    """Repayments, reversals and restructurings arrive in any order; each arrival
    recomputes from the first day it touches (a restructuring: its first day in force)."""
    order, computed_on = arrival
    # Restructurings interleave with the events (in version order: each is approved after
    # the one before), each arriving with a day the loan was computed on.
    order = list(order)
    slot = 0
    for versioned in later:
        slot = data.draw(st.integers(slot, len(order)))
        order.insert(slot, versioned)
        slot += 1
        computed_on = sorted([*computed_on, day(data.draw(st.integers(0, 260)))])
    first_version = [Instalment(i.due_date, i.principal, i.interest, 1, day(0))
                     for i in schedule]
    final_day = max([day(final), *computed_on])
    history, seen, versions, last = [], [], list(first_version), None
    by_id = {}
    for item, as_of in zip(order, computed_on, strict=True):
        if isinstance(item, list):  # a restructuring
            versions = versions + item
            touched = item[0].effective_from
        else:
            by_id[item.record_id] = item
            seen.append(item)
            touched = by_id[item.reverses].value_date if item.reverses else item.value_date
        # As the feed does: from the first affected day, or the day after the last run (the
        # loan's value date, day 0, when it was never computed).
        first = min(touched, last + dt.timedelta(days=1) if last else day(0))
        kept, fresh = recompute_from(history, versions, seen, first_affected=first,
                                     as_of=as_of)
        history, last = kept + fresh, as_of
    # The nightly run brings the history up to the final day.
    if last is not None:
        kept, fresh = recompute_from(history, versions, seen,
                                     first_affected=last + dt.timedelta(days=1), as_of=final_day)
        history = kept + fresh
    else:
        history = dpd_history(versions, [], as_of=final_day)
    assert history == dpd_history(versions, seen, as_of=final_day)
    f = figures(versions, seen, as_of=final_day)
    assert (f.dpd_principal, f.dpd_interest) == dpd_on(history, final_day)
    # A restructuring leaves the history before its first day as the versions in force
    # before it gave it, and the loan current on its first day (its instalments all fall
    # due later) unless a later one in force from the same day replaced it.
    for versioned in later:
        on = versioned[0].effective_from
        if on > final_day:
            continue
        earlier = [i for i in versions if i.version == 1 or i.effective_from < on]
        assert [p for p in history if p.as_of < on] == \
            [p for p in dpd_history(earlier, seen, as_of=on - dt.timedelta(days=1))]
        if not any(i.version > versioned[0].version and i.effective_from <= on
                   for i in versions):
            assert dpd_on(history, on) == (0, 0)

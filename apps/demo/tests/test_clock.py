"""The demo's story clock moves only forward and never reaches the present (issue #18)."""

import datetime as dt

import pytest

from apps.demo.clock import StoryClock, StoryOverrun, real_now


def test_the_story_clock_moves_forward_in_the_past_and_stops():
    start = real_now() - dt.timedelta(hours=3)
    with StoryClock(start) as clock:
        assert abs(clock.now() - start) < dt.timedelta(seconds=5)
        moved = clock.advance(dt.timedelta(minutes=90))
        assert moved - start >= dt.timedelta(minutes=90)
        assert clock.advance_to(start) == pytest.approx(clock.now(), abs=dt.timedelta(seconds=1))
        with pytest.raises(ValueError):
            clock.advance(dt.timedelta(minutes=-1))
        with pytest.raises(StoryOverrun):
            clock.advance(dt.timedelta(hours=2))
    assert abs(dt.datetime.now(dt.UTC) - real_now()) < dt.timedelta(seconds=5)
    with pytest.raises(StoryOverrun):
        StoryClock(real_now() + dt.timedelta(minutes=1))


@pytest.mark.parametrize("seeded_on", [dt.date(2027, 1, 1), dt.date(2027, 1, 2),
                                       dt.date(2027, 6, 30), dt.date(2027, 12, 31)])
def test_seeded_policy_is_in_force_before_a_story_that_starts_days_back(seeded_on):
    """The story starts up to about two days before the seed; on 1 January that is last year,
    so policy seeded from this year's 1 January would leave nothing in force."""
    from apps.core.policy import seeded_policy_effective_from

    assert seeded_policy_effective_from(seeded_on) <= seeded_on - dt.timedelta(days=30)


@pytest.mark.parametrize("before_local", [
    dt.datetime(2026, 12, 7, 0, 40),    # Monday just after midnight: last week's slots
    dt.datetime(2026, 12, 9, 13, 5),    # Wednesday lunchtime: the morning counts
    dt.datetime(2026, 12, 12, 22, 0),   # Saturday night
    dt.datetime(2026, 12, 14, 9, 20),   # Monday, before a first visit could end
])
def test_site_visits_are_slotted_in_working_hours(before_local):
    """Issue #18: no night-time or weekend visits, however late the seed runs; the latest
    slots, oldest first, none overlapping, the last ending by `before`."""
    from django.utils import timezone

    from apps.demo.clock import WORKDAY_END, WORKDAY_START, in_working_hours, visit_starts

    before = timezone.make_aware(before_local)
    slot = dt.timedelta(minutes=107)
    starts = visit_starts(23, slot, before=before)
    assert len(starts) == 23
    assert starts == sorted(starts)
    assert all(b - a >= slot for a, b in zip(starts, starts[1:], strict=False))
    assert starts[-1] + slot <= before
    for start in starts:
        local = timezone.localtime(start)
        assert local.weekday() < 5 and in_working_hours(start, slot)
        assert local.time() >= WORKDAY_START and (local + slot).time() <= WORKDAY_END
    # The latest slots: no working-hours slot fits between the last one and `before`.
    after = starts[-1] + slot
    assert not (in_working_hours(after, slot) and after + slot <= before)
    with pytest.raises(ValueError):
        visit_starts(1, dt.timedelta(hours=9), before=before)

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

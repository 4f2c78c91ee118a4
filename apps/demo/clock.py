"""The demo seed's story clock (issue #18): honest site visits take real minutes, in the past.

An honest investigation lasts over an hour: both officers check in, answer section by section at
a human pace, take photos, check out, and the reviewer accepts later. The seed cannot wait that
long, so it tells the story under a simulated clock (`time-machine`) that starts far enough in
the past, flows with real time and is moved only forward, and stops before the present: every
timestamp the services write (`timezone.now()`, auto_now fields, EXIF times built from it) is
then a plausible past moment, and nothing is dated in the future. The later lifecycle (loans,
monitoring) runs after the clock has stopped, on the real clock.

Site visits happen in working hours (`visit_starts`): officers call on a firm on a weekday
between the start and the end of the working day, never at night, so the story's visits are
spread over the past working days, several a day.
"""

from __future__ import annotations

import datetime as dt

import time_machine
from time_machine import escape_hatch

# The working day a site visit must fit in, local time (settings.TIME_ZONE), Monday to Friday.
# The demo's story, not a control threshold: no control reads it.
WORKDAY_START = dt.time(9, 0)
WORKDAY_END = dt.time(17, 30)
WORKDAYS = (0, 1, 2, 3, 4)


class StoryOverrun(RuntimeError):
    """The story would reach the real present: its budget was too small."""


def real_now() -> dt.datetime:
    """The machine's clock, whatever the story clock says (aware, UTC)."""
    if escape_hatch.is_travelling():
        return escape_hatch.datetime.datetime.now(dt.UTC)
    return dt.datetime.now(dt.UTC)


class StoryClock:
    """`with StoryClock(start) as clock:` the story runs from `start` (aware, in the past);
    `clock.advance(delta)` moves it forward. It refuses to reach `margin` before real time."""

    def __init__(self, start: dt.datetime, *, margin: dt.timedelta = dt.timedelta(minutes=5)):
        if start.tzinfo is None:
            raise ValueError("The story clock starts at an aware moment.")
        if start >= real_now() - margin:
            raise StoryOverrun("The story clock must start in the past.")
        self.start, self.margin = start, margin
        self._traveller = None
        self._coordinates = None

    def __enter__(self) -> StoryClock:
        # tick=True: time flows between steps as it really would, so no two moves share an
        # instant and code waiting on time.time() never stalls.
        self._traveller = time_machine.travel(self.start, tick=True)
        self._coordinates = self._traveller.start()
        return self

    def __exit__(self, *exc) -> None:
        ended = self.now()
        self._traveller.stop()
        self._traveller = self._coordinates = None
        if exc[0] is None and ended > real_now():
            raise StoryOverrun(f"The story clock ended at {ended.isoformat()}, in the future.")

    def now(self) -> dt.datetime:
        return dt.datetime.now(dt.UTC)

    def advance(self, delta: dt.timedelta) -> dt.datetime:
        """Move the story forward by `delta` (never backward, never past the present)."""
        if delta < dt.timedelta(0):
            raise ValueError("The story clock moves only forward.")
        if self.now() + delta > real_now() - self.margin:
            raise StoryOverrun("The story would reach the present; start it earlier.")
        self._coordinates.shift(delta)
        return self.now()

    def advance_to(self, moment: dt.datetime) -> dt.datetime:
        """Move to `moment` if it is still ahead; a moment already past leaves the clock as is."""
        ahead = moment - self.now()
        return self.advance(ahead) if ahead > dt.timedelta(0) else self.now()


def in_working_hours(start: dt.datetime, length: dt.timedelta) -> bool:
    """Whether a visit from `start` (aware) lasting `length` is on a working day, inside it."""
    from django.utils import timezone

    local = timezone.localtime(start)
    end = timezone.localtime(start + length)
    return (local.weekday() in WORKDAYS and end.date() == local.date()
            and local.time() >= WORKDAY_START and end.time() <= WORKDAY_END)


def visit_starts(count: int, slot: dt.timedelta, *, before: dt.datetime) -> list[dt.datetime]:
    """`count` moments, oldest first, at which a visit of at most `slot` begins and ends
    within the working day, back to back from the day's start, the last ending by `before`
    (aware): the latest such slots, going back over as many working days as they need."""
    from django.utils import timezone

    if slot <= dt.timedelta(0) or slot > (dt.datetime.combine(dt.date.min, WORKDAY_END)
                                          - dt.datetime.combine(dt.date.min, WORKDAY_START)):
        raise ValueError("A visit slot must fit in one working day.")
    zone = timezone.get_current_timezone()
    starts: list[dt.datetime] = []
    day = timezone.localtime(before).date()
    while len(starts) < count:
        if day.weekday() in WORKDAYS:
            moment = timezone.make_aware(dt.datetime.combine(day, WORKDAY_START), zone)
            today = []
            while in_working_hours(moment, slot):
                if moment + slot <= before:
                    today.append(moment)
                moment += slot
            starts = today[-(count - len(starts)):] + starts
        day -= dt.timedelta(days=1)
    return starts

"""The demo seed's story clock (issue #18): honest site visits take real minutes, in the past.

An honest investigation lasts over an hour: both officers check in, answer section by section at
a human pace, take photos, check out, and the reviewer accepts later. The seed cannot wait that
long, so it tells the story under a simulated clock (`time-machine`) that starts far enough in
the past, flows with real time and is moved only forward, and stops before the present: every
timestamp the services write (`timezone.now()`, auto_now fields, EXIF times built from it) is
then a plausible past moment, and nothing is dated in the future. The later lifecycle (loans,
monitoring) runs after the clock has stopped, on the real clock.
"""

from __future__ import annotations

import datetime as dt

import time_machine
from time_machine import escape_hatch


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

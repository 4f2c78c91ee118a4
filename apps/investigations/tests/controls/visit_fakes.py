"""A generator of honest and faked two-officer site visits for the together control.

Honest: the two officers arrive within a quarter of an hour of each other, stay 60-150
minutes, leave within a quarter of an hour (one may have checked in twice, stepping out).
Faked, as someone who knows "each officer checks in for 60 minutes" would do it: the visits
are made one after the other (overlap 0-30 minutes), or the second officer checks in from
2-10 km away while the first is on site.
"""

from __future__ import annotations

import datetime as dt
import math
import random
from decimal import Decimal
from types import SimpleNamespace

from .helpers import SITE

LEAD, ASSIST = 1, 2
START = dt.datetime(2026, 11, 20, 9, 0, tzinfo=dt.UTC)


def _at(metres_north: float) -> tuple[Decimal, Decimal]:
    return (SITE[0] + Decimal(str(round(metres_north / 111_000, 6))), SITE[1])


def _check_in(officer, start, minutes, *, north_m=20.0):
    lat, lng = _at(north_m)
    return SimpleNamespace(officer_id=officer, at=start,
                           checked_out_at=start + dt.timedelta(minutes=minutes),
                           lat=lat, lng=lng, out_lat=lat, out_lng=lng)


def investigation():
    return SimpleNamespace(lead_officer_id=LEAD, assisting_officer_id=ASSIST)


def honest(rnd: random.Random):
    start = START + dt.timedelta(minutes=rnd.randint(0, 300))
    stay = rnd.randint(60, 150)
    lead = [_check_in(LEAD, start, stay, north_m=rnd.uniform(0, 150))]
    gap_in, gap_out = rnd.randint(0, 15), rnd.randint(-15, 15)
    assist_start = start + dt.timedelta(minutes=gap_in)
    assist_stay = max(stay - gap_in + gap_out, 20)
    if rnd.random() < 0.3:  # stepped out to the car and checked in again
        first = rnd.randint(10, max(assist_stay - 20, 11))
        out = rnd.randint(3, 10)
        assist = [_check_in(ASSIST, assist_start, first, north_m=rnd.uniform(0, 150)),
                  _check_in(ASSIST, assist_start + dt.timedelta(minutes=first + out),
                            max(assist_stay - first - out, 5), north_m=rnd.uniform(0, 150))]
    else:
        assist = [_check_in(ASSIST, assist_start, assist_stay, north_m=rnd.uniform(0, 150))]
    return lead + assist


def faked(rnd: random.Random):
    start = START + dt.timedelta(minutes=rnd.randint(0, 300))
    stay = rnd.randint(60, 90)
    lead = [_check_in(LEAD, start, stay)]
    if rnd.random() < 0.6:  # one after the other
        overlap = rnd.randint(0, 30)
        later = start + dt.timedelta(minutes=stay - overlap + rnd.randint(0, 120) * (overlap == 0))
        return lead + [_check_in(ASSIST, later, rnd.randint(60, 90))]
    far = rnd.uniform(2000, 10000)  # "checked in" from elsewhere while the other was there
    return lead + [_check_in(ASSIST, start + dt.timedelta(minutes=rnd.randint(0, 10)),
                             stay, north_m=far * math.copysign(1, rnd.random() - 0.5))]

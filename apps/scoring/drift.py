"""Population stability: the training distribution stored with a model version, and the PSI
of recent scores against it (domain reference §7.3: PSI = Σ (A% − E%)·ln(A%/E%) over bands;
< 0.1 stable, 0.1–0.25 investigate, > 0.25 redevelop; CSI is the same per characteristic).

Bands: numeric values in deciles of the training values (duplicates merged) plus a missing
band; categorical values by category plus "other" (unseen) and missing. The same banding is
applied to the recent values, so both distributions are over the same bands.
"""

import numpy as np

from apps.scoring.scorecard.binning import NUMERIC
from apps.scoring.scorecard.metrics import psi

MISSING, OTHER = "__missing__", "__other__"


def numeric_profile(values, bands: int = 10) -> dict:
    values = np.asarray(values, dtype=float)
    present = values[~np.isnan(values)]
    edges = []
    if present.size:
        quantiles = np.quantile(present, np.linspace(0, 1, bands + 1)[1:-1])
        edges = [float(e) for e in np.unique(quantiles)]
    profile = {"kind": NUMERIC, "edges": edges}
    profile["shares"] = numeric_shares(profile, values)
    return profile


def numeric_shares(profile: dict, values) -> list[float]:
    """Share per band: len(edges) + 1 intervals (right-closed), then missing."""
    values = np.asarray(values, dtype=float)
    n = max(len(values), 1)
    present = ~np.isnan(values)
    index = np.searchsorted(profile["edges"], values[present], side="left")
    counts = np.bincount(index, minlength=len(profile["edges"]) + 1).astype(float)
    return [*(counts / n).tolist(), float((~present).sum() / n)]


def categorical_profile(values) -> dict:
    cells = [MISSING if v is None else str(v) for v in values]
    categories = sorted({c for c in cells if c != MISSING})
    profile = {"kind": "categorical", "categories": categories}
    profile["shares"] = categorical_shares(profile, values)
    return profile


def categorical_shares(profile: dict, values) -> list[float]:
    """Share per known category, then unseen ("other"), then missing."""
    known = {c: i for i, c in enumerate(profile["categories"])}
    counts = np.zeros(len(known) + 2)
    for v in values:
        counts[len(known) + 1 if v is None else known.get(str(v), len(known))] += 1
    return (counts / max(len(values), 1)).tolist()


def profile_of(kind: str, values) -> dict:
    return numeric_profile(values) if kind == NUMERIC else categorical_profile(values)


def shares_of(profile: dict, values) -> list[float]:
    return numeric_shares(profile, values) if profile["kind"] == NUMERIC \
        else categorical_shares(profile, values)


def training_profile(*, scores, columns: dict, kinds: dict, features: list[str]) -> dict:
    """The drift baseline stored with a model version: score deciles and feature bands."""
    return {"score": numeric_profile(scores), "n": int(len(scores)),
            "features": {f: profile_of(kinds[f], columns[f]) for f in features}}


def psi_against(profile: dict, values) -> float:
    """PSI of `values` against a stored profile (expected = training shares)."""
    return psi(profile["shares"], shares_of(profile, values))

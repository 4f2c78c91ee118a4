"""Model metrics (domain reference §7.3).

Discrimination on a holdout: AUC, Gini = 2·AUC − 1, and KS = max(TPR − FPR) over thresholds (the
two-sample KS statistic between bads' and goods' scores). Stability: PSI = Σ (A% − E%)·ln(A%/E%)
over score bands (< 0.1 stable, 0.1–0.25 investigate, > 0.25 redevelop).
"""

import numpy as np
from sklearn.metrics import roc_auc_score, roc_curve


def discrimination(y_true, p_bad) -> dict[str, float]:
    y_true, p_bad = np.asarray(y_true), np.asarray(p_bad, dtype=float)
    if len(set(y_true.tolist())) < 2:
        raise ValueError("the holdout needs both goods and bads to measure discrimination")
    auc = float(roc_auc_score(y_true, p_bad))
    fpr, tpr, _ = roc_curve(y_true, p_bad)
    return {"auc": auc, "gini": 2 * auc - 1, "ks": float(np.max(tpr - fpr))}


def psi(expected_shares, actual_shares, floor: float = 1e-6) -> float:
    """Population stability index between two distributions over the same bands.

    Shares are floored at `floor` so an empty band gives a large but finite index instead of an
    infinity (an empty band is itself the signal); shares are renormalised to sum to one.
    """
    e = np.maximum(np.asarray(expected_shares, dtype=float), floor)
    a = np.maximum(np.asarray(actual_shares, dtype=float), floor)
    if e.shape != a.shape or e.ndim != 1:
        raise ValueError("expected and actual need one share per band")
    e, a = e / e.sum(), a / a.sum()
    return float(np.sum((a - e) * np.log(a / e)))


def calibration_summary(y_true, p_bad, bands: int = 10) -> dict[str, float]:
    """Brier score, mean predicted PD against the observed bad rate (calibration in the
    large), and the expected calibration error: the row-weighted mean |predicted − observed|
    over `bands` equal-size bands of predicted PD."""
    y_true, p_bad = np.asarray(y_true, dtype=float), np.asarray(p_bad, dtype=float)
    order = np.argsort(p_bad, kind="stable")
    ece = sum(chunk.size * abs(p_bad[chunk].mean() - y_true[chunk].mean())
              for chunk in np.array_split(order, min(bands, len(order)))) / len(order)
    return {"brier": float(np.mean((p_bad - y_true) ** 2)),
            "mean_predicted": float(p_bad.mean()), "observed": float(y_true.mean()),
            "ece": float(ece)}

"""How far a challenger agrees with the champion on the same inputs (issue #20).

Pure arithmetic over pairs of scores — (application id, challenger PD, challenger grade,
champion PD, champion grade) — so the model page can show it live from shadow scores:

- Spearman rank correlation of the two PDs: do they order applicants the same way?
- grade migration: a champion-grade × challenger-grade table, the share graded the same and
  the share within one grade;
- realised default rates per grade under each model, once outcomes (the default definition
  in the decision policy) exist for some of the paired applications.
"""

from __future__ import annotations

import numpy as np
from scipy.stats import spearmanr

MIN_PAIRS_FOR_CORRELATION = 3  # below this a rank correlation is undefined or meaningless


def agreement(pairs: list, *, grades: list[str], outcomes: dict[int, int]) -> dict:
    """Figures for the model page; grades outside the policy's table are added at the end."""
    n = len(pairs)
    seen = [g for g in grades]
    for _app, _p, g, _cp, cg in pairs:
        for grade in (g, cg):
            if grade not in seen:
                seen.append(grade)
    index = {g: i for i, g in enumerate(seen)}
    matrix = np.zeros((len(seen), len(seen)), dtype=int)
    for _app, _p, g, _cp, cg in pairs:
        matrix[index[cg], index[g]] += 1
    same = int(np.trace(matrix))
    within_one = int(sum(matrix[i, j] for i in range(len(seen)) for j in range(len(seen))
                         if abs(i - j) <= 1))
    rho = None
    if n >= MIN_PAIRS_FOR_CORRELATION:
        challenger = np.array([p[1] for p in pairs], dtype=float)
        champion = np.array([p[3] for p in pairs], dtype=float)
        if np.ptp(challenger) > 0 and np.ptp(champion) > 0:
            rho = float(spearmanr(challenger, champion).statistic)
    labelled = [(p, outcomes[p[0]]) for p in pairs if p[0] in outcomes]
    return {
        "pairs": n,
        "spearman": rho,
        "same_grade": same / n if n else None,
        "within_one_grade": within_one / n if n else None,
        "grades": seen,
        "migration": [{"champion_grade": g, "counts": matrix[i].tolist(),
                       "total": int(matrix[i].sum())} for i, g in enumerate(seen)],
        "labelled": len(labelled),
        "default_rates": _default_rates(labelled, seen) if labelled else [],
    }


def _default_rates(labelled: list, grades: list[str]) -> list[dict]:
    """Per grade: loans and realised bad rate under the champion and under the challenger."""
    rows = []
    for grade in grades:
        champion = [bad for p, bad in labelled if p[4] == grade]
        challenger = [bad for p, bad in labelled if p[2] == grade]
        rows.append({
            "grade": grade,
            "champion_n": len(champion),
            "champion_bad_rate": sum(champion) / len(champion) if champion else None,
            "challenger_n": len(challenger),
            "challenger_bad_rate": sum(challenger) / len(challenger) if challenger else None,
        })
    return rows

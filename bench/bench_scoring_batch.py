"""Batch scoring of in-memory rows by the scorecard and the GBM challenger, against raw
scikit-learn prediction on the same rows in the same run (no database, no worker).

This is the predict step of issue 6's re-scoring bench, isolated, so the model code's own cost
is visible before I/O is added:
  * scorecard probabilities (binning + WOE + logistic regression) and the full result (score,
    grade, reason codes per row), as a ratio to `LogisticRegression.predict_proba` on a ready
    float matrix of the same width;
  * the GBM challenger's JSON-tree evaluator (probabilities; with contributions), as a ratio to
    scikit-learn's `HistGradientBoostingClassifier.predict_proba` on the same matrix.
Rows come from the synthetic SME generator (apps/scoring/synthetic.py).
"""

import argparse
import os
import sys
import time
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("OMP_NUM_THREADS", "1")  # CONVENTIONS §4: one thread, as in workers


def _best(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000, help="rows to score")
    parser.add_argument("--train-rows", type=int, default=5_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    import numpy as np
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.linear_model import LogisticRegression

    from apps.scoring.scorecard.data import infer_kind, parse_target, to_column
    from apps.scoring.scorecard.gbm import GradientBoostingModel, _matrix
    from apps.scoring.scorecard.model import Scorecard
    from apps.scoring.synthetic import COLUMNS, generate_rows

    def columns_of(rows):
        cells = {c: [r[c] for r in rows] for c in COLUMNS}
        y = parse_target(cells.pop("default"), "default")
        kinds = {c: infer_kind(v) for c, v in cells.items()}
        return {c: to_column(v, kinds[c], c) for c, v in cells.items()}, kinds, y

    train, kinds, y = columns_of(generate_rows(args.train_rows, seed=1))
    score, _, _ = columns_of(generate_rows(args.rows, seed=2))
    card = Scorecard.fit(train, kinds, y, target="default", seed=1)
    gbm = GradientBoostingModel.fit(train, kinds, y, target="default", seed=1)

    x = _matrix(score, gbm.features, kinds, gbm.codes)
    x_filled = np.nan_to_num(x)
    with warnings.catch_warnings():  # unscaled raw features: only its predict speed matters
        warnings.simplefilter("ignore")
        raw_lr = LogisticRegression(max_iter=1000).fit(np.nan_to_num(
            _matrix(train, gbm.features, kinds, gbm.codes)), y)
    raw_hgb = HistGradientBoostingClassifier(max_iter=150, random_state=1).fit(
        _matrix(train, gbm.features, kinds, gbm.codes), y)

    t_lr = _best(lambda: raw_lr.predict_proba(x_filled), args.repeat)
    t_card_p = _best(lambda: card.predict_proba(score), args.repeat)
    t_card = _best(lambda: card.predict(score), args.repeat)
    t_hgb = _best(lambda: raw_hgb.predict_proba(x), args.repeat)
    t_gbm_p = _best(lambda: gbm.margin_matrix(x), args.repeat)
    t_gbm = _best(lambda: gbm.predict(score), args.repeat)

    n = args.rows
    print(f"rows {n:,}, features {len(card.features)} (scorecard) / {len(gbm.features)} (gbm), "
          f"load average {os.getloadavg()[0]:.2f}")
    print(f"scorecard probabilities: {n / t_card_p:,.0f} rows/s, {t_card_p / t_lr:.1f}x raw LR "
          f"predict_proba ({n / t_lr:,.0f} rows/s); full result with grade and reasons: "
          f"{n / t_card:,.0f} rows/s, {t_card / t_lr:.0f}x")
    print(f"gbm JSON-tree margins: {n / t_gbm_p:,.0f} rows/s, {t_gbm_p / t_hgb:.1f}x sklearn HGB "
          f"predict_proba ({n / t_hgb:,.0f} rows/s); full result with contributions: "
          f"{n / t_gbm:,.0f} rows/s, {t_gbm / t_hgb:.1f}x")


if __name__ == "__main__":
    main()

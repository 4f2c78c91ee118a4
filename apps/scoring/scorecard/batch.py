"""Array-only prediction for bulk work (re-scoring, drift, training profiles).

`predict()` on the models builds one result dict per row, which dominated bulk re-scoring (the
note behind bench_scoring_batch). Here everything stays in numpy arrays: probability, score,
and the top-k reason codes as (feature index, bin index or -1) pairs, so a caller can turn
them into text only where it needs to.
"""

from dataclasses import dataclass

import numpy as np

from apps.scoring.scorecard.gbm import GradientBoostingModel
from apps.scoring.scorecard.model import Scorecard


@dataclass
class BatchPrediction:
    probability: np.ndarray   # (n,)
    score: np.ndarray         # (n,)
    reason_feature: np.ndarray  # (n, k) feature index, -1 where fewer than k reasons
    reason_bin: np.ndarray      # (n, k) scorecard bin index of that feature (-1 for GBM)


def predict_arrays(model, columns: dict, *, top_k: int = 3) -> BatchPrediction:
    if isinstance(model, Scorecard):
        return _scorecard(model, columns, top_k)
    if isinstance(model, GradientBoostingModel):
        return _gbm(model, columns, top_k)
    raise TypeError(f"unknown model type {type(model).__name__}")


def _scorecard(card: Scorecard, columns: dict, top_k: int) -> BatchPrediction:
    idx = card.bin_indices(columns)
    table = card.points_table()
    bins = np.column_stack([idx[f] for f in card.features])
    points = np.column_stack([np.asarray(table[f])[idx[f]] for f in card.features])
    woe = np.column_stack([card.binnings[f].woe_values()[idx[f]] for f in card.features])
    betas = np.array([card.coefficients[f] for f in card.features])
    log_odds = card.intercept + woe @ betas
    best = np.array([max(table[f]) for f in card.features])
    shortfall = best - points
    order = np.argsort(-shortfall, axis=1, kind="stable")[:, :top_k]
    rows = np.arange(points.shape[0])[:, None]
    keep = shortfall[rows, order] > 1e-9
    return BatchPrediction(probability=1.0 / (1.0 + np.exp(-log_odds)),
                           score=points.sum(axis=1),
                           reason_feature=np.where(keep, order, -1),
                           reason_bin=np.where(keep, bins[rows, order], -1))


def _gbm(model: GradientBoostingModel, columns: dict, top_k: int) -> BatchPrediction:
    x = model.matrix(columns)
    if top_k == 0:  # scores only (drift profiles): path attribution is most of the cost
        log_odds = model.calibration["a"] * model.margin_matrix(x) + model.calibration["b"]
        empty = np.full((x.shape[0], 0), -1)
        return BatchPrediction(probability=1.0 / (1.0 + np.exp(-log_odds)),
                               score=model.scaling.score_from_log_odds_bad(log_odds),
                               reason_feature=empty, reason_bin=empty)
    margin, contrib = model.margin_matrix(x, contributions=True)
    log_odds = model.calibration["a"] * margin + model.calibration["b"]
    order = np.argsort(-contrib, axis=1, kind="stable")[:, :top_k]
    rows = np.arange(contrib.shape[0])[:, None]
    keep = contrib[rows, order] > 1e-9
    return BatchPrediction(probability=1.0 / (1.0 + np.exp(-log_odds)),
                           score=model.scaling.score_from_log_odds_bad(log_odds),
                           reason_feature=np.where(keep, order, -1),
                           reason_bin=np.full(order.shape, -1))

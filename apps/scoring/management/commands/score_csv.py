from django.core.management.base import BaseCommand, CommandError

from apps.scoring.scorecard.data import DataError
from apps.scoring.scorecard.model import ArtefactError, parse_grades
from apps.scoring.services import ModelNotFound, csv_score


class Command(BaseCommand):
    help = ("Score every row of a CSV with a registered model version; write probability of "
            "default, score, grade and reason codes per row.")

    def add_arguments(self, parser):
        parser.add_argument("--model", required=True, help="registered model version label")
        parser.add_argument("--csv", required=True)
        parser.add_argument("--out", required=True)
        parser.add_argument("--id-column", default=None, help="input column to copy to the output")
        parser.add_argument("--grades", default=None,
                            help="grade cut-offs as JSON for this run (default: the version's)")
        parser.add_argument("--reasons", type=int, default=3, help="reason codes per row")

    def handle(self, *args, **options):
        try:
            grades = parse_grades(options["grades"])
            n = csv_score(grades=grades, version=options["model"], csv_path=options["csv"],
                          out_path=options["out"], id_column=options["id_column"],
                          top_k=options["reasons"])
        except (DataError, ModelNotFound, ArtefactError, ValueError) as exc:
            raise CommandError(str(exc)) from None
        except OSError as exc:
            raise CommandError(f"cannot write {options['out']!r}: {exc}") from None
        self.stdout.write(f"Scored {n} rows with {options['model']} into {options['out']}")

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from apps.scoring.services.performance import ImportRefused, loan_performance_import


class Command(BaseCommand):
    help = ("Import days past due of disbursed loans from a CSV with columns reference, as_of "
            "(YYYY-MM-DD) and days_past_due: every row or none, audited as one event.")

    def add_arguments(self, parser):
        parser.add_argument("--csv", required=True, help="CSV exported from the loan system")
        parser.add_argument("--source", default=None,
                            help="where the figures come from (default: the file name)")

    def handle(self, *args, **options):
        path = Path(options["csv"])
        try:
            content = path.read_bytes()
        except OSError as exc:
            raise CommandError(f"cannot read {path}: {exc.strerror}") from None
        try:
            counts = loan_performance_import(content=content,
                                             source=options["source"] or path.name, actor=None)
        except ImportRefused as exc:
            for line, message in exc.errors:
                self.stderr.write(f"line {line}: {message}")
            raise CommandError(f"nothing imported: {len(exc.errors)} row(s) refused") from None
        self.stdout.write(f"imported {counts['imported']} record(s) for "
                          f"{counts['applications']} application(s); "
                          f"{counts['unchanged']} already stored")

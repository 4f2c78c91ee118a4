from django.core.management.base import BaseCommand, CommandError

from apps.scoring.synthetic import write_csv


class Command(BaseCommand):
    help = ("Write a SYNTHETIC SME loan book (invented data; assumptions in "
            "apps/scoring/synthetic.py) to a CSV, for training a demo model.")

    def add_arguments(self, parser):
        parser.add_argument("--rows", type=int, default=5000)
        parser.add_argument("--out", required=True, help="CSV file to write")
        parser.add_argument("--seed", type=int, default=0)

    def handle(self, *args, rows, out, seed, **options):
        if rows < 1:
            raise CommandError("--rows must be at least 1")
        try:
            bads = write_csv(out, rows, seed)
        except OSError as exc:
            raise CommandError(f"cannot write {out!r}: {exc}") from None
        self.stdout.write(f"Wrote {rows} synthetic loans ({bads} defaults) to {out}")

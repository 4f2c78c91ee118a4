"""`manage.py import_core_feed FILE [--user NAME]`: the core system's file drop (CSV or XLSX)."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from apps.accounts.models import User
from apps.loans.feed import reason_text
from apps.loans.feed_files import feed_file_import
from apps.loans.models import FeedImport


class Command(BaseCommand):
    help = ("Import a core-banking feed file (repayments, reversals, balances): every row or "
            "none; refused rows are listed with line and reason. Exits 1 when refused.")

    def add_arguments(self, parser):
        parser.add_argument("file", type=Path)
        parser.add_argument("--user", help="Username the import is recorded under (a loan "
                                           "operations officer or administrator); default: "
                                           "the system.")

    def handle(self, *args, file: Path, user: str | None = None, **options):
        if not file.is_file():
            raise CommandError(f"No such file: {file}")
        actor = None
        if user:
            actor = User.objects.filter(username=user).first()
            if actor is None:
                raise CommandError(f"No user {user!r}")
        outcome = feed_file_import(path=file, filename=file.name, actor=actor)
        batch = outcome.feed_import
        if batch.outcome == FeedImport.Outcome.REFUSED:
            for error in batch.errors:
                self.stderr.write(f"line {error['line']}: {reason_text(error)}")
            raise CommandError(f"Refused: {len({e['line'] for e in batch.errors})} row(s); "
                               f"nothing was imported (import #{batch.pk}).")
        self.stdout.write(f"Imported #{batch.pk}: {batch.rows_total} rows, {batch.rows_new} "
                          f"new, {batch.rows_duplicate} already received; "
                          f"{outcome.loans_recomputed} loans' days past due recomputed.")

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from apps.oversight.verification import verify_export_file


class Command(BaseCommand):
    help = ("Check an audit export (CSV, JSON or XLSX) against the database: rows, hashes, "
            "digest, completeness and chain head. Exit 1 naming each problem.")

    def add_arguments(self, parser):
        parser.add_argument("file", type=Path)

    def handle(self, *args, file: Path, **options):
        if not file.is_file():
            raise CommandError(f"{file}: no such file")
        try:
            check = verify_export_file(file)
        except ValueError as exc:
            raise CommandError(f"{file}: {exc}") from exc
        if not check.ok:
            raise CommandError("Export does NOT match the audit trail:\n  "
                               + "\n  ".join(check.problems))
        manifest = check.manifest
        self.stdout.write(self.style.SUCCESS(
            f"Export OK: {check.rows} events, seq {manifest.get('first_seq')}.."
            f"{manifest.get('last_seq')}, digest {manifest.get('rows_sha256')}, chain head "
            f"{(manifest.get('chain_head') or {}).get('seq')} still in place."))

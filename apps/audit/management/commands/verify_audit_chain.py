from django.core.management.base import BaseCommand, CommandError

from apps.audit.services import audit_chain_verify


class Command(BaseCommand):
    help = "Verify the audit hash chain and name the first broken link (exit 1 when broken)."

    def add_arguments(self, parser):
        parser.add_argument("--from-seq", type=int, default=None, help="first event to check")
        parser.add_argument("--to-seq", type=int, default=None, help="last event to check")

    def handle(self, *args, from_seq=None, to_seq=None, **options):
        report = audit_chain_verify(start_seq=from_seq, end_seq=to_seq)
        if not report.ok:
            raise CommandError(
                f"Audit chain BROKEN at event {report.bad_seq}: {report.problem} "
                f"({report.checked} events verified before it)"
            )
        if report.checked == 0:
            self.stdout.write("Audit chain OK: no events in range.")
            return
        self.stdout.write(self.style.SUCCESS(
            f"Audit chain OK: {report.checked} events, seq {report.first_seq}..{report.last_seq}, "
            f"head hash {report.head_hash}"
        ))

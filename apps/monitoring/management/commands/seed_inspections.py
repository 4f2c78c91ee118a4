"""Load the built-in post-loan checklist templates and schedule policies (idempotent), then
generate the inspection schedule of every open loan."""

from django.core.management.base import BaseCommand

from apps.loans.models import Loan
from apps.loans.states import OPEN_LOAN_STATES
from apps.monitoring.inspection_seed import seed_inspection_templates
from apps.monitoring.inspection_services import inspection_schedule_chunk


class Command(BaseCommand):
    help = "Seed post-loan inspection templates and policies; schedule open loans."

    def handle(self, *args, **options):
        templates = seed_inspection_templates()
        loan_ids = list(Loan.objects.filter(state__in=OPEN_LOAN_STATES)
                        .values_list("pk", flat=True))
        created = inspection_schedule_chunk(loan_ids=loan_ids)
        self.stdout.write(f"{len(templates)} post-loan templates in force; "
                          f"{created} inspections scheduled for {len(loan_ids)} open loans.")

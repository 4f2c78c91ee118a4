"""`manage.py insight_summaries [--rebuild]`: bring the dashboards' summaries up to date now.

Beat does this every minute (`insight.summaries_refresh`); run it by hand after a restore, an
import of history, or with --rebuild to recompute them from the whole audit trail.
"""

import time

from django.core.management.base import BaseCommand

from apps.insight.officer_facts import refresh_officer_cells
from apps.insight.portfolio_facts import refresh_portfolio_facts
from apps.insight.summaries import refresh_step_clock


class Command(BaseCommand):
    help = "Summarise the audit events since the watermark (all of them with --rebuild)."

    def add_arguments(self, parser):
        parser.add_argument("--rebuild", action="store_true",
                            help="Empty the summaries and recompute them from the whole trail.")

    def handle(self, *args, rebuild: bool, **options):
        started = time.perf_counter()
        written = refresh_step_clock(rebuild=rebuild)
        self.stdout.write(f"step clock: {written} moves summarised "
                          f"in {time.perf_counter() - started:.1f} s")
        started = time.perf_counter()
        written = refresh_portfolio_facts(rebuild=rebuild)
        self.stdout.write(f"portfolio facts: {written} loans written "
                          f"in {time.perf_counter() - started:.1f} s")
        started = time.perf_counter()
        written = refresh_officer_cells()
        self.stdout.write(f"officer cells: {written} cells written "
                          f"in {time.perf_counter() - started:.1f} s")

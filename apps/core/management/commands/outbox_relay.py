"""`manage.py outbox_relay [--loop] [--interval S]`: send due outbox messages now.

Beat runs the relay every minute; this command is for operators after a broker outage (send
now, do not wait) and for deployments that prefer a relay process over beat (`--loop`).
"""

import time

from django.core.management.base import BaseCommand
from django.db import close_old_connections

from apps.core.outbox import outbox_relay


class Command(BaseCommand):
    help = "Send pending outbox messages to the broker (once, or every --interval seconds)."

    def add_arguments(self, parser):
        parser.add_argument("--loop", action="store_true", help="Keep relaying until stopped.")
        parser.add_argument("--interval", type=float, default=5.0,
                            help="Seconds between passes with --loop (default 5).")

    def handle(self, *args, loop: bool, interval: float, **options):
        while True:
            close_old_connections()  # a long-lived loop must survive a database restart
            try:
                counts = outbox_relay()
            except Exception as exc:  # noqa: BLE001 - with --loop, the next pass retries
                if not loop:
                    raise
                self.stderr.write(f"outbox relay pass failed: {exc}")
            else:
                if counts["sent"] or counts["failed_attempts"] or not loop:
                    self.stdout.write(f"outbox relay: {counts}")
            if not loop:
                return
            time.sleep(interval)

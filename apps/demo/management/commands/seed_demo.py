from django.core.management.base import BaseCommand

from apps.demo.seed import DEMO_PASSWORD, demo_accounts, seed_demo


class Command(BaseCommand):
    help = "Load the demo organisation and users (idempotent); --print-accounts lists them."

    def add_arguments(self, parser):
        parser.add_argument("--print-accounts", action="store_true",
                            help="print every demo username and the shared demo password")
        parser.add_argument("--datahub-facts", metavar="PATH", default="",
                            help="write the demo firms' tax facts (grade on record, sales) "
                                 "for the data hub's stand-ins (make run)")

    def handle(self, *args, print_accounts=False, datahub_facts="", **options):
        created = seed_demo(with_business_data=True)
        if datahub_facts:
            import json
            from pathlib import Path

            from apps.datahub.demo import demo_taxpayer_facts

            Path(datahub_facts).parent.mkdir(parents=True, exist_ok=True)
            Path(datahub_facts).write_text(json.dumps(demo_taxpayer_facts(), indent=1),
                                           encoding="utf-8")
        summary = ", ".join(f"{count} {name}" for name, count in created.items())
        self.stdout.write(f"Demo data created: {summary} (existing rows kept).")
        if print_accounts:
            self.stdout.write(f"\nDemo accounts (password for all: {DEMO_PASSWORD}):")
            for username, role, branch in demo_accounts():
                self.stdout.write(f"  {username:<20} {role:<26} {branch}")

from django.core.management.base import BaseCommand

from apps.demo.seed import DEMO_PASSWORD, demo_accounts, seed_demo


class Command(BaseCommand):
    help = "Load the demo organisation and users (idempotent); --print-accounts lists them."

    def add_arguments(self, parser):
        parser.add_argument("--print-accounts", action="store_true",
                            help="print every demo username and the shared demo password")

    def handle(self, *args, print_accounts=False, **options):
        created = seed_demo(with_business_data=True)
        summary = ", ".join(f"{count} {name}" for name, count in created.items())
        self.stdout.write(f"Demo data created: {summary} (existing rows kept).")
        if print_accounts:
            self.stdout.write(f"\nDemo accounts (password for all: {DEMO_PASSWORD}):")
            for username, role, branch in demo_accounts():
                self.stdout.write(f"  {username:<20} {role:<26} {branch}")

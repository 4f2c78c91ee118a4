"""Write one checklist template version as JSON or YAML (to stdout or a file)."""

import json

import yaml
from django.core.management.base import BaseCommand, CommandError

from apps.investigations.models import ChecklistTemplate
from apps.investigations.services import template_export


def dump(data: dict, fmt: str) -> str:
    if fmt == "yaml":
        # allow_unicode keeps the Chinese labels readable; sort_keys=False keeps form order.
        return yaml.safe_dump(data, allow_unicode=True, sort_keys=False, width=100)
    return json.dumps(data, ensure_ascii=False, indent=2) + "\n"


class Command(BaseCommand):
    help = "Export a checklist template version as JSON or YAML."

    def add_base_argument(self, parser, *args, **kwargs):
        # Django's own --version (print Django's version) would clash with the template
        # version the command line asks for; `manage.py version` still gives Django's.
        if "--version" not in args:
            super().add_base_argument(parser, *args, **kwargs)

    def add_arguments(self, parser):
        parser.add_argument("code")
        parser.add_argument("--version", type=int, dest="template_version",
                            help="Version number (default: the highest).")
        parser.add_argument("--format", choices=["json", "yaml"], default="json")
        parser.add_argument("--output", help="File to write (default: standard output).")

    def handle(self, *args, code, template_version, format, output, **options):
        templates = ChecklistTemplate.objects.filter(code=code)
        if template_version is not None:
            templates = templates.filter(version=template_version)
        template = templates.order_by("-version").first()
        if template is None:
            raise CommandError(f"No checklist template {code}"
                               + (f" v{template_version}" if template_version else ""))
        text = dump(template_export(template), format)
        if output:
            with open(output, "w", encoding="utf-8") as handle:
                handle.write(text)
        else:
            self.stdout.write(text, ending="")

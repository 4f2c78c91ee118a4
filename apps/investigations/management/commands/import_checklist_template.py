"""Import a checklist template file (JSON or YAML) as a new draft version.

Runs as the system (actor None): the operator running it is accountable for the file, and the
draft still needs publishing. Nothing is written unless the whole file is valid.
"""

from pathlib import Path

import yaml
from django.core.management.base import BaseCommand, CommandError

from apps.investigations.seed import load_template_file
from apps.investigations.services import TemplateInvalid, template_import


class Command(BaseCommand):
    help = "Import a checklist template from a JSON or YAML file, as a draft."

    def add_arguments(self, parser):
        parser.add_argument("file")

    def handle(self, *args, file, **options):
        path = Path(file)
        if not path.is_file():
            raise CommandError(f"No such file: {file}")
        try:
            data = load_template_file(path)
        except yaml.YAMLError as exc:
            raise CommandError(f"{file} is not valid JSON or YAML: {exc}") from exc
        try:
            template = template_import(data, actor=None)
        except TemplateInvalid as exc:
            lines = "\n".join(f"  {issue}" for issue in exc.issues)
            raise CommandError(f"{file} was not imported; nothing was written:\n{lines}") from exc
        self.stdout.write(f"Imported {template} as a draft "
                          f"({template.items.count()} items).")

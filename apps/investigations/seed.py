"""Built-in checklist templates, shipped as data files in `templates_data/` (domain reference §3).

Each file is an ordinary template document, loaded through `template_import` and
`template_publish` like any bank's own template, with the policy values its rules name (design
defaults, evidence G unless the file says otherwise: a bank sets its own).
"""

from pathlib import Path

import yaml
from django.db import transaction

from apps.investigations.controls.policies import seed_control_policies
from apps.investigations.models import ChecklistTemplate
from apps.investigations.services import template_import, template_publish

TEMPLATES_DIR = Path(__file__).resolve().parent / "templates_data"


def builtin_template_files() -> list[Path]:
    return sorted(TEMPLATES_DIR.glob("*.yaml"))


def load_template_file(path: Path) -> dict:
    """JSON is a subset of YAML 1.2 for our documents, so one safe loader reads both.
    `safe_load` builds only plain types: a template file cannot construct Python objects."""
    with path.open(encoding="utf-8") as handle:
        return yaml.safe_load(handle)


@transaction.atomic
def seed_builtin_templates() -> list[ChecklistTemplate]:
    """Import and publish each built-in template version not yet on file (idempotent)."""
    # The controls' thresholds first: every published template's submissions run the controls.
    seed_control_policies()
    seeded = []
    for path in builtin_template_files():
        data = load_template_file(path)
        existing = ChecklistTemplate.objects.filter(code=data["code"],
                                                    version=data["version"]).first()
        if existing is not None:
            seeded.append(existing)
            continue
        template = template_import(data, actor=None)
        seeded.append(template_publish(template_id=template.pk, actor=None))
    return seeded

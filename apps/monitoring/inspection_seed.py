"""Built-in post-loan checklist templates and schedule policies (domain reference §4.1, §4.2).

The templates are data files in `inspection_templates_data/`, loaded through the investigation
engine's own `template_import` and `template_publish`, like any bank's template; the schedule's
day counts and frequencies are `PolicyValue` rows (`schedule_policy.SCHEDULE_POLICIES`).
Idempotent: a version already on file is kept as it is.
"""

from pathlib import Path

from django.db import transaction

from apps.investigations.controls.policies import seed_control_policies
from apps.investigations.models import ChecklistTemplate
from apps.investigations.seed import load_template_file
from apps.investigations.services import template_import, template_publish
from apps.monitoring.schedule_policy import seed_schedule_policies

TEMPLATES_DIR = Path(__file__).resolve().parent / "inspection_templates_data"


def inspection_template_files() -> list[Path]:
    return sorted(TEMPLATES_DIR.glob("*.yaml"))


@transaction.atomic
def seed_inspection_templates() -> list[ChecklistTemplate]:
    """Schedule policies, the photo controls' policies, then each built-in post-loan
    template version not yet on file, published."""
    seed_schedule_policies()
    seed_control_policies()
    seeded = []
    for path in inspection_template_files():
        data = load_template_file(path)
        existing = ChecklistTemplate.objects.filter(code=data["code"],
                                                    version=data["version"]).first()
        if existing is not None:
            seeded.append(existing)
            continue
        template = template_import(data, actor=None)
        seeded.append(template_publish(template_id=template.pk, actor=None))
    return seeded

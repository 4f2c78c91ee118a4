from django.db import transaction

from apps.audit.services import audit_record
from apps.org.models import Branch


@transaction.atomic
def branch_create(*, code: str, name: str, parent: Branch | None = None, actor=None) -> Branch:
    """Open a branch (admins, and the demo seed). Audited: branches scope everyone's data."""
    branch = Branch(code=code, name=name, parent=parent)
    branch.full_clean()
    branch.save()
    audit_record(action="branch.created", actor=actor, subject=branch, branch_id=branch.pk,
                 payload={"code": code, "name": name, "parent": parent.code if parent else None})
    return branch

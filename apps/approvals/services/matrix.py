"""Writes for authority matrices: draft, add rows, publish (four-eyes, validated), retire."""

import datetime as dt

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Max
from django.utils.translation import gettext as _

from apps.approvals.matrix import matrix_problems, step_problems
from apps.approvals.models import AuthorityMatrix, AuthorityRule
from apps.approvals.states import MatrixState
from apps.audit.services import audit_record
from apps.policy.versioning import (
    version_next_number,
    version_publish,
    version_require_draft,
    version_retire,
)

MANAGE_PERMISSION = "approvals.change_authoritymatrix"
PUBLISH_PERMISSION = "approvals.publish_authoritymatrix"


def _require(actor, permission: str) -> None:
    # actor None is the system (seed data): never reachable from a request.
    if actor is not None and not actor.has_perm(permission):
        raise PermissionDenied(_("You may not change the authority matrix."))


@transaction.atomic
def authority_matrix_draft(*, name: str, grades: list[str], source_citation: str = "",
                           actor=None) -> AuthorityMatrix:
    """Start the next version of the matrix as an empty draft."""
    _require(actor, MANAGE_PERMISSION)
    number = version_next_number(AuthorityMatrix.objects.select_for_update(no_key=True))
    matrix = AuthorityMatrix(version=number, name=name, grades=list(grades),
                             source_citation=source_citation, created_by=actor)
    matrix.full_clean()
    matrix.save()
    audit_record(action="authority_matrix.created", actor=actor, subject=matrix,
                 payload={"version": number, "name": name, "grades": list(grades)})
    return matrix


@transaction.atomic
def authority_rule_add(*, matrix_id: int, product, amount_above, amount_up_to, grades,
                       policy_exception: bool, steps: list[dict], source_citation: str = "",
                       evidence: str = "G", actor=None) -> AuthorityRule:
    """Add a row to a draft; the row's steps are checked now, coverage when publishing."""
    _require(actor, MANAGE_PERMISSION)
    matrix = AuthorityMatrix.objects.select_for_update(no_key=True).get(pk=matrix_id)
    version_require_draft(matrix)
    problems = step_problems(steps)
    if problems:
        raise ValidationError({"steps": problems})
    row = (matrix.rules.aggregate(n=Max("row"))["n"] or 0) + 1
    rule = AuthorityRule(matrix=matrix, row=row, product=product, amount_above=amount_above,
                         amount_up_to=amount_up_to, grades=list(grades),
                         policy_exception=policy_exception, steps=steps,
                         source_citation=source_citation, evidence=evidence)
    rule.full_clean()
    rule.save()
    audit_record(action="authority_rule.added", actor=actor, subject=matrix,
                 payload={"row": row, "product": product.code, "amount_above": amount_above,
                          "amount_up_to": amount_up_to, "grades": list(grades),
                          "policy_exception": policy_exception, "steps": steps})
    return rule


def _require_complete(matrix: AuthorityMatrix) -> None:
    problems = matrix_problems(matrix)
    if problems:
        raise ValidationError({"rules": problems})


def authority_matrix_publish(*, matrix_id: int, effective_from: dt.date,
                             actor=None) -> AuthorityMatrix:
    """Put a complete draft in force: no gaps, no overlaps, every row well-formed; whoever
    drafted it never publishes it (four-eyes, §6.4 policy-table change). The sequence is the
    shared one of `apps.policy.versioning.version_publish`."""
    return version_publish(
        model=AuthorityMatrix, pk=matrix_id, actor=actor, effective_from=effective_from,
        check=_require_complete, payload=lambda m: {"rows": m.rules.count()})


def authority_matrix_retire(*, matrix_id: int, effective_to: dt.date | None = None,
                            reason: str = "", actor=None) -> AuthorityMatrix:
    """Withdraw the matrix in force without a successor (routes already frozen keep it)."""
    return version_retire(model=AuthorityMatrix, pk=matrix_id, actor=actor,
                          effective_to=effective_to, reason=reason)


def authority_matrix_in_force(*, on: dt.date) -> AuthorityMatrix | None:
    """The published version in force on a date (the newest one that has started)."""
    return (AuthorityMatrix.objects.filter(state=MatrixState.PUBLISHED, effective_from__lte=on)
            .order_by("-effective_from", "-version").first())

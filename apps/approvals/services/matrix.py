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


# --- the policy workbench (issue 17): the next draft as a copy, rows edited, export/import ---

RULE_FIELDS = ("product", "amount_above", "amount_up_to", "grades", "policy_exception", "steps",
               "source_citation", "evidence")
EXPORT_FORMAT = "credence.authority-matrix/1"


@transaction.atomic
def authority_matrix_draft_next(*, actor) -> AuthorityMatrix:
    """Start the next version as a copy of the newest one (its grades and every row, numbered
    as before), to be edited and published four-eyes; the actor is its drafter."""
    _require(actor, MANAGE_PERMISSION)
    latest = AuthorityMatrix.objects.order_by("-version").first()
    if latest is None:
        raise ValidationError({"matrix": _("There is no matrix to start from.")})
    matrix = authority_matrix_draft(name=latest.name, grades=list(latest.grades),
                                    source_citation=latest.source_citation, actor=actor)
    AuthorityRule.objects.bulk_create([AuthorityRule(
        matrix=matrix, row=rule.row, **{name: getattr(rule, name) for name in RULE_FIELDS})
        for rule in latest.rules.order_by("row")])
    audit_record(action="authority_matrix.changed", actor=actor, subject=matrix,
                 payload={"copied_from": latest.version, "rows": matrix.rules.count()})
    return matrix


@transaction.atomic
def authority_matrix_update(*, matrix_id: int, actor, name: str, grades: list[str],
                            source_citation: str = "") -> AuthorityMatrix:
    """Rename a draft or change the grades it must cover (coverage is checked on publish)."""
    _require(actor, MANAGE_PERMISSION)
    matrix = AuthorityMatrix.objects.select_for_update(no_key=True).get(pk=matrix_id)
    version_require_draft(matrix)
    before = {"name": matrix.name, "grades": matrix.grades}
    matrix.name, matrix.grades, matrix.source_citation = name, list(grades), source_citation
    matrix.full_clean()
    matrix.save()
    audit_record(action="authority_matrix.changed", actor=actor, subject=matrix,
                 payload={"before": before, "after": {"name": name, "grades": list(grades)}})
    return matrix


def _rule_locked(rule_id: int) -> tuple[AuthorityRule, AuthorityMatrix]:
    rule = AuthorityRule.objects.get(pk=rule_id)
    matrix = AuthorityMatrix.objects.select_for_update(no_key=True).get(pk=rule.matrix_id)
    version_require_draft(matrix)
    return rule, matrix


@transaction.atomic
def authority_rule_update(*, rule_id: int, actor, **fields) -> AuthorityRule:
    """Change one row of a draft, checked whole (steps, bounds) before the one write."""
    _require(actor, MANAGE_PERMISSION)
    unknown = set(fields) - set(RULE_FIELDS)
    if unknown:
        raise ValidationError({name: _("This field cannot be set here.") for name in unknown})
    rule, matrix = _rule_locked(rule_id)
    problems = step_problems(fields.get("steps", rule.steps))
    if problems:
        raise ValidationError({"steps": problems})
    for name, value in fields.items():
        setattr(rule, name, value)
    rule.full_clean()
    rule.save()
    audit_record(action="authority_rule.added", actor=actor, subject=matrix,
                 payload={"row": rule.row, "changed": sorted(fields),
                          "product": rule.product.code, "amount_above": rule.amount_above,
                          "amount_up_to": rule.amount_up_to, "grades": rule.grades,
                          "policy_exception": rule.policy_exception, "steps": rule.steps})
    return rule


@transaction.atomic
def authority_rule_remove(*, rule_id: int, actor) -> None:
    """Drop one row of a draft (its number is not reused)."""
    _require(actor, MANAGE_PERMISSION)
    rule, matrix = _rule_locked(rule_id)
    row = rule.row
    rule.delete()
    audit_record(action="authority_rule.removed", actor=actor, subject=matrix,
                 payload={"row": row})


def authority_matrix_export(matrix: AuthorityMatrix) -> dict:
    """The matrix as a plain YAML/JSON document (products by code), for another office."""
    return {
        "format": EXPORT_FORMAT, "version": matrix.version, "name": matrix.name,
        "grades": list(matrix.grades), "source_citation": matrix.source_citation,
        "rules": [{
            "row": rule.row, "product": rule.product.code,
            "amount_above": str(rule.amount_above),
            "amount_up_to": None if rule.amount_up_to is None else str(rule.amount_up_to),
            "grades": list(rule.grades), "policy_exception": rule.policy_exception,
            "steps": rule.steps, "evidence": rule.evidence,
            "source_citation": rule.source_citation,
        } for rule in matrix.rules.select_related("product").order_by("row")],
    }


def _import_rows(data) -> tuple[list[dict], dict]:
    """The document's rows as service arguments, and every problem by path."""
    from decimal import Decimal, InvalidOperation

    from apps.products.models import CreditProduct

    if not isinstance(data, dict) or data.get("format") != EXPORT_FORMAT:
        return [], {"format": [_("This is not an authority-matrix export.")]}
    errors: dict[str, list[str]] = {}
    if not data.get("name"):
        errors["name"] = [_("The matrix needs a name.")]
    if not isinstance(data.get("grades"), list) or not data["grades"]:
        errors["grades"] = [_("The matrix must list the risk grades it covers.")]
    products = {p.code: p for p in CreditProduct.objects.all()}
    rows = []
    for index, row in enumerate(data.get("rules") or []):
        path = f"rules.{index}"
        if not isinstance(row, dict):
            errors[path] = [_("A row is an object.")]
            continue
        product = products.get(row.get("product"))
        if product is None:
            errors[f"{path}.product"] = [_("Unknown product %(code)s.")
                                         % {"code": row.get("product")}]
        try:
            above = Decimal(str(row.get("amount_above", "0")))
            up_to = (None if row.get("amount_up_to") is None
                     else Decimal(str(row["amount_up_to"])))
        except InvalidOperation:
            errors[f"{path}.amount_above"] = [_("Amounts are decimal numbers.")]
            continue
        problems = step_problems(row.get("steps"))
        if problems:
            errors[f"{path}.steps"] = problems
        rows.append({"product": product, "amount_above": above, "amount_up_to": up_to,
                     "grades": list(row.get("grades") or []),
                     "policy_exception": bool(row.get("policy_exception")),
                     "steps": row.get("steps"), "evidence": row.get("evidence") or "G",
                     "source_citation": row.get("source_citation") or ""})
    return rows, errors


@transaction.atomic
def authority_matrix_import(data: dict, *, actor) -> AuthorityMatrix:
    """A new draft from an exported document, checked whole first (a bad file leaves nothing
    behind); gaps and overlaps are reported on its page and refused on publish."""
    _require(actor, MANAGE_PERMISSION)
    rows, errors = _import_rows(data)
    if errors:
        raise ValidationError(errors)
    matrix = authority_matrix_draft(name=data["name"], grades=data["grades"],
                                    source_citation=data.get("source_citation") or "",
                                    actor=actor)
    for row in rows:
        authority_rule_add(matrix_id=matrix.pk, actor=actor, **row)
    return matrix

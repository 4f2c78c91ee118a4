"""A draft authority matrix against the one in force, in sentences a policy officer reads
(issue 17): rows matched by their row number, each added, dropped or changed row described by
its product, band, grades and route. Reads only; the gap/overlap check is `matrix_problems`."""

from django.utils.translation import gettext as _

from apps.approvals.matrix import _money
from apps.approvals.models import AuthorityMatrix, AuthorityRule


def rule_summary(rule: AuthorityRule) -> str:
    """One row in words: product, band, grades, exception, and who signs in order."""
    route = " → ".join(str(step.get("label", "?")) for step in rule.steps or [])
    return _("%(product)s, above %(low)s up to %(high)s, grades %(grades)s, %(exception)s: "
             "%(route)s") % {
        "product": rule.product.code, "low": _money(rule.amount_above),
        "high": _money(rule.amount_up_to), "grades": ", ".join(rule.grades),
        "exception": _("policy exception") if rule.policy_exception else _("no exception"),
        "route": route}


def authority_matrix_diff(*, draft: AuthorityMatrix, in_force: AuthorityMatrix | None
                          ) -> list[str]:
    """Every difference between two matrices (None: every row of the draft is new)."""
    lines = []
    old_rules = ({r.row: r for r in in_force.rules.select_related("product")}
                 if in_force is not None else {})
    new_rules = {r.row: r for r in draft.rules.select_related("product")}
    if in_force is not None and list(draft.grades) != list(in_force.grades):
        lines.append(_("The grades covered change from %(old)s to %(new)s.")
                     % {"old": ", ".join(in_force.grades), "new": ", ".join(draft.grades)})
    for row, rule in sorted(new_rules.items()):
        before = old_rules.get(row)
        if before is None:
            lines.append(_("New row %(row)s: %(rule)s.") % {"row": row,
                                                            "rule": rule_summary(rule)})
        elif rule_summary(before) != rule_summary(rule) or before.steps != rule.steps:
            lines.append(_("Row %(row)s changes from “%(old)s” to “%(new)s”.")
                         % {"row": row, "old": rule_summary(before), "new": rule_summary(rule)})
    for row, rule in sorted(old_rules.items()):
        if row not in new_rules:
            lines.append(_("Row %(row)s is dropped: %(rule)s.")
                         % {"row": row, "rule": rule_summary(rule)})
    return lines

"""The authority matrix in the policy workbench (issue 17): every version with the one in force;
a draft started as a copy of the newest version; rows added, changed and removed; the gap and
overlap check naming row numbers; the difference from the version in force in sentences;
four-eyes publish, retire; export and import as YAML or JSON.

Policy officers only (403 for every other role, on the server); writes go through
`apps.approvals.services.matrix`, which checks permission, state and four-eyes again. Django
admin stays read-only for these models.
"""

import yaml
from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from apps.approvals.matrix import matrix_problems
from apps.approvals.matrix_diff import authority_matrix_diff, rule_summary
from apps.approvals.models import AuthorityMatrix, AuthorityRule
from apps.approvals.services import matrix as services
from apps.core.policy import Evidence
from apps.policy.versioning import version_in_force
from apps.policy.workbench import (
    ImportForm,
    document_response,
    import_command,
    parse_document,
    publish_retire_views,
    require_policy_officer,
    row_views,
    run_on_form,
    version_controls,
)
from apps.products.models import CreditProduct


def _list(text: str) -> list[str]:
    return [part.strip() for part in (text or "").split(",") if part.strip()]


class MatrixForm(forms.Form):
    name = forms.CharField(label=gettext_lazy("name"), max_length=200)
    grades = forms.CharField(label=gettext_lazy("risk grades covered"), max_length=300,
                             help_text=gettext_lazy("Separate them with commas."))
    source_citation = forms.CharField(label=gettext_lazy("source"), max_length=300,
                                      required=False)

    def clean_grades(self):
        grades = _list(self.cleaned_data["grades"])
        if not grades:
            raise ValidationError(_("List at least one risk grade."))
        return grades


class RuleForm(forms.Form):
    """One row; the route's steps are written as YAML or JSON (a list of steps)."""

    product = forms.ModelChoiceField(label=gettext_lazy("product"),
                                     queryset=CreditProduct.objects.order_by("code"),
                                     to_field_name="code")
    amount_above = forms.DecimalField(label=gettext_lazy("amount above"), min_value=0,
                                      decimal_places=2)
    amount_up_to = forms.DecimalField(label=gettext_lazy("amount up to"), min_value=0,
                                      decimal_places=2, required=False,
                                      help_text=gettext_lazy("Empty: and above."))
    grades = forms.CharField(label=gettext_lazy("risk grades"), max_length=300,
                             help_text=gettext_lazy("Separate them with commas."))
    policy_exception = forms.BooleanField(label=gettext_lazy("policy exception present"),
                                          required=False)
    steps = forms.CharField(
        label=gettext_lazy("route steps (YAML or JSON)"),
        widget=forms.Textarea(attrs={"rows": 8, "spellcheck": "false", "class": "code"}),
        help_text=gettext_lazy('Each step: kind (individual with a level, or committee '
                               '"branch"/"head_office"), label, deadline_hours, '
                               'remind_after_hours.'))
    evidence = forms.ChoiceField(label=gettext_lazy("evidence"), choices=Evidence.choices,
                                 initial=Evidence.DESIGN)
    source_citation = forms.CharField(label=gettext_lazy("source"), max_length=300,
                                      required=False)

    def clean_grades(self):
        grades = _list(self.cleaned_data["grades"])
        if not grades:
            raise ValidationError(_("List at least one risk grade."))
        return grades

    def clean_steps(self):
        steps = parse_document(self.cleaned_data["steps"])
        if not isinstance(steps, list):
            raise ValidationError(_("The route is a list of steps."))
        return steps

    @classmethod
    def for_rule(cls, rule: AuthorityRule, data=None):
        return cls(data=data, initial={
            "product": rule.product, "amount_above": rule.amount_above,
            "amount_up_to": rule.amount_up_to, "grades": ", ".join(rule.grades),
            "policy_exception": rule.policy_exception,
            "steps": yaml.safe_dump(rule.steps, allow_unicode=True, sort_keys=False),
            "evidence": rule.evidence, "source_citation": rule.source_citation})


def _in_force() -> AuthorityMatrix | None:
    return (version_in_force(AuthorityMatrix.objects.all(), on=timezone.localdate())
            .order_by("-effective_from", "-version").first())


@login_required
def matrix_list_page(request):
    """Every version of the matrix, the one in force today first."""
    require_policy_officer(request.user)
    return render(request, "approvals/matrix_wb/list.html", {
        "in_force": _in_force(), "versions": AuthorityMatrix.objects.order_by("-version"),
        "import_form": ImportForm()})


@login_required
@require_POST
def matrix_draft_next(request):
    require_policy_officer(request.user)
    form = forms.Form(data={})
    made = {}
    status = run_on_form(form, lambda: made.setdefault(
        "matrix", services.authority_matrix_draft_next(actor=request.user)))
    if status != 200:
        for error in form.non_field_errors():
            messages.error(request, error)
        return redirect("approvals:matrices")
    messages.success(request, _("Draft version %(number)s started.")
                     % {"number": made["matrix"].version})
    return redirect("approvals:matrix", matrix_id=made["matrix"].pk)


def _context(request, matrix: AuthorityMatrix, **forms_) -> dict:
    in_force = _in_force()
    compare_to = in_force if in_force is not None and in_force.pk != matrix.pk else None
    return {
        "matrix": matrix, "in_force": compare_to,
        "diff": authority_matrix_diff(draft=matrix, in_force=compare_to),
        "problems": matrix_problems(matrix) if matrix.is_editable else [],
        "rules": [{"rule": rule, "summary": rule_summary(rule)}
                  for rule in matrix.rules.select_related("product").order_by("row")],
        "matrix_form": forms_.get("matrix_form") or MatrixForm(initial={
            "name": matrix.name, "grades": ", ".join(matrix.grades),
            "source_citation": matrix.source_citation}),
        "rule_form": forms_.get("rule_form") or RuleForm(initial={
            "amount_above": 0, "grades": ", ".join(matrix.grades)}),
        **version_controls(request, matrix, **forms_),
    }


def _matrix(matrix_id: int) -> AuthorityMatrix:
    return get_object_or_404(AuthorityMatrix, pk=matrix_id)


def _page(request, matrix, status=200, **forms_):
    return render(request, "approvals/matrix_wb/matrix.html",
                  _context(request, matrix, **forms_), status=status)


@login_required
def matrix_page(request, matrix_id: int):
    """One version: its rows, the gap/overlap check (drafts), the difference from the
    version in force, and the publish or retire form. POST: the draft's name and grades."""
    require_policy_officer(request.user)
    matrix = _matrix(matrix_id)
    if request.method != "POST":
        return _page(request, matrix)
    form = MatrixForm(data=request.POST)
    status = 400
    if form.is_valid():
        status = run_on_form(form, lambda: services.authority_matrix_update(
            matrix_id=matrix.pk, actor=request.user, **form.cleaned_data))
    if status == 200:
        messages.success(request, _("The draft is saved."))
        return redirect("approvals:matrix", matrix_id=matrix.pk)
    matrix.refresh_from_db()
    return _page(request, matrix, status, matrix_form=form)


rule_add, rule_edit, rule_remove = row_views(
    get_version=_matrix, rows=AuthorityRule.objects.select_related("matrix", "product"),
    version_attr="matrix", url_name="approvals:matrix", kwarg="matrix_id", page=_page,
    add_form="rule_form", form_class=RuleForm, initial_form=RuleForm.for_rule,
    row_template="approvals/matrix_wb/rule.html",
    row_context=lambda rule: {"rule": rule, "matrix": rule.matrix},
    add=lambda m, **kw: services.authority_rule_add(matrix_id=m.pk, **kw),
    update=lambda rule, **kw: services.authority_rule_update(rule_id=rule.pk, **kw),
    remove=lambda rule, **kw: services.authority_rule_remove(rule_id=rule.pk, **kw),
    added=lambda: _("Row added."),
    saved=lambda rule: _("Row %(row)s saved.") % {"row": rule.row},
    removed=lambda rule: _("Row %(row)s removed.") % {"row": rule.row})


matrix_publish, matrix_retire = publish_retire_views(
    get_version=_matrix, url_name="approvals:matrix", kwarg="matrix_id", page=_page,
    publish=lambda m, **kw: services.authority_matrix_publish(matrix_id=m.pk, **kw),
    retire=lambda m, **kw: services.authority_matrix_retire(matrix_id=m.pk, **kw))


@login_required
def matrix_export_file(request, matrix_id: int, fmt: str):
    require_policy_officer(request.user)
    matrix = _matrix(matrix_id)
    return document_response(services.authority_matrix_export(matrix), fmt=fmt,
                             filename=f"authority-matrix-v{matrix.version}")


@login_required
@require_POST
def matrix_import_file(request):
    """A new draft from an exported file; errors by path, nothing written when any."""
    require_policy_officer(request.user)
    return import_command(
        request, service=services.authority_matrix_import,
        page=lambda draft: reverse("approvals:matrix", kwargs={"matrix_id": draft.pk}),
        title=_("Import an authority matrix"), action=reverse("approvals:matrix-import"),
        back=reverse("approvals:matrices"))

"""Document requirements in the policy workbench (issue 17): per product, the version in force
and the drafts; a draft started as a copy of what applies now and edited whole as YAML or JSON;
the difference in sentences; what it changes for which open files (documents that would newly
block a move, or stop blocking one); four-eyes publish, retire; export and import.

Policy officers only (403 for every other role, on the server); writes go through
`apps.documents.requirement_services`, which checks permission, state and four-eyes again.
"""

from dataclasses import dataclass

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

from apps.accounts.selectors import visible_branch_ids
from apps.applications.models import Application
from apps.applications.states import TERMINAL_STATES
from apps.documents import requirement_services as services
from apps.documents.checklist import checklist_rows
from apps.documents.models import DocumentRequirement, DocumentRequirementSet
from apps.policy.versioning import version_in_force
from apps.policy.workbench import (
    ImportForm,
    document_response,
    import_command,
    parse_document,
    publish_retire_views,
    require_policy_officer,
    run_on_form,
    version_controls,
)
from apps.products.models import CreditProduct


class RowsForm(forms.Form):
    rows = forms.CharField(
        label=gettext_lazy("Requirements (YAML or JSON)"),
        widget=forms.Textarea(attrs={"rows": 24, "spellcheck": "false", "class": "code"}),
        help_text=gettext_lazy("One row per document type and stage: document_type, stage, "
                               "required, min_count, accepted_formats, validity_days, checks, "
                               "evidence, source_citation."))

    def clean_rows(self):
        rows = parse_document(self.cleaned_data["rows"]) or []
        if not isinstance(rows, list):
            raise ValidationError(_("The requirements are a list of rows."))
        return rows


def _key(row: dict) -> tuple:
    return row["document_type"], row["stage"]


def _describe(row: dict) -> str:
    return _("%(type)s before %(stage)s, %(count)s needed, %(required)s") % {
        "type": row["document_type"], "stage": row["stage"], "count": row["min_count"],
        "required": _("required") if row["required"] else _("optional")}


def requirements_diff(*, draft_rows: list[dict], in_force_rows: list[dict]) -> list[str]:
    """The draft's rows against those applying now, by document type and stage."""
    old = {_key(r): r for r in in_force_rows}
    new = {_key(r): r for r in draft_rows}
    lines = []
    for key, row in new.items():
        if key not in old:
            lines.append(_("New requirement: %(row)s.") % {"row": _describe(row)})
        elif old[key] != row:
            changed = [name for name in services.ROW_FIELDS if old[key].get(name) != row.get(name)]
            lines.append(_("%(type)s before %(stage)s changes: %(fields)s (now %(row)s).")
                         % {"type": key[0], "stage": key[1], "fields": ", ".join(changed),
                            "row": _describe(row)})
    for key, row in old.items():
        if key not in new:
            lines.append(_("No longer required: %(row)s.") % {"row": _describe(row)})
    return lines


@dataclass(frozen=True)
class FileImpact:
    application: Application
    newly_blocking: list[str]
    no_longer_blocking: list[str]

    @property
    def sentence(self) -> str:
        parts = []
        if self.newly_blocking:
            parts.append(_("would now wait for %(items)s")
                         % {"items": ", ".join(self.newly_blocking)})
        if self.no_longer_blocking:
            parts.append(_("would no longer wait for %(items)s")
                         % {"items": ", ".join(self.no_longer_blocking)})
        return _("%(reference)s %(changes)s.") % {"reference": self.application.reference,
                                                  "changes": "; ".join(parts)}


def requirements_impact(*, viewer, draft: DocumentRequirementSet, limit: int = 200
                        ) -> tuple[int, list[FileImpact]]:
    """For the product's open files in the viewer's branches: which documents would block a
    move under the draft that do not now, and the reverse."""
    applications = (Application.objects
                    .filter(product_version__product_id=draft.product_id)
                    .exclude(state__in=TERMINAL_STATES)
                    .select_related("product_version").order_by("-pk"))
    branch_ids = visible_branch_ids(viewer=viewer)
    if branch_ids is not None:
        applications = applications.filter(branch_id__in=branch_ids)
    live = {(r.document_type_id, r.stage): r.pk for r in DocumentRequirement.objects.filter(
        product_id=draft.product_id)}
    proposed = services.requirements_from_rows(draft.product, draft.rows)
    for requirement in proposed:  # waivers given on a row carry over to the same row
        requirement.pk = live.get((requirement.document_type_id, requirement.stage))

    def blocking(rows) -> set[str]:
        return {f"{row.requirement.document_type.code} ({row.requirement.stage})"
                for row in rows if row.blocking}

    impacts, examined = [], 0
    for application in applications[:limit]:
        examined += 1
        before = blocking(checklist_rows(application))
        after = blocking(checklist_rows(application, requirements=proposed))
        if before != after:
            impacts.append(FileImpact(application=application,
                                      newly_blocking=sorted(after - before),
                                      no_longer_blocking=sorted(before - after)))
    return examined, impacts


@login_required
def requirements_list_page(request):
    """Every product: the version in force and the drafts waiting."""
    require_policy_officer(request.user)
    today = timezone.localdate()
    in_force = {s.product_id: s for s in version_in_force(
        DocumentRequirementSet.objects.all(), on=today)}
    rows = []
    for product in CreditProduct.objects.order_by("code"):
        rows.append({"product": product, "in_force": in_force.get(product.pk),
                     "drafts": list(product.document_requirement_sets.filter(
                         state="draft").order_by("-version")),
                     "active": DocumentRequirement.objects.filter(
                         product=product, is_active=True).count()})
    return render(request, "documents/requirements_wb/list.html",
                  {"rows": rows, "import_form": ImportForm()})


@login_required
@require_POST
def requirements_draft_next(request, product_code: str):
    require_policy_officer(request.user)
    product = get_object_or_404(CreditProduct, code=product_code)
    draft = services.requirement_set_draft(product_id=product.pk, actor=request.user)
    messages.success(request, _("Draft version %(number)s started.") % {"number": draft.version})
    return redirect("documents:requirements", set_id=draft.pk)


def _context(request, requirement_set: DocumentRequirementSet, **forms_) -> dict:
    in_force_rows = services.requirement_rows_in_force(requirement_set.product_id)
    context = {
        "requirement_set": requirement_set,
        "diff": requirements_diff(draft_rows=requirement_set.rows, in_force_rows=in_force_rows)
        if requirement_set.is_editable else [],
        "form": forms_.get("form") or RowsForm(initial={"rows": yaml.safe_dump(
            requirement_set.rows, allow_unicode=True, sort_keys=False)}),
        "history": requirement_set.product.document_requirement_sets.order_by("-version"),
        **version_controls(request, requirement_set, **forms_),
    }
    if requirement_set.is_editable:
        context["examined"], context["impacts"] = requirements_impact(
            viewer=request.user, draft=requirement_set)
    return context


def _page(request, requirement_set, status=200, **forms_):
    return render(request, "documents/requirements_wb/set.html",
                  _context(request, requirement_set, **forms_), status=status)


def _set(set_id: int) -> DocumentRequirementSet:
    return get_object_or_404(DocumentRequirementSet.objects.select_related("product"), pk=set_id)


@login_required
def requirements_page(request, set_id: int):
    """One version: its rows (editable while a draft), what changes and for which open
    files, and the publish or retire form."""
    require_policy_officer(request.user)
    requirement_set = _set(set_id)
    if request.method != "POST":
        return _page(request, requirement_set)
    form = RowsForm(data=request.POST)
    status = 400
    if form.is_valid():
        status = run_on_form(form, lambda: services.requirement_set_save(
            set_id=requirement_set.pk, rows=form.cleaned_data["rows"], actor=request.user))
    if status == 200:
        messages.success(request, _("The draft is saved."))
        return redirect("documents:requirements", set_id=requirement_set.pk)
    requirement_set.refresh_from_db()
    return _page(request, requirement_set, status, form=form)


requirements_publish, requirements_retire = publish_retire_views(
    get_version=_set, url_name="documents:requirements", kwarg="set_id", page=_page,
    publish=lambda s, **kw: services.requirement_set_publish(set_id=s.pk, **kw),
    retire=lambda s, **kw: services.requirement_set_retire(set_id=s.pk, **kw))


@login_required
def requirements_export(request, set_id: int, fmt: str):
    require_policy_officer(request.user)
    requirement_set = _set(set_id)
    return document_response(
        services.requirement_set_export(requirement_set), fmt=fmt,
        filename=f"{requirement_set.product.code}-documents-v{requirement_set.version}")


@login_required
@require_POST
def requirements_import(request):
    require_policy_officer(request.user)
    return import_command(
        request, service=services.requirement_set_import,
        page=lambda draft: reverse("documents:requirements", kwargs={"set_id": draft.pk}),
        title=_("Import document requirements"),
        action=reverse("documents:requirements-import"),
        back=reverse("documents:requirements-list"))

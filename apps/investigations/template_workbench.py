"""Checklist templates in the policy workbench (issue 17): every template code with its version
in force and its drafts; a draft started as a copy of the newest version, edited whole as YAML
or JSON (sections, items, answer types, evidence, rules, red flags, cross-checks) with the
expression language checked as the officer types; the difference from the version in force in
sentences; a dry run of the draft's rules over recent investigations; four-eyes publish,
retire; export and import.

Policy officers only (403 for every other role, on the server); writes go through
`apps.investigations.services`, which checks permission, state and four-eyes again.
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

from apps.core.policy import PolicyVersionState
from apps.investigations import services
from apps.investigations.models import ChecklistTemplate
from apps.investigations.policy import policy_keys
from apps.investigations.template_preview import template_diff, template_dry_run
from apps.investigations.validation import FORMAT, validate_template_data
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


class TemplateDocumentForm(forms.Form):
    document = forms.CharField(
        label=gettext_lazy("Template (YAML or JSON)"),
        widget=forms.Textarea(attrs={"rows": 30, "spellcheck": "false", "class": "code"}),
        help_text=gettext_lazy("Sections with their items; each item's answer type, evidence, "
                               "validation rules and red flags; the cross-checks. Rules are "
                               "checked as you type."))


def _issue_lines(issues) -> list[str]:
    return [_("%(where)s: %(problem)s") % {"where": issue.path, "problem": issue.problem}
            for issue in issues]


def _in_force(code: str) -> ChecklistTemplate | None:
    return (version_in_force(ChecklistTemplate.objects.filter(code=code),
                             on=timezone.localdate()).order_by("-version").first())


@login_required
def template_list_page(request):
    """Every template code: the version in force today and the drafts waiting."""
    require_policy_officer(request.user)
    rows: dict[str, dict] = {}
    for template in ChecklistTemplate.objects.select_related("product").order_by("code",
                                                                                 "-version"):
        row = rows.setdefault(template.code, {"code": template.code, "latest": template,
                                              "in_force": None, "drafts": []})
        if template.state == PolicyVersionState.DRAFT:
            row["drafts"].append(template)
    today = timezone.localdate()
    for template in version_in_force(ChecklistTemplate.objects.all(), on=today):
        if template.code in rows:
            rows[template.code]["in_force"] = template
    return render(request, "investigations/templates_wb/list.html",
                  {"rows": list(rows.values()), "import_form": ImportForm()})


@login_required
@require_POST
def template_draft_next(request, template_id: int):
    """Start the next draft of a template code from its newest version."""
    require_policy_officer(request.user)
    get_object_or_404(ChecklistTemplate, pk=template_id)
    draft = services.template_draft_next(template_id=template_id, actor=request.user)
    messages.success(request, _("Draft version %(number)s started.") % {"number": draft.version})
    return redirect("investigations:template", template_id=draft.pk)


def _context(request, template: ChecklistTemplate, **forms_) -> dict:
    in_force = _in_force(template.code)
    compare_to = in_force if in_force is not None and in_force.pk != template.pk else None
    draft_document = services.template_export(template)
    context = {
        "template": template, "in_force": compare_to,
        "diff": template_diff(draft=draft_document,
                              in_force=services.template_export(compare_to)
                              if compare_to is not None else None),
        "history": ChecklistTemplate.objects.filter(code=template.code).order_by("-version"),
        "form": forms_.get("form") or TemplateDocumentForm(initial={"document": yaml.safe_dump(
            services.template_editable_document(template), allow_unicode=True,
            sort_keys=False)}),
        "issues": forms_.get("issues"),
        **version_controls(request, template, **forms_),
    }
    if template.is_editable:
        context["issues"] = context["issues"] or _issue_lines(
            services.template_validate(template))
        context["dry_run"] = template_dry_run(viewer=request.user, draft=template)
    return context


@login_required
def template_page(request, template_id: int):
    """One version: its document (editable while a draft), what it changes, the dry run of
    its rules, and the publish or retire form."""
    require_policy_officer(request.user)
    template = get_object_or_404(ChecklistTemplate, pk=template_id)
    status, forms_ = 200, {}
    if request.method == "POST":
        form = TemplateDocumentForm(data=request.POST)
        status = 400
        if form.is_valid():
            try:
                data = parse_document(form.cleaned_data["document"])
            except ValidationError as exc:
                form.add_error("document", exc.messages)
            else:
                status = run_on_form(form, lambda: services.template_draft_save(
                    template_id=template.pk, data=data, actor=request.user))
        if status == 200:
            messages.success(request, _("The draft is saved."))
            return redirect("investigations:template", template_id=template.pk)
        forms_["form"] = form
        template.refresh_from_db()  # nothing half-saved: show what is on file
    return render(request, "investigations/templates_wb/template.html",
                  _context(request, template, **forms_), status=status)


@login_required
@require_POST
def template_check(request, template_id: int):
    """htmx, as the officer types: every problem of the edited document (rules compiled
    against its own items and the policy keys on file), nothing saved."""
    require_policy_officer(request.user)
    template = get_object_or_404(ChecklistTemplate, pk=template_id)
    try:
        data = parse_document(request.POST.get("document", ""))
    except ValidationError as exc:
        problems = exc.messages
    else:
        data = {**(data if isinstance(data, dict) else {}), "format": FORMAT,
                "code": template.code, "version": template.version}
        problems = _issue_lines(validate_template_data(
            data, policy_keys=policy_keys(), product_codes=services._product_codes()))
    return render(request, "investigations/templates_wb/partials/issues.html",
                  {"issues": problems, "checked": True})


def _page(request, template, status=200, **forms_):
    return render(request, "investigations/templates_wb/template.html",
                  _context(request, template, **forms_), status=status)


# Four-eyes publish (the drafter is refused, 403; a version not in draft, 409; rules that do
# not compile, 400 by path) and retire: the shared views over this kind's services.
template_publish, template_retire = publish_retire_views(
    get_version=lambda pk: get_object_or_404(ChecklistTemplate, pk=pk),
    url_name="investigations:template", kwarg="template_id", page=_page,
    publish=lambda t, **kw: services.template_publish(template_id=t.pk, **kw),
    retire=lambda t, **kw: services.template_retire(template_id=t.pk, **kw))


@login_required
def template_export_file(request, template_id: int, fmt: str):
    """One version, with the policy values its rules name, for another office to import."""
    require_policy_officer(request.user)
    template = get_object_or_404(ChecklistTemplate, pk=template_id)
    return document_response(services.template_export(template), fmt=fmt,
                             filename=f"{template.code}-v{template.version}")


@login_required
@require_POST
def template_import_file(request):
    """A new draft from an exported file; every problem by path, nothing written when any."""
    require_policy_officer(request.user)
    def as_next_draft(data, *, actor):
        if isinstance(data, dict):
            data = {**data, "version": None}  # an import is always the next draft
        return services.template_import(data, actor=actor)

    return import_command(
        request, service=as_next_draft,
        page=lambda draft: reverse("investigations:template",
                                   kwargs={"template_id": draft.pk}),
        title=_("Import a checklist template"),
        action=reverse("investigations:template-import"),
        back=reverse("investigations:templates"))

"""The policy workbench for products (issue 17): a policy officer starts a draft from the
version in force, edits its terms and entry conditions, reads the difference in sentences and
the impact on customers and applicants, and a second officer publishes it (four-eyes) or
retires a version in force.

Only policy officers reach these pages (403 for everyone else, checked on the server before
anything is read); every write goes through `apps.products.services`, which checks permission,
state and four-eyes again, so a button shown here is a hint, not a grant.
"""

import json

import yaml
from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from apps.accounts.roles import Role
from apps.core.fsm import may_attempt
from apps.policy.workbench import errors_on_form, run_on_form, version_command
from apps.products import services
from apps.products.diff import product_version_diff
from apps.products.forms import ConditionForm, PublishForm, RetireForm, VersionTermsForm
from apps.products.impact import entry_condition_impact
from apps.products.models import CreditProduct, EntryCondition, ProductVersion
from apps.products.report import condition_value_display
from apps.products.selectors import product_list, product_version_in_force
from apps.products.states import ProductVersionState


def is_policy_officer(user) -> bool:
    return user.is_authenticated and user.has_role(Role.POLICY_OFFICER)


def _require_policy_officer(user) -> None:
    """Policy data is the credit-policy team's: no other role reads the workbench (403)."""
    if not is_policy_officer(user):
        raise PermissionDenied(_("Only policy officers use the policy workbench."))


_put_errors = errors_on_form
_run = run_on_form


@login_required
def workbench_page(request):
    """Every product: the version in force today and the drafts waiting to be published."""
    _require_policy_officer(request.user)
    today = timezone.localdate()
    rows = []
    for product in product_list().order_by("code"):
        versions = sorted(product.versions.all(), key=lambda v: -v.version)
        rows.append({
            "product": product,
            "in_force": product_version_in_force(product_id=product.pk, on=today),
            "drafts": [v for v in versions if v.state == ProductVersionState.DRAFT],
            "versions": versions,
        })
    return render(request, "products/workbench/list.html",
                  {"rows": rows, "import_form": ImportForm()})


@login_required
@require_POST
def draft_start(request, code: str):
    """Start the next draft of a product from its newest version."""
    _require_policy_officer(request.user)
    product = get_object_or_404(CreditProduct, code=code)
    version = services.product_version_draft_next(product_id=product.pk, actor=request.user)
    messages.success(request, _("Draft version %(number)s started.") % {"number": version.version})
    return redirect("products:workbench-version", version_id=version.pk)


def _version_context(request, version: ProductVersion, **forms) -> dict:
    today = timezone.localdate()
    in_force = product_version_in_force(product_id=version.product_id, on=today)
    compare_to = in_force if in_force is not None and in_force.pk != version.pk else None
    return {
        "version": version,
        "in_force": compare_to,
        "diff": product_version_diff(draft=version, in_force=compare_to),
        "impact": (entry_condition_impact(viewer=request.user, draft=version,
                                          in_force=compare_to, on=today)
                   if version.is_editable else []),
        "conditions": [{"condition": c, "value": condition_value_display(c)}
                       for c in version.conditions.all()],
        "terms_form": forms.get("terms_form") or VersionTermsForm.for_version(version),
        "condition_form": forms.get("condition_form") or ConditionForm(),
        "publish_form": forms.get("publish_form") or PublishForm(initial={"effective_from": today}),
        "retire_form": forms.get("retire_form") or RetireForm(initial={"effective_to": today}),
        "may_publish": may_attempt(version.publish, actor=request.user),
        "may_retire": may_attempt(version.retire, actor=request.user),
        "drafted_by_me": version.created_by_id == request.user.pk,
    }


def _version(version_id: int) -> ProductVersion:
    return get_object_or_404(ProductVersion.objects.select_related("product"), pk=version_id)


@login_required
def version_page(request, version_id: int):
    """One version: its terms (editable while a draft), conditions, the difference from the
    version in force, and the publish or retire form."""
    _require_policy_officer(request.user)
    version = _version(version_id)
    status, forms = 200, {}
    if request.method == "POST":
        form = VersionTermsForm.for_version(version, data=request.POST)
        status = 400
        if form.is_valid():
            status = _run(form, lambda: services.product_version_update(
                version_id=version.pk, actor=request.user, **form.cleaned_data))
        if status == 200:
            messages.success(request, _("The draft's terms are saved."))
            return redirect("products:workbench-version", version_id=version.pk)
        forms["terms_form"] = form
        version.refresh_from_db()  # nothing half-saved: show what is on file
    return render(request, "products/workbench/version.html",
                  _version_context(request, version, **forms), status=status)


@login_required
@require_POST
def condition_add(request, version_id: int):
    _require_policy_officer(request.user)
    version = _version(version_id)
    form = ConditionForm(data=request.POST)
    status = 400
    if form.is_valid():
        status = _run(form, lambda: services.entry_condition_add(
            version=version, actor=request.user, **form.cleaned_data))
    if status == 200:
        messages.success(request, _("Entry condition added."))
        return redirect("products:workbench-version", version_id=version.pk)
    return render(request, "products/workbench/version.html",
                  _version_context(request, version, condition_form=form), status=status)


@login_required
def condition_edit(request, condition_id: int):
    """Change one condition of a draft; refused wholesale when any field is wrong."""
    _require_policy_officer(request.user)
    condition = get_object_or_404(EntryCondition.objects.select_related("version__product"),
                                  pk=condition_id)
    status = 200
    if request.method == "POST":
        form = ConditionForm(data=request.POST)
        status = 400
        if form.is_valid():
            fields = {k: v for k, v in form.cleaned_data.items() if k != "code"}
            status = _run(form, lambda: services.entry_condition_update(
                condition_id=condition.pk, actor=request.user, **fields))
        if status == 200:
            messages.success(request, _("Entry condition saved."))
            return redirect("products:workbench-version", version_id=condition.version_id)
    else:
        form = ConditionForm.for_condition(condition)
    return render(request, "products/workbench/condition.html",
                  {"condition": condition, "version": condition.version, "form": form},
                  status=status)


@login_required
@require_POST
def condition_remove(request, condition_id: int):
    _require_policy_officer(request.user)
    condition = get_object_or_404(EntryCondition, pk=condition_id)
    services.entry_condition_remove(condition_id=condition.pk, actor=request.user)
    messages.success(request, _("Entry condition removed."))
    return redirect("products:workbench-version", version_id=condition.version_id)


@login_required
@require_POST
def version_publish(request, version_id: int):
    """Four-eyes: the service refuses the drafter (403) and a version not in draft (409)."""
    _require_policy_officer(request.user)
    version = _version(version_id)
    return version_command(
        request, version=version, form=PublishForm(data=request.POST),
        service=lambda **kw: services.product_version_publish(version_id=version.pk, **kw),
        done=_("Version %(number)s is published."),
        back=reverse("products:workbench-version", kwargs={"version_id": version.pk}),
        page=lambda form, status: render(request, "products/workbench/version.html",
                                         _version_context(request, version, publish_form=form),
                                         status=status))


@login_required
@require_POST
def version_retire(request, version_id: int):
    _require_policy_officer(request.user)
    version = _version(version_id)
    return version_command(
        request, version=version, form=RetireForm(data=request.POST),
        service=lambda **kw: services.product_version_retire(version_id=version.pk, **kw),
        done=_("Version %(number)s is retired."),
        back=reverse("products:workbench-version", kwargs={"version_id": version.pk}),
        page=lambda form, status: render(request, "products/workbench/version.html",
                                         _version_context(request, version, retire_form=form),
                                         status=status))


class ImportForm(forms.Form):
    document = forms.FileField(label=gettext_lazy("YAML or JSON export"))


@login_required
def version_export(request, version_id: int, fmt: str):
    """One version's terms and conditions as YAML or JSON, for another office to import."""
    _require_policy_officer(request.user)
    if fmt not in ("json", "yaml"):
        raise Http404("No such format")
    version = _version(version_id)
    document = services.product_version_export(version)
    if fmt == "json":
        body, content_type = json.dumps(document, ensure_ascii=False, indent=2), \
            "application/json"
    else:
        body, content_type = yaml.safe_dump(document, allow_unicode=True, sort_keys=False), \
            "application/yaml"
    response = HttpResponse(body, content_type=f"{content_type}; charset=utf-8")
    response["Content-Disposition"] = (
        f'attachment; filename="{version.product.code}-v{version.version}.{fmt}"')
    return response


@login_required
@require_POST
def version_import(request):
    """A draft from an exported file; errors by path, and nothing written when any is found."""
    _require_policy_officer(request.user)
    form = ImportForm(data=request.POST, files=request.FILES)
    status, made = 400, {}
    if form.is_valid():
        try:
            document = yaml.safe_load(form.cleaned_data["document"].read().decode("utf-8"))
        except (yaml.YAMLError, UnicodeDecodeError):
            form.add_error("document", _("The file is neither YAML nor JSON."))
        else:
            try:
                with transaction.atomic():
                    made["version"] = services.product_version_import(document,
                                                                      actor=request.user)
            except ValidationError as exc:
                for path, errors in exc.message_dict.items():
                    for error in errors:
                        form.add_error(None, f"{path}: {error}")
            else:
                status = 200
    if status == 200:
        return redirect("products:workbench-version", version_id=made["version"].pk)
    return render(request, "products/workbench/import.html", {"form": form}, status=status)

"""The policy workbench for products (issue 17): a policy officer starts a draft from the
version in force, edits its terms and entry conditions, reads the difference in sentences and
the impact on customers and applicants, and a second officer publishes it (four-eyes) or
retires a version in force.

Only policy officers reach these pages (403 for everyone else, checked on the server before
anything is read); every write goes through `apps.products.services`, which checks permission,
state and four-eyes again, so a button shown here is a hint, not a grant.
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from apps.policy.workbench import (
    ImportForm,
    document_response,
    import_command,
    publish_retire_views,
    require_policy_officer,
    row_views,
    run_on_form,
    version_controls,
)
from apps.products import services
from apps.products.diff import product_version_diff
from apps.products.forms import ConditionForm, VersionTermsForm
from apps.products.impact import entry_condition_impact
from apps.products.models import CreditProduct, EntryCondition, ProductVersion
from apps.products.report import condition_value_display
from apps.products.selectors import product_list, product_version_in_force
from apps.products.states import ProductVersionState

_require_policy_officer = require_policy_officer
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
        **version_controls(request, version, **forms),
    }


def _version_page(request, version: ProductVersion, status: int = 200, **forms):
    return render(request, "products/workbench/version.html",
                  _version_context(request, version, **forms), status=status)


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
    return _version_page(request, version, status, **forms)


def _condition_update(condition, *, actor, code=None, **fields):
    """A condition's code names it in the rules and reports: an edit keeps it."""
    return services.entry_condition_update(condition_id=condition.pk, actor=actor, **fields)


condition_add, condition_edit, condition_remove = row_views(
    get_version=_version, rows=EntryCondition.objects.select_related("version__product"),
    version_attr="version", url_name="products:workbench-version", kwarg="version_id",
    page=_version_page, add_form="condition_form", form_class=ConditionForm,
    initial_form=ConditionForm.for_condition, row_template="products/workbench/condition.html",
    row_context=lambda condition: {"condition": condition, "version": condition.version},
    add=lambda version, **kw: services.entry_condition_add(version=version, **kw),
    update=_condition_update,
    remove=lambda condition, **kw: services.entry_condition_remove(
        condition_id=condition.pk, **kw),
    added=lambda: _("Entry condition added."), saved=lambda c: _("Entry condition saved."),
    removed=lambda c: _("Entry condition removed."))


version_publish, version_retire = publish_retire_views(
    get_version=_version, url_name="products:workbench-version", kwarg="version_id",
    page=_version_page,
    publish=lambda v, **kw: services.product_version_publish(version_id=v.pk, **kw),
    retire=lambda v, **kw: services.product_version_retire(version_id=v.pk, **kw))


@login_required
def version_export(request, version_id: int, fmt: str):
    """One version's terms and conditions as YAML or JSON, for another office to import."""
    _require_policy_officer(request.user)
    version = _version(version_id)
    return document_response(services.product_version_export(version), fmt=fmt,
                             filename=f"{version.product.code}-v{version.version}")


@login_required
@require_POST
def version_import(request):
    """A draft from an exported file; errors by path, and nothing written when any is found."""
    _require_policy_officer(request.user)
    return import_command(
        request, service=services.product_version_import,
        page=lambda draft: reverse("products:workbench-version",
                                   kwargs={"version_id": draft.pk}),
        title=_("Import a product version"), action=reverse("products:workbench-import"),
        back=reverse("products:workbench"))

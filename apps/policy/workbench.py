"""What every policy workbench page does with a form: run one service, put its refusal on the
form (nothing is saved then), and for publish/retire go back to the version's page or show it
again with the errors at the service's status (403 before 409, as the services decide)."""

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
from apps.core.exceptions import DomainError
from apps.core.fsm import may_attempt
from apps.policy.versioning import version_publish, version_retire


def errors_on_form(form, exc: ValidationError) -> None:
    """A service's refusal on the form: by field where the form has the field, else with its
    path in front ("sections[0].items[2].red_flag_rules[0].when: …") so the officer finds it."""
    if hasattr(exc, "error_dict"):
        for field, errors in exc.message_dict.items():
            if field in form.fields:
                form.add_error(field, errors)
            elif field == "__all__":
                form.add_error(None, errors)
            else:
                form.add_error(None, [f"{field}: {error}" for error in errors])
    else:
        for error in exc.messages:
            form.add_error(None, error)


def run_on_form(form, call) -> int:
    """Call a service in a transaction; its refusal goes on the form. The HTTP status."""
    try:
        with transaction.atomic():
            call()
    except ValidationError as exc:
        errors_on_form(form, exc)
        return 400
    except DomainError as exc:
        form.add_error(None, exc.detail)
        return exc.status_code
    except PermissionDenied as exc:
        form.add_error(None, str(exc) or _("You may not do this."))
        return 403
    return 200


def form_command(request, *, form, call, done: str, back: str, page, before_page=None):
    """POST of a workbench form: `call(**cleaned_data)` runs as one service call (a refusal
    goes on the form, nothing saved); then back to `back` with `done` as the message, or
    `page(form, status)` shows the page again with the errors."""
    status = 400
    if form.is_valid():
        status = run_on_form(form, lambda: call(**form.cleaned_data))
    if status == 200:
        messages.success(request, done)
        return redirect(back)
    if before_page is not None:
        before_page()
    return page(form, status)


def version_command(request, *, version, form, service, done: str, back: str, page):
    """POST of a publish or retire form for one version. `service(actor, **cleaned_data)`;
    `done` a message with %(number)s; `back` the version page's URL; `page(form, status)`
    renders that page with the bound form."""
    return form_command(request, form=form,
                        call=lambda **kw: service(actor=request.user, **kw),
                        done=done % {"number": version.version}, back=back, page=page,
                        before_page=version.refresh_from_db)


# --- what every kind's workbench page shares: the role check, the publish/retire forms, the
# version's controls, and YAML/JSON in and out ------------------------------------------------

def require_policy_officer(user) -> None:
    """Policy data is the credit-policy team's: no other role reads the workbench (403)."""
    if not (user.is_authenticated and user.has_role(Role.POLICY_OFFICER)):
        raise PermissionDenied(_("Only policy officers use the policy workbench."))


class PublishForm(forms.Form):
    effective_from = forms.DateField(label=gettext_lazy("in force from"),
                                     widget=forms.DateInput(attrs={"type": "date"}))


class RetireForm(forms.Form):
    effective_to = forms.DateField(label=gettext_lazy("withdrawn from"),
                                   widget=forms.DateInput(attrs={"type": "date"}))
    reason = forms.CharField(label=gettext_lazy("reason"), max_length=500)


class ImportForm(forms.Form):
    document = forms.FileField(label=gettext_lazy("YAML or JSON export"))


def version_controls(request, version, **forms_) -> dict:
    """The publish/retire part of a version's page: the forms (bound ones kept), whether this
    person may publish or retire it, and whether they drafted it (four-eyes note)."""
    today = timezone.localdate()
    return {
        "publish_form": forms_.get("publish_form") or PublishForm(
            initial={"effective_from": today}),
        "retire_form": forms_.get("retire_form") or RetireForm(initial={"effective_to": today}),
        "may_publish": may_attempt(version.publish, actor=request.user),
        "may_retire": may_attempt(version.retire, actor=request.user),
        "drafted_by_me": version.created_by_id == request.user.pk,
    }


def document_response(document: dict, *, fmt: str, filename: str) -> HttpResponse:
    """An export as a YAML or JSON download (404 for any other format)."""
    if fmt == "json":
        body, content_type = json.dumps(document, ensure_ascii=False, indent=2,
                                        default=str), "application/json"
    elif fmt == "yaml":
        body, content_type = yaml.safe_dump(document, allow_unicode=True,
                                            sort_keys=False), "application/yaml"
    else:
        raise Http404("No such format")
    response = HttpResponse(body, content_type=f"{content_type}; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}.{fmt}"'
    return response


def parse_document(text: str):
    """YAML or JSON text (JSON is YAML) → data; ValidationError when it is neither."""
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ValidationError(_("The text is neither YAML nor JSON: %(problem)s")
                              % {"problem": str(exc).splitlines()[0]}) from None


def read_document(form):
    """The uploaded file of an ImportForm as data; None (with the error on the form) when it
    is unreadable."""
    try:
        return parse_document(form.cleaned_data["document"].read().decode("utf-8"))
    except UnicodeDecodeError:
        form.add_error("document", _("The file is neither YAML nor JSON."))
    except ValidationError as exc:
        form.add_error("document", exc.messages)
    return None


def import_command(request, *, service, page: str, title: str, action: str, back: str):
    """POST of an import form: the file read as YAML or JSON, `service(data, actor=…)` makes
    the draft (checked whole; nothing written on a refusal), then to `page(draft)` (its URL);
    else the import page again with the errors, by path."""
    form = ImportForm(data=request.POST, files=request.FILES)
    status, made = 400, {}
    if form.is_valid():
        data = read_document(form)
        if data is not None:
            status = run_on_form(form, lambda: made.setdefault(
                "draft", service(data, actor=request.user)))
    if status == 200:
        return redirect(page(made["draft"]))
    return render(request, "policy/import_page.html", {
        "form": form, "title": title, "action": action, "back_url": back}, status=status)


def publish_retire_views(*, get_version, publish, retire, url_name: str, kwarg: str, page):
    """The publish and the retire view of one kind, written once for every kind: policy
    officers only (403), then `version_command` over the kind's service (which checks
    four-eyes, permission and state again).

    `get_version(pk)` returns the version (404 when absent); `publish(version, **cleaned)`
    and `retire(version, **cleaned)` call the kind's services with `actor`; `url_name` and
    `kwarg` name the version's page; `page(request, version, status, **forms)` renders it.
    """
    def command(request, pk, *, form_class, service, done):
        require_policy_officer(request.user)
        version = get_version(pk)
        form_name = "publish_form" if form_class is PublishForm else "retire_form"
        return version_command(
            request, version=version, form=form_class(data=request.POST),
            service=lambda **kw: service(version, **kw), done=done,
            back=reverse(url_name, kwargs={kwarg: version.pk}),
            page=lambda form, status: page(request, version, status, **{form_name: form}))

    @login_required
    @require_POST
    def publish_view(request, **kwargs):
        """Four-eyes: the service refuses the drafter (403), a version not in draft (409)
        and one that fails the kind's own checks (400, by path)."""
        return command(request, kwargs[kwarg], form_class=PublishForm, service=publish,
                       done=_("Version %(number)s is published."))

    @login_required
    @require_POST
    def retire_view(request, **kwargs):
        """Withdraw a version in force without a successor (same permission as publish)."""
        return command(request, kwargs[kwarg], form_class=RetireForm, service=retire,
                       done=_("Version %(number)s is retired."))

    return publish_view, retire_view


def version_views(*, model, url_name: str, kwarg: str, page, check=None, payload=None):
    """`publish_retire_views` for a kind published by the shared services as they are
    (`version_publish` with the kind's `check` and audit `payload`, `version_retire`), its
    versions read through the base manager (drafts included)."""
    return publish_retire_views(
        get_version=lambda pk: get_object_or_404(model._base_manager, pk=pk),
        url_name=url_name, kwarg=kwarg, page=page,
        publish=lambda version, **kw: version_publish(model=model, pk=version.pk, check=check,
                                                      payload=payload, **kw),
        retire=lambda version, **kw: version_retire(model=model, pk=version.pk, **kw))


def row_views(*, get_version, rows, version_attr: str, url_name: str, kwarg: str, page,
              add_form: str, form_class, initial_form, row_template: str, row_context,
              add, update, remove, added, saved, removed):
    """The add, edit and remove views of the rows of one kind of versioned policy (authority
    matrix rows, entry conditions, duty rules, level actions), written once for every kind:
    policy officers only (403), then one service call whose refusal goes on the form (the
    version no longer a draft: 409; a wrong field: 400, by field; nothing saved).

    `get_version(pk)` the version (404 when absent), `rows` the rows' queryset,
    `version_attr` the row's field naming its version; `url_name`/`kwarg` the version's page,
    `page(request, version, status, **forms)` renders it with the add form as `add_form`;
    `initial_form(row)` the edit form of a row, shown by `row_template` with
    `row_context(row)`; `add(version, actor, **fields)`, `update(row, actor, **fields)` and
    `remove(row, actor)` the kind's services; `added()`, `saved(row)`, `removed(row)` the
    messages said after each."""
    def version_page(pk) -> str:
        return reverse(url_name, kwargs={kwarg: pk})

    @login_required
    @require_POST
    def add_view(request, **kwargs):
        require_policy_officer(request.user)
        version = get_version(kwargs[kwarg])
        return form_command(
            request, form=form_class(data=request.POST),
            call=lambda **fields: add(version, actor=request.user, **fields),
            done=added(), back=version_page(version.pk),
            page=lambda form, status: page(request, version, status, **{add_form: form}))

    @login_required
    def edit_view(request, row_id: int):
        """Change one row of a draft; refused wholesale when any field is wrong."""
        require_policy_officer(request.user)
        row = get_object_or_404(rows, pk=row_id)

        def row_page(form, status=200):
            return render(request, row_template, {**row_context(row), "form": form},
                          status=status)

        if request.method != "POST":
            return row_page(initial_form(row))
        return form_command(
            request, form=form_class(data=request.POST),
            call=lambda **fields: update(row, actor=request.user, **fields),
            done=saved(row), back=version_page(getattr(row, f"{version_attr}_id")),
            page=row_page)

    @login_required
    @require_POST
    def remove_view(request, row_id: int):
        require_policy_officer(request.user)
        row = get_object_or_404(rows, pk=row_id)
        remove(row, actor=request.user)  # a refusal is the error page (403 before 409)
        messages.success(request, removed(row))
        return redirect(version_page(getattr(row, f"{version_attr}_id")))

    return add_view, edit_view, remove_view

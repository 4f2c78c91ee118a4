"""What every policy workbench page does with a form: run one service, put its refusal on the
form (nothing is saved then), and for publish/retire go back to the version's page or show it
again with the errors at the service's status (403 before 409, as the services decide)."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.shortcuts import redirect
from django.utils.translation import gettext as _

from apps.core.exceptions import DomainError


def errors_on_form(form, exc: ValidationError) -> None:
    if hasattr(exc, "error_dict"):
        for field, errors in exc.message_dict.items():
            form.add_error(field if field in form.fields else None, errors)
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


def version_command(request, *, version, form, service, done: str, back: str, page):
    """POST of a publish or retire form for one version. `service(actor, **cleaned_data)`;
    `done` a message with %(number)s; `back` the version page's URL; `page(form, status)`
    renders that page with the bound form."""
    status = 400
    if form.is_valid():
        status = run_on_form(form, lambda: service(actor=request.user, **form.cleaned_data))
    if status == 200:
        messages.success(request, done % {"number": version.version})
        return redirect(back)
    version.refresh_from_db()
    return page(form, status)

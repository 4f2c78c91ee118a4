"""Pages of the re-verification (§3.4): the team lead's list of files sampled (or asked for)
for a re-visit or call-back, one page per file to record what was found, the per-officer
outcomes (§4.5 officer quality) for team leads and the risk side, and the team lead's request
to re-verify one accepted file.

Reads go through the viewer-scoped selectors (another branch's file is a 404); the outcome is
recorded by `reverification_complete`, which checks again that the actor is the assigned team
lead of the file's branch.
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST
from django_fsm import ConcurrentTransition, TransitionNotAllowed

from apps.core.exceptions import DomainError
from apps.core.signals import permission_refused
from apps.investigations.controls.reverification import (
    may_read_reverifications,
    officer_outcome_rows,
    reverification_complete,
    reverification_get,
    reverification_request,
    reverifications_assigned,
)
from apps.investigations.forms import ReVerificationForm, ReVerificationRequestForm
from apps.investigations.selectors import investigation_get
from apps.investigations.states import ReVerificationState


def _refused(request, view, exc: PermissionDenied):
    """The 403 page for a refusal the service raised, recorded like every other refusal."""
    permission_refused.send(sender=view, request=request, reason=str(exc))
    return render(request, "403.html", status=403)


@login_required
def reverification_list_page(request):
    """Mine (open first) and, for readers, the per-officer outcomes of their branches."""
    assigned = list(reverifications_assigned(viewer=request.user))
    readers = may_read_reverifications(request.user)
    if not assigned and not readers:
        permission_refused.send(sender=reverification_list_page, request=request,
                                reason="re-verifications: no role")
        raise PermissionDenied
    return render(request, "investigations/reverification_list.html", {
        "open": [r for r in assigned if r.state == ReVerificationState.OPEN],
        "done": [r for r in assigned if r.state != ReVerificationState.OPEN],
        "outcomes": officer_outcome_rows(viewer=request.user) if readers else None,
    })


@login_required
def reverification_page(request, reverification_id: int):
    """One sampled file: what to re-verify and, for the assigned team lead while it is open,
    the form recording how it went. A POST from anyone else is refused by the service."""
    reverification = reverification_get(viewer=request.user, reverification_id=reverification_id)
    form = ReVerificationForm(request.POST or None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                reverification_complete(reverification_id=reverification.pk,
                                        actor=request.user, **form.cleaned_data)
            except PermissionDenied as exc:
                return _refused(request, reverification_page, exc)
            except ValidationError as exc:
                for field, errors in exc.message_dict.items():
                    for error in errors:
                        form.add_error(field if field in form.fields else None, error)
            except (DomainError, TransitionNotAllowed, ConcurrentTransition):
                messages.error(request, _("This re-verification was already completed; here "
                                          "is what was recorded."))
                return redirect("investigations:reverification", reverification.pk)
            else:
                messages.success(request, _("Re-verification outcome recorded."))
                return redirect("investigations:reverification", reverification.pk)
        status = 400
    may_record = (reverification.state == ReVerificationState.OPEN
                  and reverification.assigned_to_id == request.user.pk)
    return render(request, "investigations/reverification_detail.html", {
        "reverification": reverification, "investigation": reverification.investigation,
        "application": reverification.investigation.application,
        "form": form if may_record else None,
    }, status=status)


@login_required
@require_POST
def reverification_request_page(request, investigation_id: int):
    """A team lead asks for this accepted investigation to be re-verified and lands on the
    re-verification's page; a refusal comes back as a message on the application's page.
    The service checks role, branch and state again."""
    investigation = investigation_get(viewer=request.user, investigation_id=investigation_id)
    back = redirect("applications:detail", application_id=investigation.application_id)
    form = ReVerificationRequestForm(request.POST)
    if not form.is_valid():
        for error in form.errors.get("reason", []):
            messages.error(request, _("Re-verification not requested: %(error)s")
                           % {"error": error})
        return back
    try:
        reverification = reverification_request(investigation_id=investigation.pk,
                                                actor=request.user, **form.cleaned_data)
    except PermissionDenied as exc:
        return _refused(request, reverification_request_page, exc)
    except ValidationError as exc:
        for error in exc.messages:
            messages.error(request, error)
        return back
    except (DomainError, TransitionNotAllowed, ConcurrentTransition) as exc:
        messages.error(request, getattr(exc, "detail", "") or _(
            "This investigation cannot be re-verified now."))
        return back
    messages.success(request, _("Re-verification requested: it is on your list."))
    return redirect("investigations:reverification", reverification.pk)

"""Telling people that something waits for them: when a step opens, when its reminder time
comes, and (to the branch's team leads) when its deadline passes.

Each notice is claimed by stamping the step under a row lock before the mail is sent after
commit, so a sweep run twice, or by two beat workers, sends each notice once.
"""

from __future__ import annotations

from django.conf import settings
from django.core.mail import send_mass_mail
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from apps.accounts.models import User
from apps.accounts.roles import Role
from apps.accounts.selectors import visible_branch_ids
from apps.approvals.models import ApprovalStep, StepKind
from apps.approvals.sod import signing_refusal
from apps.approvals.states import StepState
from apps.audit.services import audit_record


def step_candidates(step: ApprovalStep) -> list[User]:
    """Everyone who could sign or vote on the step now (the service decides in the end)."""
    if step.kind == StepKind.COMMITTEE:
        people = User.objects.filter(committee_seats__committee_id=step.committee_id)
    else:
        people = User.objects.filter(groups__name=Role.APPROVER)
    people = people.filter(is_active=True).distinct()
    return [user for user in people if signing_refusal(step, user)[0] is None]


def team_leads_of(application) -> list[User]:
    leads = User.objects.filter(groups__name=Role.TEAM_LEAD, is_active=True).distinct()
    return [lead for lead in leads if (visible_branch_ids(viewer=lead) is None
                                       or application.branch_id in visible_branch_ids(
                                           viewer=lead))]


def _when(moment) -> str:
    """A deadline as people read it: local time, to the minute (not an ISO timestamp)."""
    return date_format(timezone.localtime(moment), "Y-m-d H:i")


def _mail(step: ApprovalStep, people, subject: str, body: str) -> None:
    addresses = sorted({person.email for person in people if person.email})
    if not addresses:
        return
    link = settings.SITE_URL.rstrip("/") + reverse("approvals:dossier",
                                                   args=[step.route.application_id])
    messages = [(subject, f"{body}\n\n{link}", settings.DEFAULT_FROM_EMAIL, [address])
                for address in addresses]
    transaction.on_commit(lambda: send_mass_mail(messages, fail_silently=False))


def _claim(step_id: int, stamp: str, **filters) -> ApprovalStep | None:
    """Lock the step if it still needs this notice (skip a row another sweep holds)."""
    return (ApprovalStep.objects.select_for_update(no_key=True, skip_locked=True, of=("self",))
            .select_related("route__application", "committee")
            .filter(pk=step_id, state=StepState.WAITING, **{f"{stamp}__isnull": True},
                    **filters).first())


@transaction.atomic
def approval_step_notify(*, step_id: int) -> bool:
    """Mail the signers of a newly opened step; False when already done or decided."""
    step = _claim(step_id, "notified_at")
    if step is None:
        return False
    step.notified_at = timezone.now()
    step.save(update_fields=["notified_at", "updated_at"])
    people = step_candidates(step)
    reference = step.route.application.reference
    _mail(step, people, _("Waiting for you: %(reference)s") % {"reference": reference},
          _("Application %(reference)s waits for your decision at “%(step)s”, due %(due)s.")
          % {"reference": reference, "step": step.label, "due": _when(step.due_at)})
    audit_record(action="approval_step.notified", actor=None, subject=step,
                 payload={"recipients": [p.pk for p in people]})
    return True


def approval_deadlines_sweep(*, now=None) -> dict[str, int]:
    """Remind signers of steps past their reminder time and escalate overdue steps to the
    branch's team leads, once each (the beat schedule runs this every few minutes)."""
    now = now or timezone.now()
    waiting = ApprovalStep.objects.filter(state=StepState.WAITING)
    done = {"reminded": 0, "escalated": 0}
    for step_id in waiting.filter(remind_at__lte=now, reminded_at__isnull=True) \
            .values_list("pk", flat=True):
        done["reminded"] += _remind(step_id, now)
    for step_id in waiting.filter(due_at__lte=now, escalated_at__isnull=True) \
            .values_list("pk", flat=True):
        done["escalated"] += _escalate(step_id, now)
    return done


@transaction.atomic
def _remind(step_id: int, now) -> int:
    step = _claim(step_id, "reminded_at", remind_at__lte=now)
    if step is None:
        return 0
    step.reminded_at = now
    step.save(update_fields=["reminded_at", "updated_at"])
    people = step_candidates(step)
    reference = step.route.application.reference
    _mail(step, people, _("Reminder: %(reference)s waits for you") % {"reference": reference},
          _("Application %(reference)s still waits at “%(step)s”; it is due %(due)s.")
          % {"reference": reference, "step": step.label, "due": _when(step.due_at)})
    audit_record(action="approval_step.reminded", actor=None, subject=step,
                 payload={"recipients": [p.pk for p in people], "due_at": step.due_at})
    return 1


@transaction.atomic
def _escalate(step_id: int, now) -> int:
    step = _claim(step_id, "escalated_at", due_at__lte=now)
    if step is None:
        return 0
    step.escalated_at = now
    step.save(update_fields=["escalated_at", "updated_at"])
    leads = team_leads_of(step.route.application)
    reference = step.route.application.reference
    _mail(step, leads, _("Overdue: %(reference)s") % {"reference": reference},
          _("Application %(reference)s has waited past its deadline (%(due)s) at “%(step)s”.")
          % {"reference": reference, "step": step.label, "due": _when(step.due_at)})
    audit_record(action="approval_step.escalated", actor=None, subject=step,
                 payload={"team_leads": [p.pk for p in leads], "due_at": step.due_at})
    return 1

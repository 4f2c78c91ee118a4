"""The notification centre: in one place, what waits for the viewer across the bank's
workflows, instead of a count beside each menu entry.

Five kinds, each read through the owning app's scoped selector (no copy of their rules here,
nothing written): approvals waiting for the viewer's signature or vote (the approvals inbox),
files returned to the viewer for rework, files assigned to the viewer that are being worked
on, deadlines (the viewer's open inspections and monitoring actions due within the horizon or
already late) and open early-warning signals on the loans the viewer looks after (a team lead:
the level 2 and 3 signals of their branches).

The horizon for "due soon" is policy data (`notifications.due_soon_days`); without it only
what is due today or late is shown. E-mail goes out where the owning app sends it (approval
step notices, reminders and escalations: `apps.approvals.services.notifications`;
inspection and action escalations in monitoring): this page does not send a second one.

A fixed number of queries: per kind, its first page (LIST_LIMIT rows) with the kind's total
beside each row (a window count), rather than a count and then the page. The page's cost was
the building of each query, not its rows (issue #22): each read selects only the columns its
notices show, the SQL is built once per shape of viewer (apps/insight/compiled.py) and the
reads go to PostgreSQL as one batch after the notice period's.
"""

import datetime as dt
from dataclasses import dataclass

from django.db.models import Count, F, Q, QuerySet, Window
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _

from apps.accounts.roles import Role
from apps.applications.selectors import application_list
from apps.applications.states import ApplicationState
from apps.approvals.selectors import inbox_list
from apps.insight.compiled import batch, compiled, rows
from apps.investigations.models import PolicyValue
from apps.monitoring import selectors as monitoring
from apps.monitoring.inspection_selectors import inspection_list
from apps.monitoring.inspection_states import OPEN_INSPECTION_STATES
from apps.monitoring.states import ActionKind

DUE_SOON_KEY = "notifications.due_soon_days"
LIST_LIMIT = 20

KINDS = {
    "approval": gettext_lazy("Approvals"),
    "returned": gettext_lazy("Returns"),
    "assignment": gettext_lazy("Assignments"),
    "deadline": gettext_lazy("Deadlines"),
    "signal": gettext_lazy("Signals"),
}


@dataclass
class Notice:
    kind: str
    text: str
    url: str
    when: dt.date | None
    late: bool = False


def _horizon_read(today: dt.date) -> QuerySet:
    """The notice period's value: the key's highest version in force `today` (the rule of
    `policy_values_in_force`, read for this one key rather than every value in force)."""
    return (PolicyValue.objects.filter(key=DUE_SOON_KEY, effective_from__lte=today)
            .filter(Q(effective_to__isnull=True) | Q(effective_to__gt=today))
            .order_by("-version").values("value")[:1])


def _page(queryset: QuerySet, *fields: str, **expressions) -> QuerySet:
    """The first LIST_LIMIT rows as dicts of `fields` and `expressions`, each with the total
    as a window count over every matching row, taken before the LIMIT (no row, no total to
    read: 0). Only the columns a notice shows are read (`values()`): the selectors'
    select_related chains (up to seven tables for the inbox) cost more to build into SQL and
    to plan than the rows cost to read, so none of them is joined unless a notice needs it
    (issue #22)."""
    return queryset.values(*fields, **expressions, notice_total=Window(Count("pk")))[
        :LIST_LIMIT]


def _reads(viewer, *, today: dt.date, until: dt.date, at: dt.datetime) -> dict[str, QuerySet]:
    """The page's reads, each through the owning app's scoped selector: every kind's first
    page with its total."""
    mine = application_list(viewer=viewer).filter(account_manager=viewer).order_by(
        "updated_at", "id")
    files = ("id", "reference", "state", "updated_at")
    firm = {"firm": F("enterprise__name")}
    loan = {"loan_number": F("loan__loan_number"), "firm": F("loan__enterprise__name")}
    watched = Q(loan__officer=viewer)
    if viewer.has_role(Role.TEAM_LEAD):
        watched |= Q(level__gte=2)  # the branch's serious signals reach its head
    return {
        "approval": _page(inbox_list(viewer=viewer, at=at), "label_en", "label_zh", "due_at",
                          reference=F("route__application__reference"),
                          firm=F("route__application__enterprise__name")),
        "returned": _page(mine.filter(state=ApplicationState.RETURNED), *files, **firm),
        "assignment": _page(mine.filter(state__in=[
            ApplicationState.SUBMITTED, ApplicationState.INVESTIGATING]), *files, **firm),
        "inspection": _page(inspection_list(viewer=viewer).filter(
            officer=viewer, state__in=OPEN_INSPECTION_STATES, due_date__lte=until).order_by(
            "due_date", "id"), "id", "due_date", **loan),
        "action": _page(monitoring.action_list(viewer=viewer).filter(
            owner=viewer, due_date__lte=until), "id", "kind", "due_date", "loan_id", **loan),
        "signal": _page(monitoring.signal_list(viewer=viewer).filter(watched).order_by(
            "-level", "raised_at", "id"), "id", "level", "raised_at", "loan_id",
            rule_en=F("rule__name_en"), rule_zh=F("rule__name_zh"), **loan),
    }


def _read(viewer, today: dt.date, now: dt.datetime) -> tuple[int, dict[str, list[dict]]]:
    """(the notice period, each read's rows): SQL built once per shape of viewer and the
    reads sent as one batch (apps/insight/compiled.py), or the querysets as they are off
    PostgreSQL."""
    kept = compiled("notifications.horizon", viewer,
                    lambda stand_in: {"horizon": _horizon_read(stand_in.day(0))}, days=[today])
    value = rows(kept["horizon"]) if kept is not None else list(_horizon_read(today))
    horizon = int(value[0]["value"]) if value else 0
    until = today + dt.timedelta(days=horizon)
    kept = compiled("notifications", viewer, lambda stand_in: _reads(
        stand_in.viewer, today=stand_in.day(0), until=stand_in.day(1), at=stand_in.at),
        days=[today, until], at=now, extra=(LIST_LIMIT,))
    if kept is None:
        return horizon, {part: list(query) for part, query in _reads(
            viewer, today=today, until=until, at=now).items()}
    return horizon, batch(kept, fixed_order=("approval",))


def _total(found: list[dict]) -> int:
    return found[0]["notice_total"] if found else 0


def _label(row: dict) -> str:
    """ApprovalStep.label on a values() row: the Chinese label under Chinese, if there is one."""
    return row["label_zh"] if (get_language() or "").startswith("zh") and row["label_zh"] \
        else row["label_en"]


def _rule_name(row: dict) -> str:
    """SignalRule.name on a values() row (rules are data in both languages)."""
    return row["rule_zh"] if (get_language() or "").startswith("zh") else row["rule_en"]


def notification_centre(*, viewer) -> dict:
    """Every kind with its total and its first LIST_LIMIT notices, most urgent first."""
    today = timezone.localdate()
    now = timezone.now()
    horizon, found = _read(viewer, today, now)
    sections = []

    inbox = reverse("approvals:inbox")
    sections.append(("approval", _total(found["approval"]), [Notice(
        "approval", _("%(reference)s (%(enterprise)s) waits for you at “%(step)s”.") % {
            "reference": s["reference"], "enterprise": s["firm"], "step": _label(s)},
        inbox, timezone.localtime(s["due_at"]).date() if s["due_at"] else None,
        late=bool(s["due_at"] and s["due_at"] < now)) for s in found["approval"]]))

    sections.append(("returned", _total(found["returned"]), [Notice(
        "returned", _("%(reference)s (%(enterprise)s) was returned to you for rework.") % {
            "reference": a["reference"], "enterprise": a["firm"]},
        _detail("applications:detail", a["id"]), timezone.localtime(a["updated_at"]).date())
        for a in found["returned"]]))

    states = dict(ApplicationState.choices)
    sections.append(("assignment", _total(found["assignment"]), [Notice(
        "assignment", _("%(reference)s (%(enterprise)s) is yours: %(state)s.") % {
            "reference": a["reference"], "enterprise": a["firm"],
            "state": states.get(a["state"], a["state"])},
        _detail("applications:detail", a["id"]), timezone.localtime(a["updated_at"]).date())
        for a in found["assignment"]]))

    kinds = dict(ActionKind.choices)
    deadlines = [Notice(
        "deadline", _("Inspection of %(loan)s (%(enterprise)s) due on %(day)s.") % {
            "loan": i["loan_number"], "enterprise": i["firm"],
            "day": _date(i["due_date"])},
        _detail("monitoring:inspection_form", i["id"]), i["due_date"], i["due_date"] < today)
        for i in found["inspection"]]
    deadlines += [Notice(
        "deadline", _("%(action)s on %(loan)s (%(enterprise)s) due on %(day)s.") % {
            "action": kinds.get(a["kind"], a["kind"]), "loan": a["loan_number"],
            "enterprise": a["firm"], "day": _date(a["due_date"])},
        _detail("monitoring:loan", a["loan_id"]), a["due_date"], a["due_date"] < today)
        for a in found["action"]]
    deadlines.sort(key=lambda n: (n.when or today, n.text))
    sections.append(("deadline", _total(found["inspection"]) + _total(found["action"]),
                     deadlines[:LIST_LIMIT]))

    sections.append(("signal", _total(found["signal"]), [Notice(
        "signal", _("Level %(level)s signal on %(loan)s (%(enterprise)s): %(rule)s.") % {
            "level": s["level"], "loan": s["loan_number"], "enterprise": s["firm"],
            "rule": _rule_name(s)},
        _detail("monitoring:loan", s["loan_id"]) + f"#signal-{s['id']}",
        timezone.localtime(s["raised_at"]).date(), s["level"] >= 3) for s in found["signal"]]))

    return {
        "sections": [{"kind": kind, "label": KINDS[kind], "total": total, "notices": notices,
                      "late": sum(1 for n in notices if n.late)}
                     for kind, total, notices in sections],
        "total": sum(total for _kind, total, _n in sections),
        "horizon": horizon,
    }


def _detail(name: str, pk: int) -> str:
    return reverse(name, args=[pk])


def _date(day: dt.date) -> str:
    from django.utils import formats

    return formats.date_format(day, "SHORT_DATE_FORMAT")

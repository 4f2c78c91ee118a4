"""Time on site and time per section (domain reference §3.4 "superficial visits"; issue 4).

Time on site comes from each officer's check-in and check-out: both officers must stay at least
the policy minimum (≥ 60 min for a first visit [G]). Time per section comes from the autosave
timestamps kept in `SectionTiming`: many answers saved within seconds means the section was
ticked, not investigated. Each finding names the minutes or seconds it compared.
"""

from __future__ import annotations

from collections import defaultdict

from django.utils.translation import gettext_lazy as _

from apps.investigations.controls.geo import Site, haversine_m, metres
from apps.investigations.controls.messages import control_finding
from apps.investigations.controls.policies import need, severity
from apps.investigations.models import Investigation, SectionTiming, SiteCheckIn
from apps.investigations.rules import Finding


def _role(investigation: Investigation, officer_id: int):
    return (_("lead officer") if officer_id == investigation.lead_officer_id
            else _("assisting officer"))


def site_visit_findings(*, investigation: Investigation, check_ins: list[SiteCheckIn],
                        site: Site | None, policy) -> list[Finding]:
    """Per officer: checked out, long enough on site, and checked in at the site."""
    minimum = need(policy, "control.site.min_minutes")
    short = severity(policy, "control.site.short_visit.severity")
    by_officer: dict[int, list[SiteCheckIn]] = defaultdict(list)
    for check_in in check_ins:
        by_officer[check_in.officer_id].append(check_in)
    findings = []
    for officer_id in (investigation.lead_officer_id, investigation.assisting_officer_id):
        visits = sorted(by_officer.get(officer_id, []), key=lambda c: c.at)
        if not visits:
            continue  # the submission gate refuses a missing check-in
        role = _role(investigation, officer_id)
        closed = [v for v in visits if v.checked_out_at is not None]
        if len(closed) < len(visits):
            findings.append(control_finding(
                code="SITE_NO_CHECK_OUT", severity=short,
                message=_("The %(role)s checked in at %(at)s but never checked out: the time "
                          "on site is unknown."),
                explanation=_("%(open)s of %(all)s check-ins have no check-out."),
                inputs={"officer": officer_id}, role=role,
                at=visits[-1].at.strftime("%Y-%m-%d %H:%M UTC"),
                open=len(visits) - len(closed), all=len(visits)))
        minutes = sum((v.checked_out_at - v.at).total_seconds() for v in closed) / 60
        if closed and minutes < minimum:
            findings.append(control_finding(
                code="SITE_VISIT_SHORT", severity=short,
                message=_("The %(role)s spent %(minutes)s minutes on site; at least %(minimum)s "
                          "are expected."),
                explanation=_("Check-in to check-out: %(minutes)s min < policy "
                              "control.site.min_minutes = %(minimum)s min."),
                inputs={"officer": officer_id, "minutes": round(minutes)},
                policies={"control.site.min_minutes": str(minimum)},
                role=role, minutes=round(minutes), minimum=int(minimum)))
        if site is not None and site.basis == "operating_address":
            radius = need(policy, "control.photo.site_radius_m")
            far = max(visits, key=lambda v: haversine_m(v.lat, v.lng, site.lat, site.lng))
            distance = haversine_m(far.lat, far.lng, site.lat, site.lng)
            if distance > radius:
                findings.append(control_finding(
                    code="SITE_CHECK_IN_OFF_SITE",
                    severity=severity(policy, "control.site.check_in_off_site.severity"),
                    message=_("The %(role)s checked in %(distance)s m from the operating "
                              "address (limit %(radius)s m)."),
                    explanation=_("Check-in %(lat)s, %(lng)s vs operating address %(site_lat)s, "
                                  "%(site_lng)s: %(distance)s m > policy "
                                  "control.photo.site_radius_m = %(radius)s m."),
                    inputs={"officer": officer_id, "distance_m": round(distance)},
                    policies={"control.photo.site_radius_m": str(radius)},
                    role=role, distance=metres(distance), radius=metres(float(radius)),
                    lat=far.lat, lng=far.lng, site_lat=site.lat, site_lng=site.lng))
    return findings


def section_findings(*, investigation: Investigation, policy) -> list[Finding]:
    """Sections whose answers were saved implausibly fast, from the autosave timings."""
    per_item = need(policy, "control.section.min_seconds_per_item")
    min_items = int(need(policy, "control.section.min_items"))
    answered: dict[int, int] = defaultdict(int)
    for section_id in investigation.answers.values_list("item__section_id", flat=True):
        answered[section_id] += 1
    findings = []
    timings = SectionTiming.objects.filter(investigation=investigation).select_related("section")
    for timing in timings:
        count = answered.get(timing.section_id, 0)
        if count < min_items:
            continue
        seconds = (timing.last_saved_at - timing.first_saved_at).total_seconds()
        if seconds / count < float(per_item):
            findings.append(control_finding(
                code="SECTION_RUSHED", item=None,
                severity=severity(policy, "control.section.rushed.severity"),
                message=_("Section %(section)s: %(count)s answers saved within %(seconds)s "
                          "seconds."),
                explanation=_("%(per)s s per answer < policy "
                              "control.section.min_seconds_per_item = %(limit)s s."),
                inputs={"section": timing.section.code, "answers": count,
                        "seconds": round(seconds)},
                policies={"control.section.min_seconds_per_item": str(per_item)},
                section=timing.section.code, count=count, seconds=round(seconds),
                per=f"{seconds / count:.1f}", limit=int(per_item)))
    return findings

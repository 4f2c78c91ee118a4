"""Two officers on site together (issue 19; domain reference §3.4 双人调查 "two-officer rule").

Each officer checking in and staying long enough (timing.py) does not show that they were
there *together*: one can visit in the morning and the other in the evening, or one not at
all but checking in from the car park for the other. This control takes each officer's time on
site — check-in to check-out, counted only when the check-in (and the check-out position, when
given) lies within the site radius — and measures how long both were present at once. Less than
the policy minimum is a finding that carries both timelines, drawn side by side on the page.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict

from django.utils.translation import gettext_lazy as _

from apps.investigations.controls.geo import Site, haversine_m
from apps.investigations.controls.messages import control_finding
from apps.investigations.controls.policies import need, severity
from apps.investigations.rules import Finding

Interval = tuple[dt.datetime, dt.datetime]


def merge(intervals: list[Interval]) -> list[Interval]:
    merged: list[Interval] = []
    for start, end in sorted(intervals):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


def intersect(a: list[Interval], b: list[Interval]) -> list[Interval]:
    out, i, j = [], 0, 0
    while i < len(a) and j < len(b):
        start, end = max(a[i][0], b[j][0]), min(a[i][1], b[j][1])
        if start < end:
            out.append((start, end))
        if a[i][1] < b[j][1]:
            i += 1
        else:
            j += 1
    return out


def minutes(intervals: list[Interval]) -> float:
    return sum((end - start).total_seconds() for start, end in intervals) / 60


def _on_site(visit, site: Site | None, radius: float) -> tuple[bool, int | None]:
    if site is None:
        return True, None  # nowhere to compare with: PHOTO_NO_SITE_REFERENCE says so
    distance = haversine_m(visit.lat, visit.lng, site.lat, site.lng)
    if visit.out_lat is not None and visit.out_lng is not None:
        distance = max(distance, haversine_m(visit.out_lat, visit.out_lng, site.lat, site.lng))
    return distance <= radius, round(distance)


def _hhmm(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")


def together_findings(*, investigation, check_ins, site: Site | None, policy) -> list[Finding]:
    """VISIT_NOT_TOGETHER when both officers' time on site overlaps less than the minimum."""
    by_officer = defaultdict(list)
    for visit in check_ins:
        by_officer[visit.officer_id].append(visit)
    officers = [(investigation.lead_officer_id, "lead"),
                (investigation.assisting_officer_id, "assisting")]
    if any(not by_officer.get(officer) for officer, _role in officers):
        return []  # the submission gate refuses a missing check-in
    minimum = float(need(policy, "control.visit.min_overlap_minutes"))
    radius = float(need(policy, "control.photo.site_radius_m"))
    level = severity(policy, "control.visit.not_together.severity")
    presence, rows = [], []
    moments = [v.at for v in check_ins] + [v.checked_out_at for v in check_ins
                                           if v.checked_out_at is not None]
    span_start, span_end = min(moments), max(moments)
    span = max((span_end - span_start).total_seconds(), 60.0)

    def pct(moment: dt.datetime) -> float:
        return round(100 * (moment - span_start).total_seconds() / span, 1)

    for officer, role in officers:
        on_site, visits = [], []
        for visit in sorted(by_officer[officer], key=lambda v: v.at):
            inside, distance = _on_site(visit, site, radius)
            end = visit.checked_out_at
            if inside and end is not None and end > visit.at:
                on_site.append((visit.at, end))
            visits.append({
                "from": _hhmm(visit.at), "to": _hhmm(end) if end else None,
                "on_site": inside, "distance_m": distance,
                "left": pct(visit.at), "width": max(pct(end) - pct(visit.at), 1.0) if end else 1.0})
        presence.append(merge(on_site))
        rows.append({"role": role, "officer": officer, "visits": visits,
                     "minutes_on_site": round(minutes(merge(on_site)))})
    both = intersect(presence[0], presence[1])
    overlap = minutes(both)
    if overlap >= minimum:
        return []
    timelines = {"officers": rows,
                 "together": [{"from": _hhmm(s), "to": _hhmm(e), "left": pct(s),
                               "width": max(pct(e) - pct(s), 1.0)} for s, e in both],
                 "start": _hhmm(span_start), "end": _hhmm(span_end)}
    return [control_finding(
        code="VISIT_NOT_TOGETHER", severity=level,
        message=_("The two officers were on site together for %(overlap)s minutes; at least "
                  "%(minimum)s are expected (lead officer %(lead)s min, assisting officer "
                  "%(assist)s min on site)."),
        explanation=_("Overlap of both officers' check-in to check-out intervals within "
                      "%(radius)s m of the site: %(overlap)s min < policy "
                      "control.visit.min_overlap_minutes = %(minimum)s min."),
        inputs={"overlap_minutes": round(overlap), "timelines": timelines},
        policies={"control.visit.min_overlap_minutes": f"{minimum:g}",
                  "control.photo.site_radius_m": f"{radius:g}"},
        overlap=round(overlap), minimum=f"{minimum:g}", lead=rows[0]["minutes_on_site"],
        assist=rows[1]["minutes_on_site"], radius=f"{radius:g}")]

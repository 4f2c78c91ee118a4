"""Controls against box-ticking (domain reference §3.4; issue 4 "controls against formality").

`run_controls` runs every control over one investigation at submission and returns findings of
kind "control" (severity and thresholds from policy, an explanation naming the numbers), stored
with the red flags so the reviewer sees them beside the template's own rules (§3.5: flags are
raised by rules, never cleared by the officer). A control that cannot run (no document checks,
a policy value missing) says so as a finding instead of passing silently.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.utils.translation import gettext_lazy as _

from apps.investigations.controls.geo import Site
from apps.investigations.controls.messages import control_finding
from apps.investigations.controls.paraphrase import reworded_findings
from apps.investigations.controls.photo_edits import edited_reuse_findings, fingerprint_limits
from apps.investigations.controls.photos import photo_findings, reuse_findings
from apps.investigations.controls.policies import ControlNotConfigured, need, severity
from apps.investigations.controls.similarity import narrative_findings
from apps.investigations.controls.timing import section_findings, site_visit_findings
from apps.investigations.controls.together import together_findings
from apps.investigations.evidence import evidence_source
from apps.investigations.models import AnswerType, Investigation, SiteCheckIn
from apps.investigations.rules import Finding

# Used only when even the severity of "not configured" is missing: a control that cannot run
# must never look like a pass, so the reviewer has to comment on it (R2).
_FALLBACK_SEVERITY = "R2"


def site_reference(investigation: Investigation, check_ins: list[SiteCheckIn]) -> Site | None:
    """The operating address's coordinates; without them (geocoding is out of scope), the
    mean of the officers' check-in positions, and the findings say which was used."""
    enterprise = investigation.application.enterprise
    if enterprise.operating_lat is not None and enterprise.operating_lng is not None:
        return Site(enterprise.operating_lat, enterprise.operating_lng, "operating_address")
    if not check_ins:
        return None
    count = Decimal(len(check_ins))
    return Site(sum((c.lat for c in check_ins), Decimal(0)) / count,
                sum((c.lng for c in check_ins), Decimal(0)) / count, "check_ins")


def _answered_photo_ids(investigation: Investigation) -> set[str]:
    ids: set[str] = set()
    for answer in investigation.answers.select_related("item"):
        if answer.item.answer_type == AnswerType.PHOTO and isinstance(answer.value, list):
            ids |= {str(v) for v in answer.value}
        ids |= {str(v) for v in (answer.evidence or {}).get("photos") or []}
    return ids


def _not_configured(policy, key: str, control: str) -> Finding:
    try:
        level = severity(policy, "control.not_configured.severity")
    except ControlNotConfigured:
        level = _FALLBACK_SEVERITY
    return control_finding(
        code="CONTROL_NOT_CONFIGURED", severity=level,
        message=_("The %(control)s control did not run: policy value %(key)s is not in force."),
        explanation=_("Missing policy value %(key)s."), inputs={"control": control},
        control=control, key=key)


def run_controls(investigation: Investigation, *, policy, now: dt.datetime) -> list[Finding]:
    """Every control over the investigation as it stands now (photos, reuse, narratives, time
    on site, time per section)."""
    from apps.applications.models import Application

    check_ins = list(investigation.check_ins.all())
    site = site_reference(investigation, check_ins)
    application_id = investigation.application_id
    findings: list[Finding] = []

    def run(name: str, control) -> None:
        try:
            findings.extend(control())
        except ControlNotConfigured as exc:
            findings.append(_not_configured(policy, exc.key, name))

    source = evidence_source()
    if source is None:
        run("evidence", lambda: [control_finding(
            code="EVIDENCE_UNAVAILABLE",
            severity=severity(policy, "control.evidence.unavailable.severity"),
            message=_("No document checks are available: site photos could not be verified."),
            explanation=_("No evidence source is registered."))])
    else:
        photos = source.photos(application_id)
        run("photo", lambda: photo_findings(
            photos=photos, site=site, window_start=investigation.started_at, window_end=now,
            policy=policy, answered_ids=_answered_photo_ids(investigation)))

        def reuse() -> list[Finding]:
            distance = int(need(policy, "control.photo.phash_max_distance"))
            matches = source.photo_reuse(application_id, max_distance=distance)
            references = dict(Application.objects.filter(
                pk__in={m.other_application_id for m in matches}).values_list("pk", "reference"))
            return reuse_findings(photos=photos, reuse=matches, references=references,
                                  policy=policy)
        run("photo reuse", reuse)

        def edited_reuse() -> list[Finding]:
            matches = source.edited_photo_reuse(application_id, **fingerprint_limits(policy))
            references = dict(Application.objects.filter(
                pk__in={m.other_application_id for m in matches}).values_list("pk", "reference"))
            return edited_reuse_findings(reuse=matches, references=references, policy=policy)
        run("edited photo reuse", edited_reuse)
        from apps.investigations.controls.flows import declared_debts, flow_findings

        answers = {a.item.code: a.value for a in investigation.answers.select_related("item")
                   if not a.not_applicable}
        run("statement flows", lambda: flow_findings(source=source,
                                                     application_id=application_id,
                                                     policy=policy,
                                                     declared=declared_debts(answers)))
    run("narrative", lambda: narrative_findings(investigation=investigation, policy=policy))
    run("reworded narrative", lambda: reworded_findings(investigation=investigation,
                                                       policy=policy))
    run("officers together", lambda: together_findings(investigation=investigation,
                                                       check_ins=check_ins, site=site,
                                                       policy=policy))
    run("time on site", lambda: site_visit_findings(investigation=investigation,
                                                    check_ins=check_ins, site=site,
                                                    policy=policy))
    run("section timing", lambda: section_findings(investigation=investigation, policy=policy))
    return findings

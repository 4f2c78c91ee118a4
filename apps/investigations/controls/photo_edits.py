"""Edited photo reuse (issue 19; domain reference §3.4 "photo hash or near-duplicate reused
from another file → R3").

The documents app fingerprints every photo (several perceptual hashes of colour-normalised
windows, apps/documents/checks/fingerprint.py) and finds edited copies across every file and
stage; this turns the matches into findings naming both photos, the other file and the
distance against the policy limit. Pure function: the caller fetches matches and policy.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.utils.translation import gettext_lazy as _

from apps.investigations.controls.messages import control_finding
from apps.investigations.controls.policies import need, severity
from apps.investigations.evidence import PhotoReuse
from apps.investigations.rules import Finding

LIMIT_KEY = "control.photo.fingerprint_max_distance"
PAIRS_KEY = "control.photo.fingerprint_min_pairs"
CANDIDATE_KEY = "control.photo.fingerprint_candidate_distance"


def fingerprint_limits(policy) -> dict[str, int]:
    """The search's three policy numbers, as the evidence source takes them."""
    return {"candidate_distance": int(need(policy, CANDIDATE_KEY)),
            "max_distance": int(need(policy, LIMIT_KEY)),
            "min_pairs": int(need(policy, PAIRS_KEY))}


def edited_reuse_findings(*, reuse: Iterable[PhotoReuse], references: dict[int, str],
                          policy, own_application_id: int | None = None) -> list[Finding]:
    """One finding per (photo, other photo) pair; a match inside the same application (a
    post-loan inspection re-using the pre-loan visit's picture) says so."""
    limit = int(need(policy, LIMIT_KEY))
    pairs = int(need(policy, PAIRS_KEY))
    level = severity(policy, "control.photo.edited_reuse.severity")
    findings = []
    seen = set()
    for match in sorted(reuse, key=lambda r: (r.document_id, r.distance, r.other_document_id)):
        pair = (match.document_id, match.other_document_id)
        if pair in seen:
            continue
        seen.add(pair)
        same = own_application_id is not None and match.other_application_id == own_application_id
        other = references.get(match.other_application_id, f"#{match.other_application_id}")
        findings.append(control_finding(
            code="PHOTO_REUSED_EDITED", severity=level,
            message=(_("Photo #%(photo)s is an edited copy of photo #%(other)s taken at an "
                       "earlier visit to this file (%(application)s).") if same else
                     _("Photo #%(photo)s is an edited copy of photo #%(other)s of application "
                       "%(application)s.")),
            explanation=_("Closest fingerprint windows of #%(photo)s and #%(other)s differ by "
                          "%(distance)s bits ≤ policy %(key)s = %(limit)s, and at least policy "
                          "%(pairs_key)s = %(pairs)s window pairs agree that closely (survives "
                          "crop, small turns, colour change, re-saving and new metadata)."),
            inputs={"photo": match.document_id, "other_photo": match.other_document_id,
                    "other_application": match.other_application_id,
                    "distance": match.distance, "same_application": same},
            policies={LIMIT_KEY: limit, PAIRS_KEY: pairs},
            photo=match.document_id, other=match.other_document_id, application=other,
            distance=match.distance, key=LIMIT_KEY, limit=limit, pairs_key=PAIRS_KEY,
            pairs=pairs))
    return findings

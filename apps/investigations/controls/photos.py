"""Site-visit photo controls (domain reference §3.3 C1, §3.4; issue 4 "controls").

A photo proves a visit only if it was taken during the investigation, at the site, by the phone
that uploaded it, and was not taken for another file. Each check compares numbers read by the
document checks (`PhotoEvidence`) with the investigation window, the site position and policy
limits, and explains the numbers it compared. Missing metadata or a photo not yet checked is a
finding, never a pass. Pure functions: the caller fetches the photos and the policy.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from django.utils.translation import gettext_lazy as _

from apps.investigations.controls.geo import Site, haversine_m, metres
from apps.investigations.controls.messages import control_finding, joined
from apps.investigations.controls.policies import need, severity
from apps.investigations.evidence import PhotoEvidence, PhotoReuse
from apps.investigations.rules import Finding


def _when(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")


def _site_words(site: Site):
    if site.basis == "operating_address":
        return _("the enterprise's operating address")
    return _("the officers' check-in position (the enterprise has no coordinates on file)")


def hamming(a: str, b: str) -> int:
    """Bits that differ between two 64-bit perceptual hashes written as hex."""
    return bin(int(a, 16) ^ int(b, 16)).count("1")


def photo_findings(*, photos: Iterable[PhotoEvidence], site: Site | None,
                   window_start: dt.datetime | None, window_end: dt.datetime,
                   policy, answered_ids: Iterable = ()) -> list[Finding]:
    """Capture time, position, phone position and metadata of every site photo of the file."""
    photos = sorted(photos, key=lambda p: p.document_id)
    radius = need(policy, "control.photo.site_radius_m")
    device_gap = need(policy, "control.photo.device_gap_m")
    tolerance = dt.timedelta(minutes=int(need(policy, "control.photo.time_tolerance_minutes")))
    findings: list[Finding] = []
    known = {str(p.document_id) for p in photos}
    for document_id in sorted({str(i) for i in answered_ids} - known):
        findings.append(control_finding(
            code="PHOTO_NOT_ON_FILE", severity=severity(policy, "control.photo.unchecked.severity"),
            message=_("Photo %(photo)s given in an answer is not among the file's checked "
                      "site photos."),
            explanation=_("Answer cites photo %(photo)s; the document checks list none with "
                          "that id for this application."),
            inputs={"photo": document_id}, photo=document_id))
    if site is None and photos:
        findings.append(control_finding(
            code="PHOTO_NO_SITE_REFERENCE",
            severity=severity(policy, "control.photo.missing_metadata.severity"),
            message=_("Photo positions could not be checked: the enterprise has no coordinates "
                      "and no officer checked in."),
            explanation=_("No operating-address coordinates and no check-in position.")))
    for photo in photos:
        findings += _one_photo(photo, site=site, window_start=window_start,
                               window_end=window_end, tolerance=tolerance, radius=radius,
                               device_gap=device_gap, policy=policy)
    return findings


def _one_photo(photo: PhotoEvidence, *, site, window_start, window_end, tolerance, radius,
               device_gap, policy) -> list[Finding]:
    name = f"#{photo.document_id}"
    if not photo.checked:
        return [control_finding(
            code="PHOTO_NOT_CHECKED", severity=severity(policy, "control.photo.unchecked.severity"),
            message=_("Photo %(photo)s has not been checked yet: its capture time and position "
                      "are unknown."),
            explanation=_("Photo %(photo)s uploaded %(uploaded)s; metadata check pending."),
            inputs={"photo": photo.document_id}, photo=name, uploaded=_when(photo.uploaded_at))]
    findings = []
    missing = []
    if photo.taken_at is None:
        missing.append(_("capture time (EXIF)"))
    if photo.taken_lat is None or photo.taken_lng is None:
        missing.append(_("GPS position (EXIF)"))
    if photo.device_lat is None or photo.device_lng is None:
        missing.append(_("phone position at upload"))
    if missing:
        findings.append(control_finding(
            code="PHOTO_METADATA_MISSING",
            severity=severity(policy, "control.photo.missing_metadata.severity"),
            message=_("Photo %(photo)s lacks %(missing)s."),
            explanation=_("Photo %(photo)s: missing %(missing)s; site photos need capture time "
                          "and position."),
            inputs={"photo": photo.document_id, "missing": [str(m) for m in missing]},
            photo=name, missing=joined(missing)))
    if photo.taken_at is not None and window_start is not None:
        start, end = window_start - tolerance, window_end + tolerance
        if not start <= photo.taken_at <= end:
            findings.append(control_finding(
                code="PHOTO_OUTSIDE_WINDOW",
                severity=severity(policy, "control.photo.outside_window.severity"),
                message=_("Photo %(photo)s was taken %(taken)s, outside the investigation "
                          "(%(start)s to %(end)s)."),
                explanation=_("Photo %(photo)s taken %(taken)s; investigation window %(start)s "
                              "– %(end)s with a tolerance of %(tolerance)s minutes "
                              "(policy control.photo.time_tolerance_minutes)."),
                inputs={"photo": photo.document_id, "taken_at": photo.taken_at.isoformat()},
                policies={"control.photo.time_tolerance_minutes":
                          int(tolerance.total_seconds() // 60)},
                photo=name, taken=_when(photo.taken_at), start=_when(window_start),
                end=_when(window_end), tolerance=int(tolerance.total_seconds() // 60)))
    has_taken = photo.taken_lat is not None and photo.taken_lng is not None
    has_device = photo.device_lat is not None and photo.device_lng is not None
    # The photo's own GPS is the better witness; the phone's position stands in without it.
    position = ((photo.taken_lat, photo.taken_lng, _("its GPS position")) if has_taken else
                (photo.device_lat, photo.device_lng, _("the phone's position at upload"))
                if has_device else None)
    if site is not None and position is not None:
        distance = haversine_m(position[0], position[1], site.lat, site.lng)
        if distance > radius:
            findings.append(control_finding(
                code="PHOTO_OFF_SITE", severity=severity(policy, "control.photo.off_site.severity"),
                message=_("Photo %(photo)s was taken %(distance)s m from %(site)s (limit "
                          "%(radius)s m)."),
                explanation=_("Photo %(photo)s at %(lat)s, %(lng)s (%(basis)s) is %(distance)s m "
                              "from %(site_lat)s, %(site_lng)s > policy "
                              "control.photo.site_radius_m = %(radius)s m."),
                inputs={"photo": photo.document_id, "distance_m": round(distance),
                        "site_basis": site.basis},
                policies={"control.photo.site_radius_m": str(radius)},
                photo=name, distance=metres(distance), site=_site_words(site),
                radius=metres(float(radius)), lat=position[0], lng=position[1],
                basis=position[2], site_lat=site.lat, site_lng=site.lng))
    if has_taken and has_device:
        gap = haversine_m(photo.taken_lat, photo.taken_lng, photo.device_lat, photo.device_lng)
        if gap > device_gap:
            findings.append(control_finding(
                code="PHOTO_DEVICE_MISMATCH",
                severity=severity(policy, "control.photo.device_gap.severity"),
                message=_("Photo %(photo)s: its GPS position and the phone's position at upload "
                          "are %(gap)s m apart (limit %(limit)s m)."),
                explanation=_("EXIF %(lat)s, %(lng)s vs phone %(dlat)s, %(dlng)s: %(gap)s m > "
                              "policy control.photo.device_gap_m = %(limit)s m."),
                inputs={"photo": photo.document_id, "gap_m": round(gap)},
                policies={"control.photo.device_gap_m": str(device_gap)},
                photo=name, gap=metres(gap), limit=metres(float(device_gap)),
                lat=photo.taken_lat, lng=photo.taken_lng, dlat=photo.device_lat,
                dlng=photo.device_lng))
    return findings


def reuse_findings(*, photos: Iterable[PhotoEvidence], reuse: Iterable[PhotoReuse],
                   references: dict[int, str], policy) -> list[Finding]:
    """The same picture (perceptual hash) in another application (R3, §3.4), or twice in this
    file. `references` maps application ids to their reference numbers, for the message."""
    max_distance = int(need(policy, "control.photo.phash_max_distance"))
    findings = []
    for match in sorted(reuse, key=lambda r: (r.document_id, r.other_document_id)):
        other = references.get(match.other_application_id, f"#{match.other_application_id}")
        findings.append(control_finding(
            code="PHOTO_REUSED", severity=severity(policy, "control.photo.reuse.severity"),
            message=_("Photo #%(photo)s is the same picture as photo #%(other)s of application "
                      "%(application)s."),
            explanation=_("Perceptual hashes of #%(photo)s and #%(other)s differ by %(distance)s "
                          "bits ≤ policy control.photo.phash_max_distance = %(limit)s."),
            inputs={"photo": match.document_id, "other_photo": match.other_document_id,
                    "other_application": match.other_application_id,
                    "distance": match.distance},
            policies={"control.photo.phash_max_distance": max_distance},
            photo=match.document_id, other=match.other_document_id, application=other,
            distance=match.distance, limit=max_distance))
    hashed = sorted((p for p in photos if p.phash), key=lambda p: p.document_id)
    for index, first in enumerate(hashed):
        for second in hashed[index + 1:]:
            distance = hamming(first.phash, second.phash)
            if distance <= max_distance:
                findings.append(control_finding(
                    code="PHOTO_DUPLICATED",
                    severity=severity(policy, "control.photo.duplicate.severity"),
                    message=_("Photos #%(photo)s and #%(other)s of this file are the same "
                              "picture."),
                    explanation=_("Perceptual hashes differ by %(distance)s bits ≤ policy "
                                  "control.photo.phash_max_distance = %(limit)s."),
                    inputs={"photo": first.document_id, "other_photo": second.document_id,
                            "distance": distance},
                    policies={"control.photo.phash_max_distance": max_distance},
                    photo=first.document_id, other=second.document_id, distance=distance,
                    limit=max_distance))
    return findings

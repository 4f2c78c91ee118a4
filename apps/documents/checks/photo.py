"""Site-visit photo check (domain reference §3.3 C1, §3.4): capture time and GPS from the
photo's EXIF against the upload time, the phone's reported position and the operating address;
and the perceptual hash for reuse detection (the search across applications is in the service,
which owns the database).
"""

import datetime as dt
import math

from django.utils import timezone

from apps.documents.checks import CheckContext, CheckOutcome, flag, policy_or_flag
from apps.documents.checks.fingerprint import query_hashes, stored_hashes
from apps.documents.checks.phash import dhash, to_hex

VERSION = "photo-1"
EARTH_RADIUS_M = 6_371_000


def distance_m(a: tuple[float, float], b: tuple[float, float]) -> float:
    """Great-circle distance (haversine), metres."""
    lat1, lng1, lat2, lng2 = map(math.radians, (*a, *b))
    h = (math.sin((lat2 - lat1) / 2) ** 2
         + math.cos(lat1) * math.cos(lat2) * math.sin((lng2 - lng1) / 2) ** 2)
    return 2 * EARTH_RADIUS_M * math.asin(math.sqrt(h))


def parse_exif_time(text: str | None, tz) -> dt.datetime | None:
    """EXIF "YYYY:MM:DD HH:MM:SS" has no zone: it is the phone's local time, taken here as the
    bank's zone (the photos are taken at the branch's customers)."""
    if not text:
        return None
    for fmt in ("%Y:%m:%d %H:%M:%S", "%Y-%m-%d %H:%M:%S", "%Y:%m:%d %H:%M"):
        try:
            return timezone.make_aware(dt.datetime.strptime(text.strip(), fmt), tz)
        except ValueError:
            continue
    return None


def device_position(metadata: dict) -> tuple[float, float] | None:
    device = metadata.get("device") or {}
    if device.get("lat") is None or device.get("lng") is None:
        return None
    return float(device["lat"]), float(device["lng"])


def check_photo(ctx: CheckContext) -> CheckOutcome:
    flags: list[dict] = []
    exif = ctx.metadata.get("exif") or {}
    taken_at = parse_exif_time(exif.get("taken_at"), timezone.get_current_timezone())
    findings: dict = {"taken_at": taken_at.isoformat() if taken_at else None}

    max_hours = policy_or_flag(ctx, "documents.photo.max_age_hours", flags)
    if taken_at is None:
        flags.append(flag("photo_no_capture_time"))
    elif max_hours is not None:
        age_h = (ctx.uploaded_at - taken_at).total_seconds() / 3600
        findings["age_hours"] = round(age_h, 2)
        if age_h > float(max_hours) or age_h < -1:  # a photo "from the future" is edited
            flags.append(flag("photo_time_mismatch", hours=round(age_h, 1),
                              limit=max_hours))

    gps = exif.get("gps")
    taken = (float(gps["lat"]), float(gps["lon"])) if gps else None
    findings["taken_position"] = list(taken) if taken else None
    device = device_position(ctx.metadata)
    findings["device_position"] = list(device) if device else None
    if taken is None:
        flags.append(flag("photo_no_gps"))
    if taken and device:
        max_device = policy_or_flag(ctx, "documents.photo.max_device_distance_m", flags)
        gap = distance_m(taken, device)
        findings["device_distance_m"] = round(gap)
        if max_device is not None and gap > float(max_device):
            flags.append(flag("photo_far_from_device", metres=round(gap), limit=max_device))
    position = taken or device
    if position and ctx.site:
        geofence = policy_or_flag(ctx, "documents.photo.geofence_m", flags)
        gap = distance_m(position, ctx.site)
        findings["site_distance_m"] = round(gap)
        if geofence is not None and gap > float(geofence):
            flags.append(flag("photo_outside_geofence", metres=round(gap), limit=geofence))
    elif position and not ctx.site:
        flags.append(flag("site_position_unknown"))

    findings["phash"] = to_hex(dhash(ctx.path))
    # Edit-resistant fingerprint (issue 19); record_and_compare stores it and takes it out of
    # the check's findings.
    findings["fingerprint"] = {
        "stored": {k: to_hex(v) for k, v in stored_hashes(ctx.path).items()},
        "query": {k: to_hex(v) for k, v in query_hashes(ctx.path).items()}}
    return CheckOutcome.of(findings, flags)

"""Shared test helpers for the controls: a policy resolver over the seeded defaults, photos,
and a fake evidence source standing in for the documents app."""

import datetime as dt
from dataclasses import replace
from decimal import Decimal

from apps.investigations.controls.policies import CONTROL_POLICIES
from apps.investigations.evidence import PhotoEvidence, PhotoReuse

SITE = (Decimal("31.230400"), Decimal("121.473700"))


def policy(**overrides):
    """The shipped defaults as a resolver, with `control_x_y=` overrides for `control.x.y`."""
    values = {key: Decimal(value) for key, value, *_ in CONTROL_POLICIES}
    values.update({key.replace("__", "."): Decimal(str(v)) for key, v in overrides.items()})
    return values.get


def photo(document_id=1, *, application_id=1, taken_at=None, lat=SITE[0], lng=SITE[1],
          device=SITE, phash="ffff0000ffff0000", checked=True, **changes) -> PhotoEvidence:
    now = dt.datetime(2026, 11, 28, 10, 0, tzinfo=dt.UTC)
    base = PhotoEvidence(document_id=document_id, application_id=application_id,
                         uploaded_at=now, uploaded_by_id=1, taken_at=taken_at or now,
                         taken_lat=lat, taken_lng=lng,
                         device_lat=device[0] if device else None,
                         device_lng=device[1] if device else None, phash=phash,
                         checked=checked)
    return replace(base, **changes)


class FakeSource:
    """An EvidenceSource with canned answers per application id."""

    def __init__(self):
        self.photo_rows: dict[int, list[PhotoEvidence]] = {}
        self.reuse_rows: dict[int, list[PhotoReuse]] = {}
        self.figure_rows: dict[int, dict] = {}
        self.reuse_calls: list[int] = []
        self.edited_rows: dict[int, list[PhotoReuse]] = {}

    def photos(self, application_id):
        return list(self.photo_rows.get(application_id, []))

    def photo_reuse(self, application_id, *, max_distance):
        self.reuse_calls.append(max_distance)
        return [r for r in self.reuse_rows.get(application_id, []) if r.distance <= max_distance]

    def edited_photo_reuse(self, application_id, *, candidate_distance, max_distance, min_pairs,
                           document_ids=None,
                           same_application=False):
        return [r for r in self.edited_rows.get(application_id, [])
                if r.distance <= max_distance
                and (document_ids is None or r.document_id in set(document_ids))
                and (same_application or r.other_application_id != application_id)]

    def figures(self, application_id):
        return dict(self.figure_rows.get(application_id, {}))

"""Issue 19, post-loan: a post-loan inspection's cited photos are looked up as edited copies of
any photo of any file and stage, this loan's own pre-loan visit included."""

from types import SimpleNamespace

import pytest

from apps.investigations.evidence import PhotoReuse
from apps.investigations.tests.controls.helpers import policy
from apps.monitoring.inspection_services import _edited_reuse

pytestmark = pytest.mark.django_db


class Source:
    def __init__(self, matches):
        self.matches, self.calls = matches, []

    def edited_photo_reuse(self, application_id, **kwargs):
        self.calls.append((application_id, kwargs))
        return self.matches


def test_an_inspection_photo_edited_from_the_pre_loan_visit_is_found():
    inspection = SimpleNamespace(application_id=41)
    source = Source([PhotoReuse(document_id=902, other_document_id=310,
                                other_application_id=41, distance=9)])
    found = _edited_reuse(inspection, source, {"902", "903", "not-a-document"},
                          policy=policy())
    (application_id, kwargs), = source.calls
    assert application_id == 41
    assert sorted(kwargs["document_ids"]) == [902, 903]  # only the photos the inspection cites
    assert kwargs["same_application"] is True  # its own pre-loan photos count
    assert kwargs["min_pairs"] == 10 and kwargs["max_distance"] == 16
    assert [(f.code, f.severity) for f in found] == [("PHOTO_REUSED_EDITED", "R3")]
    assert found[0].message_en == ("Photo #902 is an edited copy of photo #310 taken at an "
                                   "earlier visit to this file (#41).")

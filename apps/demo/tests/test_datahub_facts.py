"""Issue #18: the data hub's tax bureau stand-in answers each demo firm as seeded (the grade on
record, its own sales), so a firm graded C is not answered A by the bureau either."""

import json
from decimal import Decimal

import pytest

from apps.datahub.demo import demo_taxpayer_facts
from apps.datahub.testservers.tax import TaxService

pytestmark = pytest.mark.django_db


def test_the_tax_bureau_answers_each_demo_firm_as_seeded(world, tmp_path):
    graded_c = world.enterprise(tax_credit_rating="C", annual_revenue=Decimal("6000000"))
    ungraded = world.enterprise(tax_credit_rating="", annual_revenue=Decimal("1200000"))
    path = tmp_path / "facts.json"
    path.write_text(json.dumps(demo_taxpayer_facts()), encoding="utf-8")
    bureau = TaxService()
    assert bureau.load_taxpayers(str(path)) >= 2

    def profile(uscc):
        status, body = bureau.answer("GET", f"/v1/taxpayers/{uscc}/profile", {}, None)
        assert status == 200
        return body["taxpayer"]

    answered = profile(graded_c.uscc)
    assert answered["credit_rating"] == "C"
    assert sum(Decimal(m["sales"]) for m in answered["months"]) == pytest.approx(
        Decimal("6000000"), abs=1)
    assert all(Decimal(m["tax_paid"]) == (Decimal(m["sales"]) * Decimal("0.03")).quantize(
        Decimal("0.01")) for m in answered["months"])
    assert profile(ungraded.uscc)["credit_rating"] == "M"  # a new taxpayer, as the visit says
    assert profile("91310000MA1K4X2Y3Z")["credit_rating"] == "A"  # unknown: the test default

"""The data hub's request page (/datahub/enterprises/<id>/request/) on a 360 px phone, in English
and 简体中文: the form, the consents on file and a refused request (no consent for the source)
all fit without sideways scrolling, for an enterprise with a long name and a person around it."""

import pytest

from tests.e2e.layout import assert_fits, phone_signed_in

LONG_NAME = "浙江省杭州市余杭区未来科技城精密机械制造股份有限公司第一分公司（测试）"


def _enterprise_with_consent():
    from django.contrib.auth import get_user_model

    from apps.datahub.tests.conftest import consent_for
    from apps.org.models import Branch
    from apps.parties.models import Relationship
    from apps.parties.tests.factories import EnterpriseFactory, PersonFactory

    firm = EnterpriseFactory(branch=Branch.objects.get(code="north"), name=LONG_NAME)
    guarantor = PersonFactory(name="欧阳明远")
    Relationship.objects.create(kind="guarantor", from_person=guarantor, to_enterprise=firm)
    manager = get_user_model().objects.get(username="am.north")
    consent_for(firm, manager, sources=("registry", "court"), purpose="pre_loan")
    return firm


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_request_page_fits_a_phone(demo_site, browser, page_errors, language):
    firm = _enterprise_with_consent()
    with phone_signed_in(browser, demo_site, "am.north", language, page_errors) as page:
        page.goto(f"{demo_site}/datahub/enterprises/{firm.pk}/request/")
        assert page.locator("html").get_attribute("lang") == language
        page.locator("#consents-title").wait_for()
        consent = page.locator("section.card li").first.text_content()
        assert ("Business registry" if language == "en" else "工商登记") in consent
        assert page.locator("#id_person option").count() == 2  # the firm, its guarantor
        assert_fits(page, 360)
        # Tax has no consent: the refusal is shown on the form, which still fits.
        page.locator("#id_source").select_option("tax")
        page.locator("form.card button[type=submit]").click()
        page.locator("#refusal").wait_for()
        assert_fits(page, 360)
    # The refused request answers 409 (the form with its refusal): that one is expected.
    assert [e for e in page_errors if "409" not in e] == []

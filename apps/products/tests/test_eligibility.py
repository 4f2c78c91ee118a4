import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from apps.accounts.roles import Role
from apps.audit.models import AuditEvent
from apps.core.exceptions import TransitionConflict
from apps.parties.models import Relationship, RelationshipKind
from apps.parties.tests.factories import (
    EnterpriseFactory,
    PersonFactory,
    make_resident_id,
    make_user,
)
from apps.products.models import CreditProduct, ProductVersion
from apps.products.seed import SEED_PRODUCTS, seed_products
from apps.products.selectors import eligibility_for_enterprise, product_versions_in_force
from apps.products.services import (
    entry_condition_add,
    product_create,
    product_version_draft,
    product_version_publish,
)
from apps.products.states import ProductVersionState

pytestmark = pytest.mark.django_db
ON = dt.date(2026, 6, 1)


def _good_micro_firm(**overrides):
    fields = {"registration_date": dt.date(2020, 1, 1), "tax_credit_rating": "A",
              "size_class": "micro", "annual_revenue": Decimal("2500000"), "employees": 8,
              "industry": "C"}
    fields.update(overrides)
    enterprise = EnterpriseFactory(**fields)
    controller = PersonFactory(resident_id=make_resident_id(born="19800101"))
    Relationship.objects.create(kind=RelationshipKind.ACTUAL_CONTROLLER, from_person=controller,
                                to_enterprise=enterprise)
    return enterprise


def _result(enterprise, code):
    return next(r for r in eligibility_for_enterprise(enterprise=enterprise, on=ON)
                if r.version.product.code == code)


def test_seed_products_are_published_and_idempotent():
    assert seed_products() == len(SEED_PRODUCTS)
    assert seed_products() == 0
    assert product_versions_in_force(on=ON).count() == len(SEED_PRODUCTS)


def test_good_firm_qualifies_for_the_tax_credit_loan():
    seed_products()
    result = _result(_good_micro_firm(), "tax-credit-loan")
    assert result.eligible, [f.code for f in result.failures]


def test_each_failed_condition_is_listed_with_its_reason_and_numbers():
    seed_products()
    young = _good_micro_firm(registration_date=dt.date(2025, 6, 1), tax_credit_rating="C")
    result = _result(young, "tax-credit-loan")
    failed = {f.code: f for f in result.failures}
    assert set(failed) == {"years-in-operation", "tax-rating"}
    assert failed["years-in-operation"].actual == "1.00"
    assert failed["years-in-operation"].reason_zh == "持续经营满2年"
    assert failed["tax-rating"].expected == ["A", "B", "M"]


def test_missing_data_fails_conditions_instead_of_passing_them():
    seed_products()
    unknown = EnterpriseFactory(registration_date=None)  # no controller, no figures
    result = _result(unknown, "tax-credit-loan")
    assert not result.eligible
    assert {f.code for f in result.failures if f.missing} >= {"years-in-operation",
                                                              "controller-age", "revenue-band"}


def test_eligible_products_come_first():
    seed_products()
    results = eligibility_for_enterprise(enterprise=_good_micro_firm(), on=ON)
    flags = [r.eligible for r in results]
    assert flags == sorted(flags, reverse=True)


def test_record_is_json_safe_and_names_the_version():
    seed_products()
    record = _result(_good_micro_firm(), "tax-credit-loan").as_record()
    assert record["product"] == "tax-credit-loan" and record["version"] == 1
    assert record["eligible"] is True
    import json
    json.dumps(record)


def _draft(product, actor=None):
    return product_version_draft(
        product=product, actor=actor, amount_min=Decimal("1"), amount_max=Decimal("10"),
        term_min_months=1, term_max_months=12, rate_min=Decimal("3"), rate_max=Decimal("5"),
        repayment_methods=["equal_instalment"], collateral_types=["none"])


def test_publishing_a_new_version_retires_the_old_one_on_that_day():
    seed_products()
    product = CreditProduct.objects.get(code="tax-credit-loan")
    v2 = _draft(product)
    entry_condition_add(version=v2, code="years", fact="years_in_operation", operator="gte",
                        value="1", reason_en="1 year", reason_zh="满1年")
    product_version_publish(version_id=v2.pk, effective_from=dt.date(2026, 7, 1))
    v1 = ProductVersion.objects.get(product=product, version=1)
    assert v1.state == ProductVersionState.RETIRED and v1.effective_to == dt.date(2026, 7, 1)
    assert product_versions_in_force(on=ON).get(product=product).version == 1
    assert product_versions_in_force(on=dt.date(2026, 7, 1)).get(product=product).version == 2
    assert AuditEvent.objects.filter(action="product_version.retired").count() == 1


def test_published_version_is_frozen():
    seed_products()
    v1 = ProductVersion.objects.get(product__code="tax-credit-loan")
    with pytest.raises(TransitionConflict):
        entry_condition_add(version=v1, code="new", fact="employees", operator="gte",
                            value="1", reason_en="r", reason_zh="r")


def test_version_without_conditions_cannot_be_published():
    product = product_create(code="p", name_en="P", name_zh="P")
    with pytest.raises(ValidationError):
        product_version_publish(version_id=_draft(product).pk, effective_from=ON)


def test_bad_terms_are_refused_by_field():
    product = product_create(code="p", name_en="P", name_zh="P")
    with pytest.raises(ValidationError) as caught:
        product_version_draft(product=product, amount_min=Decimal("10"), amount_max=Decimal("1"),
                              term_min_months=1, term_max_months=12, rate_min=Decimal("3"),
                              rate_max=Decimal("5"), repayment_methods=["barter"],
                              collateral_types=["none"])
    assert set(caught.value.message_dict) == {"amount_max", "repayment_methods"}
    assert not ProductVersion.objects.exists()


def test_four_eyes_the_drafter_cannot_publish():
    maker = make_user("maker", roles=[Role.ADMIN])
    checker = make_user("checker", roles=[Role.ADMIN])
    product = product_create(code="p", name_en="P", name_zh="P", actor=maker)
    version = _draft(product, actor=maker)
    entry_condition_add(version=version, code="y", fact="years_in_operation", operator="gte",
                        value="1", reason_en="r", reason_zh="r", actor=maker)
    # People put a version in force today or later (back-dating is refused, issue #17).
    today = timezone.localdate()
    with pytest.raises(PermissionDenied):
        product_version_publish(version_id=version.pk, effective_from=today, actor=maker)
    published = product_version_publish(version_id=version.pk, effective_from=today,
                                        actor=checker)
    assert published.published_by == checker


def test_staff_without_the_permission_cannot_change_products():
    officer = make_user("am", roles=[Role.ACCOUNT_MANAGER])
    with pytest.raises(PermissionDenied):
        product_create(code="p", name_en="P", name_zh="P", actor=officer)

import datetime as dt

from django.db.models import QuerySet

from apps.parties.models import Enterprise
from apps.policy.versioning import version_in_force
from apps.products.eligibility import Eligibility, compute_facts, evaluate
from apps.products.models import CreditProduct, ProductVersion


def product_list() -> QuerySet[CreditProduct]:
    """Products are bank-wide configuration: every signed-in member of staff may read them."""
    return CreditProduct.objects.prefetch_related("versions")


def product_versions_in_force(*, on: dt.date) -> QuerySet[ProductVersion]:
    """The published (or since retired) version of each product that was in force on `on`."""
    return (version_in_force(ProductVersion.objects.all(), on=on)
            .select_related("product").prefetch_related("conditions")
            .order_by("product__code"))


def product_version_in_force(*, product_id: int, on: dt.date) -> ProductVersion | None:
    return product_versions_in_force(on=on).filter(product_id=product_id).first()


def eligibility_for_enterprise(*, enterprise: Enterprise, on: dt.date) -> list[Eligibility]:
    """Every product in force, eligible ones first, each with its failed conditions."""
    versions = list(product_versions_in_force(on=on))
    codes = [c.fact for v in versions for c in v.conditions.all()]
    facts = compute_facts(enterprise, on, codes)
    results = [evaluate(version=v, enterprise=enterprise, on=on,
                        conditions=list(v.conditions.all()), facts=facts) for v in versions]
    return sorted(results, key=lambda r: (not r.eligible, r.version.product.code))

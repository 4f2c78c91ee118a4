"""A small world for application tests: the demo staff, the seed products, eligible firms."""

import datetime as dt
from decimal import Decimal

from django.utils import timezone

from apps.accounts.models import User
from apps.applications import services
from apps.applications.models import Application
from apps.demo.lifecycle import walk_to_state
from apps.demo.seed import seed_demo
from apps.org.models import Branch
from apps.parties.models import Relationship, RelationshipKind
from apps.parties.tests.factories import EnterpriseFactory, PersonFactory, make_resident_id
from apps.products.models import ProductVersion
from apps.products.seed import seed_products

TERMS = {"amount_requested": Decimal("500000"), "term_months": 12,
         "purpose": "Buy raw materials for the spring orders",
         "repayment_method": "equal_instalment", "collateral_type": "none"}


class World:
    def __init__(self):
        seed_demo()
        seed_products(effective_from=timezone.localdate() - dt.timedelta(days=30))
        self.north = Branch.objects.get(code="north")
        self.south = Branch.objects.get(code="south")
        self.version = ProductVersion.objects.get(product__code="tax-credit-loan", version=1)

    def user(self, username: str) -> User:
        return User.objects.get(username=username)

    def enterprise(self, branch=None, **overrides):
        fields = {"registration_date": dt.date(2019, 3, 1), "tax_credit_rating": "A",
                  "size_class": "micro", "annual_revenue": Decimal("3000000"),
                  "employees": 12, "industry": "C", "branch": branch or self.north}
        fields.update(overrides)
        enterprise = EnterpriseFactory(**fields)
        Relationship.objects.create(
            kind=RelationshipKind.ACTUAL_CONTROLLER, to_enterprise=enterprise,
            from_person=PersonFactory(resident_id=make_resident_id(born="19780515")))
        return enterprise

    def draft(self, *, enterprise=None, **terms) -> Application:
        return services.application_create(
            enterprise=enterprise or self.enterprise(), product_version=self.version,
            actor=self.user("am.north"), **{**TERMS, **terms})

    def in_state(self, state: str) -> Application:
        """Walk the lifecycle through the services up to `state`."""
        app = walk_to_state(self.draft(), state, branch_code="north")
        assert app.state == state, (app.state, state)
        return app

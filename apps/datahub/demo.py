"""The demo's data-pull consents: each demo enterprise's own, for every source and both
purposes, and the own consent of each guarantor and legal representative for the sources
that answer about persons, recorded by the branch's account manager, valid for a year. So the
demo's pulls (the request page, the scheduled refresh) are not refused for want of one.
Idempotent: an enterprise with any consent on file is left alone."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from apps.datahub.connectors import PERSON_SOURCES
from apps.datahub.models import Consent
from apps.datahub.services import consent_record
from apps.datahub.states import Purpose, Source
from apps.parties.models import Enterprise, Relationship, RelationshipKind

CONSENTED_PERSONS = (RelationshipKind.GUARANTOR, RelationshipKind.LEGAL_REPRESENTATIVE)


def seed_demo_consents(*, officer_prefix: str = "am") -> dict[str, int]:
    from apps.accounts.models import User

    today = timezone.localdate()
    until = today + dt.timedelta(days=365)
    officers = {u.branch_id: u for u in User.objects.filter(
        username__startswith=f"{officer_prefix}.", branch__isnull=False).order_by("username")}
    done = set(Consent.objects.values_list("enterprise_id", flat=True))
    created = 0
    for enterprise in Enterprise.objects.exclude(pk__in=done).order_by("pk"):
        officer = officers.get(enterprise.branch_id)
        if officer is None:
            continue
        persons = (Relationship.objects.filter(to_enterprise=enterprise,
                                               kind__in=CONSENTED_PERSONS,
                                               from_person__isnull=False)
                   .select_related("from_person").order_by("from_person_id"))
        for purpose in Purpose.values:
            consent_record(enterprise_id=enterprise.pk, signed_by=enterprise.name,
                           sources=list(Source.values), purpose=purpose, valid_from=today,
                           valid_until=until, document_reference=f"DEMO-AUTH-{enterprise.pk}",
                           actor=officer)
            created += 1
            for person in {r.from_person for r in persons}:
                consent_record(enterprise_id=enterprise.pk, signed_by=person.name,
                               sources=sorted(PERSON_SOURCES), purpose=purpose,
                               valid_from=today, valid_until=until,
                               document_reference=f"DEMO-AUTH-{enterprise.pk}-P{person.pk}",
                               actor=officer, person_id=person.pk)
                created += 1
    return {"data-pull consents": created}


def demo_taxpayer_facts() -> dict[str, dict]:
    """USCC → what the tax bureau's stand-in answers for each enterprise (issue #18: a firm
    graded C on record is not answered A by the bureau either): its grade on record (M, a new
    taxpayer's, when it has none, as the honest visit answers) and its monthly sales."""
    facts = {}
    for uscc, rating, revenue in Enterprise.objects.exclude(uscc="").order_by("pk").values_list(
            "uscc", "tax_credit_rating", "annual_revenue"):
        monthly = (revenue or 0) / 12
        facts[uscc] = {"credit_rating": rating or "M", "monthly_sales": f"{monthly:.2f}"}
    return facts

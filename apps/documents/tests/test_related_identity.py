"""Related parties in the statement flows matched by who they are, not how they are spelt
(issue 19): accounts on file, USCC, registered names and recorded aliases from the party
graph; names alone only as a fallback, marked as such, and never for a namesake whose account
is not the related party's."""

import datetime as dt
from decimal import Decimal

import pytest

from apps.core.names import PartyIdentity, RelatedParties
from apps.documents.checks.records import Transaction
from apps.documents.statements.flows import analyse_flows, round_trip_cycles
from apps.documents.statements.policies import statement_policy_values
from apps.documents.tests import statement_generator as gen
from apps.investigations.controls.flows import DeclaredDebt, flow_findings, lender_match

POLICY = statement_policy_values().get
START = dt.date(2026, 3, 2)
FIRM = PartyIdentity(key="enterprise:7", kind="enterprise", name="佛山市南海区宏图物流有限公司",
                     uscc="91440605MA4W1XYZ8K", aliases=("鸿途仓储",),
                     accounts=("6222 0000 1111 2222",))
CONTROLLER = PartyIdentity(key="person:3", kind="person", name="张伟",
                           accounts=("6217000099998888",))
CONTROLLER_NO_ACCOUNT = PartyIdentity(key="person:3", kind="person", name="张伟")


def _txn(day: int, amount: str, counterparty: str, account: str = "", description: str = "往来款"):
    return Transaction(START + dt.timedelta(days=day), Decimal(amount), counterparty,
                       description, "网银", account)


def _trading_year() -> list[Transaction]:
    """Ordinary customers and suppliers, none related."""
    txns = []
    for week in range(52):
        txns.append(_txn(week * 7, f"{31000 + week * 13}.00", f"客户{week % 9:02d}贸易有限公司",
                         description="货款"))
        txns.append(_txn(week * 7 + 2, f"-{12000 + week * 7}.00", f"供应商{week % 5}有限公司",
                         description="材料款"))
    return txns


def _round_trips(back_name: str, back_account: str = "") -> list[Transaction]:
    """Money sent to the related firm three times, returned in two parts 2-3 days later by a
    counterparty that also buys from the borrower every week (too busy to pass for a
    conduit: only a relation links the two ends)."""
    txns = [_txn(week * 7 + 4, f"{9000 + week * 31}.00", back_name, back_account, "货款")
            for week in range(40)]
    for k, amount in enumerate((300000, 420000, 510000)):
        day = 40 + k * 90
        txns.append(_txn(day, f"-{amount}.00", FIRM.name, "6222000011112222", "运费"))
        txns.append(_txn(day + 2, f"{amount * 0.6:.2f}", back_name, back_account, "货款"))
        txns.append(_txn(day + 3, f"{amount * 0.4:.2f}", back_name, back_account))
    return txns


def _cycles(txns, related):
    return round_trip_cycles(sorted(txns, key=lambda t: t.date), lag_days=7,
                             tolerance=Decimal("0.02"), max_parts=3,
                             min_amount=Decimal("20000"), related=related)


def test_a_related_firm_under_an_alias_is_found_by_identity():
    txns = _trading_year() + _round_trips("鸿途仓储")  # the firm's trade name, no account shown
    by_identity = _cycles(txns, RelatedParties([FIRM, CONTROLLER]))
    assert len(by_identity) == 3
    assert {(c.route, c.related_by) for c in by_identity} == {("related", "identity")}
    assert {tuple(c.matched) for c in by_identity} == {("account", "alias")}
    # by the names alone the trade name shares nothing with the registered name: missed
    assert _cycles(txns, {FIRM.name, CONTROLLER.name}) == []


def test_the_controller_under_another_spelling_is_found_by_account():
    txns = _trading_year() + _round_trips("张 伟（个人）", "6217-0000-9999-8888")
    cycles = _cycles(txns, RelatedParties([FIRM, CONTROLLER]))
    assert len(cycles) == 3 and {c.related_by for c in cycles} == {"identity"}
    assert {c.matched[1] for c in cycles} == {"account"}


def test_a_namesake_on_another_account_is_not_the_related_controller():
    """张伟 is the controller's name and a common one: a 张伟 paying from an account that is
    not the controller's is not claimed as related (by identity or otherwise)."""
    txns = _trading_year() + _round_trips("张伟", "6230111122223333")
    assert _cycles(txns, RelatedParties([FIRM, CONTROLLER])) == []
    # No account on file for the controller: the name is all there is — a fallback, marked.
    cycles = _cycles(txns, RelatedParties([FIRM, CONTROLLER_NO_ACCOUNT]))
    assert len(cycles) == 3
    assert {c.related_by for c in cycles} == {"text"}
    assert {c.matched for c in cycles} == {("account", "text")}
    assert {c.as_json()["related_by"] for c in cycles} == {"text"}


def test_a_namesake_enterprise_registered_elsewhere_is_related_by_text_only():
    """华达贸易有限公司 is not 佛山市南海区宏图物流有限公司's registration, but a person name
    match and an enterprise name core are fallbacks: marked text, never identity."""
    txns = _trading_year() + _round_trips("宏图物流有限公司")  # same core, another registration
    cycles = _cycles(txns, RelatedParties([FIRM]))
    assert cycles and {c.related_by for c in cycles} == {"text"}


def test_the_finding_marks_round_trips_related_by_name_only():
    flags: list[dict] = []
    txns = sorted(_trading_year() + _round_trips("张伟"), key=lambda t: t.date)
    analyse_flows(txns, POLICY, flags, related=RelatedParties([FIRM, CONTROLLER_NO_ACCOUNT]))
    found = next(f for f in flags if f["code"] == "flow_round_trips")
    assert found["params"]["related_by_text"] == 3
    assert found["params"]["related_by_identity"] == 0

    class Source:
        def flow_findings(self, application_id):
            return [{"document_id": 9, **found}]

    finding = flow_findings(source=Source(), application_id=1, policy=POLICY)[0]
    assert "3 of the round trips relate their counterparties by name only" in (
        finding.explanation)

    flags = []
    txns = sorted(_trading_year() + _round_trips("鸿途仓储"), key=lambda t: t.date)
    analyse_flows(txns, POLICY, flags, related=RelatedParties([FIRM, CONTROLLER]))
    found = next(f for f in flags if f["code"] == "flow_round_trips")
    assert (found["params"]["related_by_identity"], found["params"]["related_by_text"]) == (3, 0)
    finding = flow_findings(source=Source(), application_id=1, policy=POLICY)[0]
    assert "by name only" not in finding.explanation


def test_a_declared_lender_matches_a_related_party_only_by_its_identity():
    """Monthly payments to the related firm under its trade name: a declared lender whose name
    merely resembles it does not explain them; its registered name or alias does."""
    flags: list[dict] = []
    txns = _trading_year() + [_txn(30 * k + 5, "-18000.00", "鸿途仓储", description="往来")
                              for k in range(8)]
    analyse_flows(sorted(txns, key=lambda t: t.date), POLICY, flags,
                  related=RelatedParties([FIRM]))
    series = next(f for f in flags if f["code"] == "flow_regular_payments"
                  and f["params"]["counterparty"] == "鸿途仓储")
    assert series["params"]["related_party"]["matched_by"] == "alias"
    params = series["params"]
    assert lender_match(DeclaredDebt("鸿途", None, "DEBTS"), params) == ""
    assert lender_match(DeclaredDebt("宏图物流", None, "DEBTS"), params) == ""
    assert lender_match(DeclaredDebt("鸿途仓储", None, "DEBTS"), params) == "identity"
    assert lender_match(DeclaredDebt(FIRM.name, None, "DEBTS"), params) == "identity"
    # an unrelated lender is matched by its name, as text
    plain = {"counterparty": "深圳市前海小额贷款有限公司"}
    assert lender_match(DeclaredDebt("前海小额贷款", None, "DEBTS"), plain) == "text"


@pytest.mark.django_db
def test_the_statement_check_uses_the_party_graphs_aliases_and_accounts(docs):
    from apps.audit.models import AuditEvent
    from apps.documents import checking
    from apps.documents.states import CheckKind
    from apps.documents.tests.helpers import sited_draft, upload
    from apps.parties.models import Person, Relationship, RelationshipKind
    from apps.parties.selectors import related_party_identities
    from apps.parties.services import party_alias_add
    from apps.parties.tests.factories import EnterpriseFactory

    application = sited_draft(docs)
    borrower = application.enterprise
    controller = Person.objects.get(relationships_out__to_enterprise=borrower,
                                    relationships_out__kind=RelationshipKind.ACTUAL_CONTROLLER)
    out_firm = EnterpriseFactory(name="南海宏图物流（集团）有限公司",  # registered differently
                                 branch=borrower.branch)
    back_firm = EnterpriseFactory(name=gen.GRAPH_BACK, branch=borrower.branch)
    for firm in (out_firm, back_firm):
        Relationship.objects.create(kind=RelationshipKind.RELATED_ENTERPRISE,
                                    from_enterprise=firm, to_enterprise=borrower)
    actor = docs.user("am.north")
    party_alias_add(actor=actor, kind="name", value=gen.GRAPH_OUT, enterprise=out_firm,
                    source="增值税发票抬头")
    # the account the controller's payments come from (the generator's account column)
    account = f"62{sum(map(ord, gen.CONTROLLER)) % 10**12:012d}"
    party_alias_add(actor=actor, kind="account", value=account, person=controller,
                    source="开户行查询")
    assert AuditEvent.objects.filter(action="party_alias.added").count() == 2
    identities = {p.key: p for p in related_party_identities(enterprise_id=borrower.pk)}
    assert identities[f"enterprise:{out_firm.pk}"].aliases == (gen.GRAPH_OUT,)
    assert identities[f"person:{controller.pk}"].accounts == (account,)

    layout = next(x for x in gen.layouts() if x.name == "zh-dc")  # has 对方账号
    generated = gen.statement(1601, fake="graph", rows=300, layout=layout)
    document = upload(docs, application, generated.data, type_code="bank_statement",
                      name="流水.csv")
    checking.document_check(document_id=document.pk)
    check = document.checks.get(kind=CheckKind.BANK_STATEMENT)
    flagged = [f for f in check.findings["flags"] if f["code"] == "flow_round_trips"]
    assert flagged, check.findings["flags"]
    related = [e for e in flagged[0]["params"]["examples"] if e["route"] == "related"]
    assert len(related) >= 2
    assert {e["related_by"] for e in related} == {"identity"}
    assert {e["matched_by"][0] for e in related} == {"alias"}
    assert check.findings["flows"]["round_trip_related_by"]["text"] == 0

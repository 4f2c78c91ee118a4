"""The seed authority matrix, committees and demo approvers (domain reference §6.1–§6.2).

Thresholds are data (§0.2), loaded through the services, with their source: the proposed
matrix of §6.1 [G] — a bank replaces it with its own written delegation (授权书).
Levels: 1 branch approver, 2 branch head, 3 head-office approver, 4 chief risk officer.
"""

from decimal import Decimal

from django.db import transaction

from apps.accounts.models import User
from apps.accounts.roles import Role
from apps.accounts.services import user_create
from apps.approvals.models import (
    AuthorityMatrix,
    Committee,
    CommitteeMember,
    CommitteeScope,
    PassRule,
)
from apps.approvals.services.matrix import (
    authority_matrix_draft,
    authority_matrix_publish,
    authority_rule_add,
)
from apps.approvals.states import MatrixState
from apps.core.policy import seeded_policy_effective_from
from apps.org.models import Branch
from apps.products.models import CreditProduct

SOURCE = ("Domain reference §6.1 'Proposed configurable matrix' [G], after Commercial Banking "
          "Law art. 35 (tiered approval); amounts are bank-internal design defaults")
COMMITTEE_SOURCE = ("Domain reference §6.2 [V m.jinchutou.com/shtml/view-478074694.html]: "
                    "one person one vote, named ballot, ≥ 2/3 of members approve")
GRADES = ["A", "B", "C", "D", "E", "ungraded"]


def _individual(level, label, label_zh, deadline=48, remind=24):
    return {"kind": "individual", "level": level, "label": label, "label_zh": label_zh,
            "deadline_hours": deadline, "remind_after_hours": remind}


def _committee(scope, label, label_zh, deadline=120, remind=72):
    return {"kind": "committee", "committee": scope, "label": label, "label_zh": label_zh,
            "deadline_hours": deadline, "remind_after_hours": remind}


BRANCH_APPROVER = _individual(1, "Branch approver", "支行有权审批人")
BRANCH_HEAD = _individual(2, "Branch head (senior approver)", "支行行长")
HO_APPROVER = _individual(3, "Head-office approver", "总行有权审批人")
CRO = _individual(4, "Chief risk officer (veto)", "首席风险官")
BRANCH_COMMITTEE = _committee("branch", "Branch credit committee", "支行贷审会")
HO_COMMITTEE = _committee("head_office", "Head-office credit committee", "总行贷审会")

M1, M3, M10 = Decimal("1000000"), Decimal("3000000"), Decimal("10000000")
BANDS = [(Decimal("0"), M1), (M1, M3), (M3, M10), (M10, None)]

# (grades, exception?) -> steps per band, in BANDS order (§6.1 table, columns left to right).
TABLE = [
    (["A", "B"], False, [[BRANCH_APPROVER], [BRANCH_HEAD], [BRANCH_COMMITTEE], [HO_COMMITTEE]]),
    (["C", "ungraded"], False, [[BRANCH_APPROVER], [BRANCH_COMMITTEE],
                                [BRANCH_COMMITTEE, HO_APPROVER], [HO_COMMITTEE]]),
    (["D", "E"], False, [[BRANCH_COMMITTEE], [BRANCH_COMMITTEE], [HO_APPROVER],
                         [HO_COMMITTEE, CRO]]),
    # "Exceptions to the policy table always go to the committee" (§6.1 overlay).
    (GRADES, True, [[BRANCH_COMMITTEE], [BRANCH_COMMITTEE], [BRANCH_COMMITTEE, HO_APPROVER],
                    [HO_COMMITTEE, CRO]]),
]

# Demo people the routes need besides the one-per-role staff of apps.demo.seed.
DEMO_PASSWORD = "credence-demo"  # noqa: S105  (the demo password of apps.demo.seed)


def seed_matrix() -> AuthorityMatrix:
    """Publish the seed matrix for every product, unless one is already published."""
    published = AuthorityMatrix.objects.filter(state=MatrixState.PUBLISHED).first()
    if published is not None:
        return published
    matrix = authority_matrix_draft(name="Seed authority matrix", grades=GRADES,
                                    source_citation=SOURCE)
    for product in CreditProduct.objects.order_by("code"):
        for grades, exception, routes in TABLE:
            for (above, up_to), steps in zip(BANDS, routes, strict=True):
                authority_rule_add(matrix_id=matrix.pk, product=product, amount_above=above,
                                   amount_up_to=up_to, grades=grades, policy_exception=exception,
                                   steps=steps, source_citation=SOURCE)
    return authority_matrix_publish(matrix_id=matrix.pk,
                                    effective_from=seeded_policy_effective_from())


def _person(username, branch, roles, level=None, first="", last=""):
    user = User.objects.filter(username=username).first()
    if user is None:
        user = user_create(username=username, password=DEMO_PASSWORD, branch=branch,
                           roles=roles, authority_level=level, first_name=first,
                           last_name=last, email=f"{username}@demo.credence")
    return user


def _committee_with(code, name, scope, branch, members) -> Committee:
    committee = Committee.objects.filter(code=code).first()
    if committee is None:
        committee = Committee.objects.create(code=code, name=name, scope=scope, branch=branch,
                                             quorum=3, pass_rule=PassRule.TWO_THIRDS_ALL,
                                             source_citation=COMMITTEE_SOURCE)
    for number, user in enumerate(members):
        CommitteeMember.objects.get_or_create(committee=committee, user=user,
                                              defaults={"is_chair": number == 0})
    return committee


@transaction.atomic
def seed_approvals() -> dict[str, int]:
    """Matrix, committees and the approvers the seed routes need (idempotent)."""
    users_before = User.objects.count()
    committees_before = Committee.objects.count()
    seed_matrix()
    seed_approval_staff()
    return {"approval staff": User.objects.count() - users_before,
            "committees": Committee.objects.count() - committees_before}


def seed_approval_staff() -> None:
    """Head-office and senior approvers, and a committee per branch and at head office."""
    hq = Branch.objects.get(code="hq")
    _person("approver.hq", hq, [Role.APPROVER], 3, "Head-office approver", "HQ")
    _person("cro.hq", hq, [Role.APPROVER], 4, "Chief risk officer", "HQ")
    hq_members = [_person(f"committee{n}.hq", hq, [Role.COMMITTEE_MEMBER], None,
                          f"Committee member {n}", "HQ") for n in range(1, 5)]
    _committee_with("hq-credit-committee", "Head-office credit committee",
                    CommitteeScope.HEAD_OFFICE, hq, hq_members)
    for branch in Branch.objects.filter(parent=hq):
        _person(f"head.{branch.code}", branch, [Role.APPROVER], 2, "Branch head",
                branch.code.title())
        members = [User.objects.filter(username=f"committee.{branch.code}").first()]
        members = [m for m in members if m is not None]
        members += [_person(f"committee{n}.{branch.code}", branch, [Role.COMMITTEE_MEMBER],
                            None, f"Committee member {n}", branch.code.title())
                    for n in range(2, 5)]
        _committee_with(f"{branch.code}-credit-committee",
                        f"{branch.name} credit committee", CommitteeScope.BRANCH, branch,
                        members)

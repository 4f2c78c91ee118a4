"""Demo organisation and people: two branches under a head office, one user per role in each.

Idempotent: what exists is left as it is, so `make run` can call it on every start. Later
issues add their demo data (enterprises, products, applications) here, through services.
"""

from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _

from apps.accounts.models import User
from apps.accounts.roles import Role
from apps.accounts.services import user_create
from apps.core.policy import seeded_policy_effective_from
from apps.org.models import Branch
from apps.org.services import branch_create

# Printed by `make run`; demo machines only. Long enough for the password validators.
DEMO_PASSWORD = "credence-demo"  # noqa: S105

DEMO_BRANCHES = [
    # (code, name, parent code)
    ("hq", "Head Office 总行", None),
    ("north", "North Branch 城北支行", "hq"),
    ("south", "South Branch 城南支行", "hq"),
]

# Username prefix per role; the branch code follows: "am.north", "approver.south".
DEMO_ROLE_PREFIX = {
    Role.ACCOUNT_MANAGER: "am",
    Role.TEAM_LEAD: "lead",
    Role.RISK_REVIEWER: "reviewer",
    Role.APPROVER: "approver",
    Role.COMMITTEE_MEMBER: "committee",
    Role.POST_LOAN_OFFICER: "postloan",
    Role.LOAN_OPERATIONS: "ops",
    Role.EXEMPTION_COMMITTEE: "exempt",
    Role.AUDITOR: "auditor",
    Role.POLICY_OFFICER: "policy",
    Role.ADMIN: "admin",
}

DEMO_STAFF_BRANCHES = ("north", "south")


def demo_accounts() -> list[tuple[str, str, str]]:
    """(username, role label, branch code) of every demo user, for `make run` to print."""
    accounts = []
    for branch in DEMO_STAFF_BRANCHES:
        accounts += [(f"{prefix}.{branch}", str(Role(role).label), branch)
                     for role, prefix in DEMO_ROLE_PREFIX.items()]
        accounts.append((f"assistant.{branch}", str(_("Account manager (second officer)")),
                         branch))
        accounts.append((f"ops2.{branch}", str(_("Loan operations officer (second officer)")),
                         branch))
    # The approval staff the approvals seed adds (heads, head office, committee seats): read
    # from the database, so the list never drifts from what that seed creates.
    listed = {username for username, _role, _branch in accounts}
    extra = (User.objects.filter(email__endswith="@demo.credence")
             .exclude(username__in=listed).select_related("branch")
             .prefetch_related("groups").order_by("branch__code", "username"))
    for user in extra:
        labels = [str(Role(code).label) for code in sorted(user.roles)]
        if user.authority_level:
            labels.append(str(_("level %(n)d") % {"n": user.authority_level}))
        accounts.append((user.username, ", ".join(labels), getattr(user.branch, "code", "")))
    return accounts


@transaction.atomic
def seed_demo(*, with_business_data: bool = False) -> dict[str, int]:
    """Branches and staff; with `with_business_data`, also products, enterprises and
    applications in every state (what `make run` loads)."""
    # Names are built from role labels: English whatever language the caller has active.
    with translation.override("en"):
        created = _seed_people()
    if with_business_data:
        created.update(_seed_business())
    return created


def _seed_people() -> dict[str, int]:
    created = {"branches": 0, "users": 0}
    branches: dict[str, Branch] = {}
    for code, name, parent_code in DEMO_BRANCHES:
        branch = Branch.objects.filter(code=code).first()
        if branch is None:
            branch = branch_create(code=code, name=name, parent=branches.get(parent_code))
            created["branches"] += 1
        branches[code] = branch

    for branch_code in DEMO_STAFF_BRANCHES:
        for role, prefix in DEMO_ROLE_PREFIX.items():
            username = f"{prefix}.{branch_code}"
            if User.objects.filter(username=username).exists():
                continue
            user_create(
                username=username, password=DEMO_PASSWORD, branch=branches[branch_code],
                roles=[role], first_name=str(Role(role).label), last_name=branch_code.title(),
                authority_level=1 if role == Role.APPROVER else None,
                is_staff=(role == Role.ADMIN),
            )
            created["users"] += 1
        # A second account manager: investigations need two distinct officers (双人调查).
        username = f"assistant.{branch_code}"
        if not User.objects.filter(username=username).exists():
            user_create(username=username, password=DEMO_PASSWORD, branch=branches[branch_code],
                        roles=[Role.ACCOUNT_MANAGER],
                        first_name=f"{Role(Role.ACCOUNT_MANAGER).label} 2",
                        last_name=branch_code.title())
            # Counted apart from the one-per-role staff, and only when created.
            created["second account managers"] = created.get("second account managers", 0) + 1
        # A second loan operations officer: drawdowns are four-eyes (独立放款, maker ≠ checker).
        username = f"ops2.{branch_code}"
        if not User.objects.filter(username=username).exists():
            user_create(username=username, password=DEMO_PASSWORD, branch=branches[branch_code],
                        roles=[Role.LOAN_OPERATIONS],
                        first_name=f"{Role(Role.LOAN_OPERATIONS).label} 2",
                        last_name=branch_code.title())
            created["second operations officers"] = created.get(
                "second operations officers", 0) + 1
    return created


def _seed_business() -> dict[str, int]:
    from apps.applications.models import Application
    from apps.demo.applications import seed_demo_applications
    from apps.investigations.models import ChecklistTemplate
    from apps.investigations.seed import seed_builtin_templates
    from apps.parties.demo import seed_demo_enterprises
    from apps.products.seed import seed_products

    today = timezone.localdate()
    products = seed_products(effective_from=seeded_policy_effective_from(today))
    branches = Branch.objects.filter(code__in=DEMO_STAFF_BRANCHES)
    parties = seed_demo_enterprises(branches)
    # Data-pull consents: the demo's external-data requests and refreshes are not refused.
    from apps.datahub.demo import seed_demo_consents

    consents = seed_demo_consents()
    # Document requirements, column profiles and check thresholds: the walk collects files.
    from apps.documents.seed import seed_documents

    document_counts = seed_documents(with_requirements=True)
    # Templates first: walking an application past investigating needs a published one.
    templates_before = ChecklistTemplate.objects.count()
    seed_builtin_templates()
    templates = ChecklistTemplate.objects.count() - templates_before
    # The authority matrix, committees and approvers: applications in approval need them.
    from apps.approvals.seed import seed_approvals

    approvals = seed_approvals()
    # Post-loan policy: classification floors, signal rules, level → actions (idempotent).
    from apps.monitoring.seed import seed_monitoring

    monitoring = seed_monitoring()
    # Post-loan inspection templates: loans booked below get their checks scheduled.
    from apps.monitoring.inspection_seed import seed_inspection_templates

    seed_inspection_templates()
    applications = 0 if Application.objects.exists() else seed_demo_applications()
    # After the lifecycle demo: contract and disburse the approved files (loans app).
    from apps.loans.demo import seed_demo_loans

    loans = seed_demo_loans(today=today)
    if loans.get("loans"):
        loans.update(_monitoring_run(today))
    # One object of every other kind a page shows (models, sessions, covenants, cases, ...).
    from apps.demo.extras import seed_demo_extras

    extras = seed_demo_extras(today=today)
    return {"products": products, **parties, **consents, "applications": applications,
            "checklist templates": templates, **document_counts, **approvals, **monitoring,
            **loans, **extras}


def _monitoring_run(today) -> dict[str, int]:
    """The post-loan classification and signal run as of today over the new book, its chunks
    run here (the tasks it also enqueues find them done), on PostgreSQL and the embedded
    SQLite alike (`apps.monitoring.dialect`)."""
    from apps.monitoring.services.run import classification_chunk_run, classification_run_start

    run = classification_run_start(as_of=today)
    opened = 0
    for chunk_id in run.chunks.order_by("pk").values_list("pk", flat=True):
        opened += classification_chunk_run(chunk_id=chunk_id).get("signals_opened", 0)
    return {"signals": opened}

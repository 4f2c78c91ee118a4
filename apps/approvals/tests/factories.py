"""Approvals test helpers on top of the applications World: files in review, routes, people."""

import datetime as dt
from decimal import Decimal

from django.utils import timezone

from apps.accounts.models import User
from apps.accounts.roles import Role
from apps.accounts.services import user_create
from apps.applications.states import ApplicationState as S
from apps.approvals.seed import BRANCH_APPROVER as BRANCH_APPROVER_STEP
from apps.approvals.services import review_send_to_approval
from apps.demo.seed import DEMO_PASSWORD

PASSWORD = DEMO_PASSWORD


def approvals_ready(steps=None):
    """Staff and committees, and a matrix: the seed one (steps=None) or one sending every
    file along `steps` (fast: 8 rows)."""
    from apps.approvals.seed import seed_approval_staff, seed_matrix

    seed_approval_staff()
    if steps is None:
        seed_matrix()
    else:
        publish_matrix(list(steps))


def under_review(world, *, walk=False, **terms):
    """A file under review. `walk=True` takes the real road (two investigators, both
    conflicted); the default builds the row directly, which is 20x faster and enough
    wherever the investigators do not matter."""
    if walk:
        from apps.demo.lifecycle import walk_to_state

        return walk_to_state(world.draft(**terms), S.UNDER_REVIEW, branch_code="north")
    from apps.applications.models import Application
    from apps.applications.tests.factories import TERMS

    fields = {**TERMS, **terms}
    am = world.user("am.north")
    enterprise = world.enterprise()
    return Application.objects.create(
        reference=f"T{Application.objects.count() + 1:06d}", enterprise=enterprise,
        product_version=world.version, branch=enterprise.branch, account_manager=am,
        created_by=am, state=S.UNDER_REVIEW, **fields)


def in_approval(world, *, steps=(BRANCH_APPROVER_STEP,), walk=False, exceptions=(),
                proposed_amount=None, conditions=(), **terms):
    """A file sent on by reviewer.north; returns (application, route)."""
    approvals_ready(steps)
    application = under_review(world, walk=walk, **terms)
    opinion = review_send_to_approval(
        application_id=application.pk, actor=world.user("reviewer.north"),
        risks="Customer concentration.", proposed_amount=proposed_amount,
        conditions=list(conditions), exceptions=list(exceptions))
    application.refresh_from_db()
    return application, opinion.route


def approver(username, *, level, branch, roles=(Role.APPROVER,)):
    return user_create(username=username, password=PASSWORD, branch=branch, roles=list(roles),
                       authority_level=level)


def soon(hours=0, days=0):
    return timezone.now() + dt.timedelta(hours=hours, days=days)


M = Decimal("1000000")


def user(username) -> User:
    return User.objects.get(username=username)


def publish_matrix(steps, exception_steps=None, grades=("A", "B", "C", "D", "E", "ungraded")):
    """Replace the matrix in force by one sending every file along `steps`."""
    from apps.approvals.seed import BRANCH_COMMITTEE, seed_approval_staff
    from apps.approvals.services import (
        authority_matrix_draft,
        authority_matrix_publish,
        authority_rule_add,
    )
    from apps.products.models import CreditProduct

    seed_approval_staff()
    matrix = authority_matrix_draft(name="test", grades=list(grades))
    for product in CreditProduct.objects.all():
        for exception, route in ((False, steps), (True, exception_steps or [BRANCH_COMMITTEE])):
            authority_rule_add(matrix_id=matrix.pk, product=product, amount_above=0,
                               amount_up_to=None, grades=list(grades),
                               policy_exception=exception, steps=route)
    return authority_matrix_publish(matrix_id=matrix.pk, effective_from=timezone.localdate())


def give_role(user, role, level=None):
    from django.contrib.auth.models import Group

    user.groups.add(Group.objects.get_or_create(name=role)[0])
    if level is not None:
        user.authority_level = level
        user.save(update_fields=["authority_level"])
    return User.objects.get(pk=user.pk)  # fresh: roles are cached per instance

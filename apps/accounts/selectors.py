from django.db.models import QuerySet

from apps.accounts.models import User
from apps.org.selectors import branch_subtree_ids


def visible_branch_ids(*, viewer: User) -> set[int] | None:
    """Branches whose records the viewer may see; None means every branch.

    Auditors and admins span the bank; everyone else sees their own branch and the sub-branches
    below it; staff with no branch see none. Every domain selector starts from this.
    """
    if not viewer.is_authenticated:
        return set()
    if viewer.sees_all_branches:
        return None
    if viewer.branch_id is None:
        return set()
    primed = getattr(viewer, "_authz_subtree", None)  # read once per session (accounts.authz)
    if primed is not None and primed[0] == viewer.branch_id:
        return set(primed[1])
    return branch_subtree_ids(branch_id=viewer.branch_id)


def user_list(*, viewer: User) -> QuerySet[User]:
    """Staff the viewer may see, scoped by branch like every other list."""
    users = User.objects.select_related("branch").prefetch_related("groups").order_by("username")
    branch_ids = visible_branch_ids(viewer=viewer)
    return users if branch_ids is None else users.filter(branch_id__in=branch_ids)

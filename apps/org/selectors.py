from django.db.models import QuerySet

from apps.org.models import Branch


def branch_subtree_ids(*, branch_id: int) -> set[int]:
    """The branch and every sub-branch below it, however deep (one query per level).

    Org trees are shallow (head office → branch → sub-branch), so a level-by-level walk is
    cheaper than a recursive CTE that SQLite and PostgreSQL would have to agree on.
    """
    found, frontier = {branch_id}, {branch_id}
    while frontier:
        frontier = set(
            Branch.objects.filter(parent_id__in=frontier).values_list("id", flat=True)
        ) - found
        found |= frontier
    return found


def branch_list(*, branch_ids: set[int] | None = None) -> QuerySet[Branch]:
    """Branches, limited to `branch_ids` when given (None means all: auditors, admins)."""
    branches = Branch.objects.select_related("parent")
    return branches if branch_ids is None else branches.filter(id__in=branch_ids)

"""Customer pages: the search list and the enterprise page (the borrower's portrait).

Parties sits below products and applications (CONVENTIONS §1), yet the enterprise page must
show the borrower's applications and product eligibility, and later its checklist findings,
scores, documents and alerts. Those apps contribute *sections* through
`register_enterprise_section`, as they contribute guards to the application's transitions;
this module never imports them.
"""

from collections.abc import Callable
from dataclasses import dataclass

from django.contrib.auth.decorators import login_required, permission_required
from django.core.paginator import Paginator
from django.shortcuts import render

from apps.accounts.selectors import visible_branch_ids
from apps.parties.forms import EnterpriseSearchForm
from apps.parties.models import RelationshipKind
from apps.parties.selectors import (
    enterprise_get,
    enterprise_list,
    person_id_display,
    relationship_list,
)

PAGE_SIZE = 25

# Incoming edges ("<party> is <kind> of this enterprise"), in the order a credit officer reads
# a borrower: who controls it, who owns it, who signs for it, who stands behind the loan.
_INCOMING_ORDER = [
    RelationshipKind.ACTUAL_CONTROLLER,
    RelationshipKind.SHAREHOLDER,
    RelationshipKind.LEGAL_REPRESENTATIVE,
    RelationshipKind.GUARANTOR,
    RelationshipKind.RELATED_ENTERPRISE,
]


@dataclass(frozen=True)
class EnterpriseSection:
    """A block of the enterprise page supplied by an app above parties."""

    key: str
    template: str
    context: Callable  # (request, enterprise) -> dict, given to the template as `data`
    order: int = 100


_sections: dict[str, EnterpriseSection] = {}


def register_enterprise_section(*, key: str, template: str, context: Callable,
                                order: int = 100) -> None:
    """Add (or replace, by key: safe to call twice) a section of the enterprise page."""
    _sections[key] = EnterpriseSection(key=key, template=template, context=context, order=order)


def _page_number(request) -> str:
    return request.GET.get("page") or "1"


@login_required
@permission_required("parties.view_enterprise", raise_exception=True)
def enterprise_list_view(request):
    """Customers of the viewer's branches, searchable by name or credit code; htmx asks for
    the results only, so the search box keeps focus while the account manager types."""
    form = EnterpriseSearchForm(request.GET or None)
    search = form.cleaned_data["q"] if form.is_valid() else ""
    page = Paginator(enterprise_list(viewer=request.user, search=search),
                     PAGE_SIZE).get_page(_page_number(request))
    context = {"form": form, "page": page, "search": search}
    template = ("parties/partials/enterprise_results.html"
                if request.htmx and not request.htmx.boosted else "parties/enterprise_list.html")
    return render(request, template, context)


def _party(viewer, *, person, enterprise, visible: set[int] | None) -> dict:
    if person is not None:
        return {"name": person.name, "is_person": True,
                "id_display": person_id_display(viewer=viewer, person=person)}
    # Related firms may be managed elsewhere: name them, but link only to pages the viewer
    # may open (the others would answer 404).
    linkable = visible is None or enterprise.branch_id in visible
    return {"name": enterprise.name, "is_person": False, "uscc": enterprise.uscc,
            "enterprise_id": enterprise.pk if linkable else None}


def _relations(viewer, enterprise) -> tuple[list[dict], list[dict]]:
    """Edges around the enterprise: (groups of incoming edges by kind, outgoing edges)."""
    visible = visible_branch_ids(viewer=viewer)
    incoming: dict[str, list[dict]] = {kind: [] for kind in _INCOMING_ORDER}
    outgoing = []
    for edge in relationship_list(viewer=viewer, enterprise_id=enterprise.pk):
        if edge.to_enterprise_id == enterprise.pk:
            row = {"party": _party(viewer, person=edge.from_person,
                                   enterprise=edge.from_enterprise, visible=visible),
                   "stake": edge.stake_percent, "note": edge.note}
            incoming.setdefault(edge.kind, []).append(row)
        else:
            outgoing.append({"kind": edge.get_kind_display(), "stake": edge.stake_percent,
                             "note": edge.note,
                             "party": _party(viewer, person=edge.to_person,
                                             enterprise=edge.to_enterprise, visible=visible)})
    groups = [{"kind": kind, "label": RelationshipKind(kind).label, "rows": rows}
              for kind, rows in incoming.items()]
    return groups, outgoing


@login_required
@permission_required("parties.view_enterprise", raise_exception=True)
def enterprise_detail(request, enterprise_id: int):
    """Everything known about one borrower, on one page; 404 outside the viewer's branches."""
    enterprise = enterprise_get(viewer=request.user, enterprise_id=enterprise_id)
    relation_groups, outgoing = _relations(request.user, enterprise)
    sections = [{"key": section.key, "template": section.template,
                 "data": section.context(request, enterprise)}
                for section in sorted(_sections.values(), key=lambda s: (s.order, s.key))]
    return render(request, "parties/enterprise_detail.html", {
        "enterprise": enterprise,
        "relation_groups": relation_groups,
        "has_relations": any(group["rows"] for group in relation_groups) or bool(outgoing),
        "outgoing": outgoing,
        "sections": sections,
    })

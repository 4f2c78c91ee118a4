"""Customer pages: the search list and the enterprise page (the borrower's portrait).

Parties sits below products and applications (CONVENTIONS §1), yet the enterprise page must
show the borrower's applications and product eligibility, and later its checklist findings,
scores, documents and alerts. Those apps contribute *sections* through
`register_enterprise_section`, as they contribute guards to the application's transitions;
this module never imports them.
"""

from collections.abc import Callable
from dataclasses import dataclass

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db import transaction
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.formats import localize
from django.utils.translation import gettext as _

from apps.accounts.selectors import visible_branch_ids
from apps.core.signals import permission_refused
from apps.parties import services
from apps.parties.forms import (
    EnterpriseForm,
    EnterpriseSearchForm,
    PartyAliasForm,
    PersonRelationshipForm,
)
from apps.parties.models import AliasKind, Enterprise, RelationshipKind
from apps.parties.selectors import (
    alias_persons,
    enterprise_get,
    enterprise_list,
    party_alias_list,
    person_find,
    person_id_display,
    relationship_list,
)
from apps.parties.validators import normalise_resident_id

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
    context = {"form": form, "page": page, "search": search,
               "may_add": request.user.has_perm("parties.add_enterprise")}
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
        "may_change": request.user.has_perm("parties.change_enterprise"),
        "may_relate": request.user.has_perm("parties.add_relationship"),
        "may_see_aliases": request.user.has_perm("parties.view_partyalias"),
    })


# --- onboarding: new customer, edit, people around it ----------------------------------------

def _add_service_errors(form, exc: ValidationError) -> None:
    """Put a service's ValidationError on the form: by field where the form has that field."""
    if hasattr(exc, "error_dict"):
        for field, errors in exc.message_dict.items():
            target = field if field in form.fields else None
            for error in errors:
                form.add_error(target, error)
    else:
        for error in exc.messages:
            form.add_error(None, error)


def _refused(request, exc: PermissionDenied):
    """403 for a write the service refused. A full page goes to the 403 handler (audited); an
    htmx caller's page reloads to show the message, because htmx does not swap 403 bodies."""
    if not request.htmx:
        raise exc
    permission_refused.send(sender=_refused, request=request, reason=str(exc))
    messages.error(request, str(exc) or _("You may not do this."))
    response = render(request, "403.html", status=403)
    response["HX-Refresh"] = "true"
    return response


def _to_enterprise(request, enterprise_id: int):
    """Post/redirect/get; htmx follows HX-Redirect, so a reload never posts twice."""
    url = reverse("parties:enterprise-detail", args=[enterprise_id])
    if request.htmx:
        response = HttpResponse(status=200)
        response["HX-Redirect"] = url
        return response
    return redirect(url)


def _form_page(request, template: str, context: dict):
    """The page, or for htmx only the form; 400 when the form carries errors."""
    form = context["form"]
    if request.htmx and not request.htmx.boosted:
        template = context["partial"]
    return render(request, template, context, status=400 if form.errors else 200)


@login_required
def enterprise_new(request):
    """Register a new business customer at the user's own branch. The size class is computed
    by the service and shown, with its explanation, on the page the user lands on."""
    if not request.user.has_perm("parties.add_enterprise"):
        raise PermissionDenied(_("Only account managers and team leads register customers."))
    form = EnterpriseForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        branch = request.user.branch
        try:
            if branch is None:
                raise PermissionDenied(_("You belong to no branch, so you cannot register "
                                         "customers."))
            enterprise = services.enterprise_create(actor=request.user, branch=branch,
                                                    **form.cleaned_data)
        except ValidationError as exc:
            _add_service_errors(form, exc)
        except PermissionDenied as exc:
            return _refused(request, exc)
        else:
            messages.success(request, _("%(name)s registered; size class: %(size)s.") % {
                "name": enterprise.name,
                "size": enterprise.get_size_class_display() or _("unclassified")})
            return _to_enterprise(request, enterprise.pk)
    return _form_page(request, "parties/enterprise_form.html", {
        "form": form, "enterprise": None, "partial": "parties/partials/enterprise_form.html",
        "action": reverse("parties:enterprise-new")})


def _shown(enterprise: Enterprise, field: str) -> str:
    """A value as the page shows it: choice labels, localised numbers and dates, a dash."""
    value = getattr(enterprise, field)
    if value in (None, ""):
        return "—"
    display = getattr(enterprise, f"get_{field}_display", None)
    return str(display()) if display else str(localize(value))


def _change_summary(before: Enterprise, after: Enterprise) -> list[str]:
    fields = [*services.ENTERPRISE_EDITABLE, "size_class"]
    return [_("%(field)s: %(old)s → %(new)s") % {
                "field": Enterprise._meta.get_field(field).verbose_name,
                "old": _shown(before, field), "new": _shown(after, field)}
            for field in fields
            if field != "branch" and getattr(before, field) != getattr(after, field)]


@login_required
def enterprise_edit(request, enterprise_id: int):
    """Change a customer's details through enterprise_update; the message says what changed."""
    enterprise = enterprise_get(viewer=request.user, enterprise_id=enterprise_id)
    if not request.user.has_perm("parties.change_enterprise"):
        raise PermissionDenied(_("You may not change customers."))
    form = EnterpriseForm(request.POST or None, initial=EnterpriseForm.initial_for(enterprise))
    if request.method == "POST" and form.is_valid():
        try:
            updated = services.enterprise_update(actor=request.user,
                                                 enterprise_id=enterprise.pk,
                                                 **form.cleaned_data)
        except ValidationError as exc:
            _add_service_errors(form, exc)
        except PermissionDenied as exc:
            return _refused(request, exc)
        else:
            changes = _change_summary(enterprise, updated)
            if changes:
                messages.success(request, _("Saved. Changed: %(changes)s.")
                                 % {"changes": "; ".join(changes)})
            else:
                messages.info(request, _("Nothing changed."))
            return _to_enterprise(request, enterprise.pk)
    return _form_page(request, "parties/enterprise_form.html", {
        "form": form, "enterprise": enterprise,
        "partial": "parties/partials/enterprise_form.html",
        "action": reverse("parties:enterprise-edit", args=[enterprise.pk])})


def _relate_person(request, enterprise: Enterprise, data: dict):
    """Find the person by ID number or record them, then add the edge; one transaction, so a
    refused edge leaves no new person behind. Returns (person, created)."""
    with transaction.atomic():
        person = person_find(resident_id=normalise_resident_id(data["resident_id"]))
        created = person is None
        if created:
            if not data["name"]:
                raise ValidationError({"name": _("Give the name: no person with this ID "
                                                 "number is recorded yet.")})
            person = services.person_create(actor=request.user, name=data["name"],
                                            resident_id=data["resident_id"],
                                            phone=data["phone"])
        services.relationship_add(actor=request.user, kind=data["kind"], from_person=person,
                                  to_enterprise=enterprise, stake_percent=data["stake_percent"],
                                  note=data["note"])
    return person, created


@login_required
def relationship_new(request, enterprise_id: int):
    """Add a person around the enterprise: controller, shareholder, legal representative or
    guarantor. The ID number is shown afterwards as the viewer may see it (masked or full)."""
    enterprise = enterprise_get(viewer=request.user, enterprise_id=enterprise_id)
    if not request.user.has_perm("parties.add_relationship"):
        raise PermissionDenied(_("You may not record relations."))
    form = PersonRelationshipForm(request.POST or None,
                                  initial={"kind": request.GET.get("kind")})
    if request.method == "POST" and form.is_valid():
        try:
            person, created = _relate_person(request, enterprise, form.cleaned_data)
        except ValidationError as exc:
            _add_service_errors(form, exc)
        except PermissionDenied as exc:
            return _refused(request, exc)
        else:
            values = {"name": person.name,
                      "id": person_id_display(viewer=request.user, person=person),
                      "kind": RelationshipKind(form.cleaned_data["kind"]).label,
                      "enterprise": enterprise.name}
            message = (_("%(name)s (%(id)s) recorded, as %(kind)s of %(enterprise)s.")
                       if created else
                       _("%(name)s (%(id)s), already on file, added as %(kind)s of "
                         "%(enterprise)s."))
            messages.success(request, message % values)
            return _to_enterprise(request, enterprise.pk)
    return _form_page(request, "parties/relationship_form.html", {
        "form": form, "enterprise": enterprise,
        "partial": "parties/partials/relationship_form.html",
        "action": reverse("parties:relationship-new", args=[enterprise.pk])})


# --- other names and accounts (issue 19: statement counterparties matched by identity) -------

def _alias_shown(viewer, alias) -> str:
    """An account in full to those who may record aliases, else masked as in the audit trail."""
    if alias.kind != AliasKind.ACCOUNT or viewer.has_perm("parties.add_partyalias"):
        return alias.value
    return f"****{alias.normalised[-4:]}"


@login_required
@permission_required("parties.view_partyalias", raise_exception=True)
def party_aliases(request, enterprise_id: int):
    """The other names (trade name, former name) and bank accounts recorded for the enterprise
    and the persons around it, and a form to record one (`services.party_alias_add`: permission,
    branch and audit there). 404 outside the viewer's branches."""
    enterprise = enterprise_get(viewer=request.user, enterprise_id=enterprise_id)
    persons = {p.pk: p for p in alias_persons(enterprise=enterprise)}
    parties = [(f"enterprise:{enterprise.pk}", enterprise.name)] + [
        (f"person:{pk}", person.name) for pk, person in persons.items()]
    may_add = request.user.has_perm("parties.add_partyalias")
    form = PartyAliasForm(request.POST or None, parties=parties)
    if request.method == "POST":
        if not may_add:
            raise PermissionDenied(_("You may not record other names or accounts."))
        if form.is_valid():
            data = form.cleaned_data
            kind, pk = data["party"].split(":")
            target = ({"enterprise": enterprise} if kind == "enterprise"
                      else {"person": persons[int(pk)]})
            try:
                services.party_alias_add(actor=request.user, kind=data["kind"],
                                         value=data["value"], source=data["source"], **target)
            except ValidationError as exc:
                _add_service_errors(form, exc)
            except PermissionDenied as exc:
                return _refused(request, exc)
            else:
                messages.success(request, _("%(value)s recorded for %(party)s.") % {
                    "value": data["value"], "party": dict(parties)[data["party"]]})
                return redirect(reverse("parties:party-aliases", args=[enterprise.pk]))
    aliases = sorted(party_alias_list(viewer=request.user, enterprise_id=enterprise.pk),
                     key=lambda a: (a.person_id is not None, a.person_id or 0, a.kind, a.pk))
    rows = [{"party": alias.enterprise.name if alias.enterprise_id else alias.person.name,
             "kind": alias.get_kind_display(), "value": _alias_shown(request.user, alias),
             "source": alias.source, "created": alias.created_at} for alias in aliases]
    return render(request, "parties/alias_list.html", {
        "enterprise": enterprise, "rows": rows, "form": form if may_add else None},
        status=400 if form.errors else 200)

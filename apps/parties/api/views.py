"""Integration API for enterprises: search, one enterprise with the people and firms around it.

Every read and write starts from the viewer-scoped selectors, so another branch's enterprise
answers 404 (existence not revealed); writes then go through `apps.parties.services`, which
check the permission, validate, compute the size class and audit. Commands take an
`Idempotency-Key`. Resident ID numbers are masked unless the caller holds
`parties.view_full_resident_id` (PIPL art. 28). Eligibility for products is served by
`apps.products.api`, which may import parties (not the reverse, CONVENTIONS §1).
"""

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import Http404
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field
from rest_framework import serializers, status
from rest_framework.exceptions import ValidationError
from rest_framework.permissions import BasePermission, IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.core.idempotency import IDEMPOTENCY_ERRORS, IdempotentCommandMixin
from apps.core.schema import COMMAND_ERRORS, IDEMPOTENCY_KEY_HEADER
from apps.parties import services
from apps.parties.api.fields import MoneyField
from apps.parties.api.pagination import PAGE_PARAMETERS, paginate, paginated
from apps.parties.industries import Industry
from apps.parties.models import Person, RelationshipKind, TaxCreditRating
from apps.parties.money import Currency
from apps.parties.selectors import (
    enterprise_get,
    enterprise_list,
    person_find,
    person_id_display,
    relationship_list,
)
from apps.parties.validators import normalise_resident_id


class CanViewEnterprises(BasePermission):
    """Staff whose roles carry `parties.view_enterprise`; which ones is the selectors' job."""

    def has_permission(self, request, view) -> bool:
        return request.user.has_perm("parties.view_enterprise")


class EnterpriseSummarySerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    uscc = serializers.CharField()
    industry = serializers.CharField(help_text="GB/T 4754 section letter.")
    industry_code = serializers.CharField()
    size_class = serializers.CharField(help_text="micro, small, medium, large or empty.")
    tax_credit_rating = serializers.CharField()
    branch = serializers.CharField(source="branch.code")

    class Meta:
        ref_name = "EnterpriseSummary"


class PartySerializer(serializers.Serializer):
    type = serializers.ChoiceField(choices=["person", "enterprise"])
    id = serializers.IntegerField()
    name = serializers.CharField()
    resident_id = serializers.CharField(
        required=False, help_text="Persons only; masked unless you may see it in full.")
    uscc = serializers.CharField(required=False, help_text="Enterprises only.")

    class Meta:
        ref_name = "Party"


class RelationshipSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    kind = serializers.CharField()
    direction = serializers.ChoiceField(
        choices=["in", "out"],
        help_text="in: the party is <kind> of this enterprise; out: this enterprise is "
                  "<kind> of the party.")
    party = PartySerializer()
    stake_percent = serializers.DecimalField(max_digits=5, decimal_places=2,
                                             allow_null=True)
    note = serializers.CharField()

    class Meta:
        ref_name = "EnterpriseRelationship"


class EnterpriseFieldsSerializer(serializers.Serializer):
    """What a caller may set on an enterprise: never the size class (computed by the service
    from the size standard in force) nor the branch (the caller's own on create)."""

    name = serializers.CharField(max_length=200)
    uscc = serializers.CharField(
        max_length=24, help_text="Unified social credit code, 18 characters (GB 32100-2015); "
                                 "spaces and lower case are normalised.")
    industry = serializers.ChoiceField(choices=Industry.choices,
                                       help_text="GB/T 4754 section letter.")
    industry_code = serializers.CharField(max_length=4, required=False, allow_blank=True)
    registration_date = serializers.DateField(required=False, allow_null=True)
    registered_address = serializers.CharField(max_length=300, required=False,
                                               allow_blank=True)
    operating_address = serializers.CharField(max_length=300, required=False, allow_blank=True)
    operating_lat = serializers.DecimalField(max_digits=9, decimal_places=6, required=False,
                                             allow_null=True, help_text="Both or neither.")
    operating_lng = serializers.DecimalField(max_digits=9, decimal_places=6, required=False,
                                             allow_null=True)
    employees = serializers.IntegerField(min_value=0, required=False, allow_null=True)
    annual_revenue = MoneyField(min_value=0, required=False, allow_null=True)
    total_assets = MoneyField(min_value=0, required=False, allow_null=True)
    financials_currency = serializers.ChoiceField(choices=Currency.choices, required=False)
    tax_credit_rating = serializers.ChoiceField(choices=TaxCreditRating.choices,
                                                required=False, allow_blank=True)


def _enterprise_detail(request, enterprise, status_code=status.HTTP_200_OK) -> Response:
    """The enterprise as GET /enterprises/{id}/ shows it to this caller."""
    edges = relationship_list(viewer=request.user, enterprise_id=enterprise.pk)
    relationships = []
    for edge in edges:
        outgoing = edge.from_enterprise_id == enterprise.pk
        other = edge.target if outgoing else edge.source
        relationships.append({
            "id": edge.pk, "kind": edge.kind, "direction": "out" if outgoing else "in",
            "party": _party(request.user, other), "stake_percent": edge.stake_percent,
            "note": edge.note,
        })
    output = EnterpriseDetailSerializer(enterprise, context={"relationships": relationships})
    return Response(output.data, status=status_code)


def _party(viewer, party) -> dict:
    if isinstance(party, Person):
        return {"type": "person", "id": party.pk, "name": party.name,
                "resident_id": person_id_display(viewer=viewer, person=party)}
    return {"type": "enterprise", "id": party.pk, "name": party.name, "uscc": party.uscc}


class EnterpriseDetailSerializer(EnterpriseSummarySerializer):
    registration_date = serializers.DateField(allow_null=True)
    registered_address = serializers.CharField()
    operating_address = serializers.CharField()
    operating_lat = serializers.DecimalField(max_digits=9, decimal_places=6,
                                             allow_null=True)
    operating_lng = serializers.DecimalField(max_digits=9, decimal_places=6,
                                             allow_null=True)
    employees = serializers.IntegerField(allow_null=True)
    annual_revenue = MoneyField(allow_null=True)
    total_assets = MoneyField(allow_null=True)
    financials_currency = serializers.CharField()
    size_standard_version = serializers.CharField()
    size_explanation = serializers.CharField()
    size_classified_on = serializers.DateField(allow_null=True)
    relationships = serializers.SerializerMethodField()

    class Meta:
        ref_name = "EnterpriseDetail"

    @extend_schema_field(RelationshipSerializer(many=True))
    def get_relationships(self, enterprise) -> list:
        return RelationshipSerializer(self.context["relationships"], many=True).data


class EnterpriseListApi(IdempotentCommandMixin, APIView):
    """GET: enterprises managed by the branches the caller may see; `search` matches the name
    or the start of the unified social credit code. POST: register a new enterprise at the
    caller's branch (account managers and team leads)."""

    permission_classes = [IsAuthenticated, CanViewEnterprises]

    class InputSerializer(EnterpriseFieldsSerializer):
        class Meta:
            ref_name = "EnterpriseCreateInput"

    class FilterSerializer(serializers.Serializer):
        search = serializers.CharField(required=False, allow_blank=True, max_length=100)

    OutputSerializer = EnterpriseSummarySerializer

    @extend_schema(
        operation_id="enterprises_list",
        parameters=[OpenApiParameter("search", str, description="Name contains, or USCC "
                                     "starts with."), *PAGE_PARAMETERS],
        responses={200: paginated(OutputSerializer, "PaginatedEnterpriseSummaryList")},
    )
    def get(self, request):
        filters = self.FilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        enterprises = enterprise_list(viewer=request.user,
                                      search=filters.validated_data.get("search", ""))
        return paginate(enterprises, request, self, self.OutputSerializer)

    @extend_schema(
        operation_id="enterprises_create", request=InputSerializer,
        responses={201: EnterpriseDetailSerializer, **COMMAND_ERRORS, **IDEMPOTENCY_ERRORS},
        parameters=[IDEMPOTENCY_KEY_HEADER],
    )
    def post(self, request):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        branch = request.user.branch
        if branch is None:
            raise PermissionDenied(_("You belong to no branch, so you cannot register "
                                     "customers."))
        enterprise = services.enterprise_create(actor=request.user, branch=branch,
                                                **data.validated_data)
        return _enterprise_detail(request, enterprise, status.HTTP_201_CREATED)


class EnterpriseDetailApi(IdempotentCommandMixin, APIView):
    """GET: one enterprise with its figures, size classification and relationships. PATCH:
    change its details; the size class is recomputed when its inputs change."""

    permission_classes = [IsAuthenticated, CanViewEnterprises]
    idempotent_methods = ("PATCH",)
    OutputSerializer = EnterpriseDetailSerializer

    class InputSerializer(EnterpriseFieldsSerializer):
        class Meta:
            ref_name = "EnterpriseUpdateInput"

    @extend_schema(operation_id="enterprises_retrieve", responses={200: OutputSerializer})
    def get(self, request, enterprise_id: int):
        enterprise = enterprise_get(viewer=request.user, enterprise_id=enterprise_id)
        return _enterprise_detail(request, enterprise)

    @extend_schema(operation_id="enterprises_partial_update", request=InputSerializer,
                   responses={200: OutputSerializer, **COMMAND_ERRORS, **IDEMPOTENCY_ERRORS},
                   parameters=[IDEMPOTENCY_KEY_HEADER])
    def patch(self, request, enterprise_id: int):
        enterprise_get(viewer=request.user, enterprise_id=enterprise_id)  # 404 unless visible
        data = self.InputSerializer(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        enterprise = services.enterprise_update(actor=request.user, enterprise_id=enterprise_id,
                                                **data.validated_data)
        return _enterprise_detail(request, enterprise)


def _not_found(field: str) -> ValidationError:
    # The same message for "does not exist" and "not yours to see": existence is not revealed.
    return ValidationError({field: [_("Not found.")]})


class EnterpriseRelationshipAddApi(IdempotentCommandMixin, APIView):
    """Record that a person or another enterprise is <kind> of this enterprise.

    A person is found by resident ID number, or recorded with it when new (then `name` is
    required); the answer shows the number masked unless the caller may see it in full.
    Spouse-of links two persons and is not added here.
    """

    permission_classes = [IsAuthenticated, CanViewEnterprises]

    class InputSerializer(serializers.Serializer):
        kind = serializers.ChoiceField(choices=[
            (kind.value, kind.label) for kind in RelationshipKind
            if kind != RelationshipKind.SPOUSE_OF])
        resident_id = serializers.CharField(
            max_length=24, required=False,
            help_text="A person: resident ID number, 18 characters (GB 11643-1999). A recorded "
                      "person is found by it; otherwise one is recorded with `name`.")
        name = serializers.CharField(max_length=100, required=False, allow_blank=True,
                                     help_text="The person's name, when not yet recorded.")
        phone = serializers.CharField(max_length=32, required=False, allow_blank=True)
        enterprise_id = serializers.IntegerField(
            min_value=1, required=False,
            help_text="Or an enterprise you may see; give this or `resident_id`.")
        stake_percent = serializers.DecimalField(
            max_digits=5, decimal_places=2, required=False, allow_null=True,
            help_text='Shareholders only, as a decimal string: "30.00".')
        note = serializers.CharField(max_length=300, required=False, allow_blank=True)

        class Meta:
            ref_name = "EnterpriseRelationshipAddInput"

        def validate(self, data):
            if ("resident_id" in data) == ("enterprise_id" in data):
                raise ValidationError({"resident_id": [
                    _("Give either a resident_id (a person) or an enterprise_id.")]})
            stake = data.get("stake_percent")
            if data["kind"] == RelationshipKind.SHAREHOLDER and stake is None:
                raise ValidationError({"stake_percent": [_("Give the shareholder’s stake.")]})
            if data["kind"] != RelationshipKind.SHAREHOLDER and stake is not None:
                raise ValidationError({"stake_percent": [_("Only shareholders have a stake.")]})
            return data

    OutputSerializer = RelationshipSerializer

    @extend_schema(operation_id="enterprises_relationships_create", request=InputSerializer,
                   responses={201: OutputSerializer, **COMMAND_ERRORS, **IDEMPOTENCY_ERRORS},
                   parameters=[IDEMPOTENCY_KEY_HEADER])
    def post(self, request, enterprise_id: int):
        enterprise = enterprise_get(viewer=request.user, enterprise_id=enterprise_id)
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        fields = dict(data.validated_data)
        edge = {"kind": fields["kind"], "to_enterprise": enterprise,
                "stake_percent": fields.get("stake_percent"), "note": fields.get("note", "")}
        # One transaction: a refused edge leaves no newly recorded person behind.
        with transaction.atomic():
            if "enterprise_id" in fields:
                try:
                    edge["from_enterprise"] = enterprise_get(
                        viewer=request.user, enterprise_id=fields["enterprise_id"])
                except Http404 as exc:
                    raise _not_found("enterprise_id") from exc
            else:
                edge["from_person"] = self._person(request.user, fields)
            relationship = services.relationship_add(actor=request.user, **edge)
        source = relationship.source
        output = {"id": relationship.pk, "kind": relationship.kind, "direction": "in",
                  "party": _party(request.user, source),
                  "stake_percent": relationship.stake_percent, "note": relationship.note}
        return Response(self.OutputSerializer(output).data, status=status.HTTP_201_CREATED)

    @staticmethod
    def _person(actor, data: dict) -> Person:
        person = person_find(resident_id=normalise_resident_id(data["resident_id"]))
        if person is not None:
            return person
        if not data.get("name"):
            raise ValidationError({"name": [_(
                "Required: no person with this ID number is recorded yet.")]})
        return services.person_create(actor=actor, name=data["name"],
                                      resident_id=data["resident_id"],
                                      phone=data.get("phone", ""))

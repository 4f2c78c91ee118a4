"""Integration API for enterprises: search, one enterprise with the people and firms around it.

Every read starts from the viewer-scoped selectors, so another branch's enterprise answers 404
(existence not revealed). Resident ID numbers are masked unless the caller holds
`parties.view_full_resident_id` (PIPL art. 28). Eligibility for products is served by
`apps.products.api`, which may import parties (not the reverse, CONVENTIONS §1).
"""

from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field
from rest_framework import serializers
from rest_framework.permissions import BasePermission, IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.parties.api.fields import MoneyField
from apps.parties.api.pagination import PAGE_PARAMETERS, paginate, paginated
from apps.parties.models import Person
from apps.parties.selectors import (
    enterprise_get,
    enterprise_list,
    person_id_display,
    relationship_list,
)


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


class EnterpriseListApi(APIView):
    """Enterprises managed by the branches the caller may see; `search` matches the name or
    the start of the unified social credit code."""

    permission_classes = [IsAuthenticated, CanViewEnterprises]

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


class EnterpriseDetailApi(APIView):
    """One enterprise with its figures, size classification and relationships."""

    permission_classes = [IsAuthenticated, CanViewEnterprises]

    class OutputSerializer(EnterpriseSummarySerializer):
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

    @extend_schema(operation_id="enterprises_retrieve", responses={200: OutputSerializer})
    def get(self, request, enterprise_id: int):
        enterprise = enterprise_get(viewer=request.user, enterprise_id=enterprise_id)
        edges = relationship_list(viewer=request.user, enterprise_id=enterprise.pk)
        relationships = []
        for edge in edges:
            outgoing = edge.from_enterprise_id == enterprise.pk
            other = edge.target if outgoing else edge.source
            relationships.append({
                "id": edge.pk, "kind": edge.kind, "direction": "out" if outgoing else "in",
                "party": self._party(request.user, other), "stake_percent": edge.stake_percent,
                "note": edge.note,
            })
        output = self.OutputSerializer(enterprise, context={"relationships": relationships})
        return Response(output.data)

    @staticmethod
    def _party(viewer, party) -> dict:
        if isinstance(party, Person):
            return {"type": "person", "id": party.pk, "name": party.name,
                    "resident_id": person_id_display(viewer=viewer, person=party)}
        return {"type": "enterprise", "id": party.pk, "name": party.name, "uscc": party.uscc}

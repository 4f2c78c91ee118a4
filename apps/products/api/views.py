"""Integration API for the product catalogue and for which products an enterprise qualifies.

Products are bank-wide configuration, readable by staff holding `products.view_creditproduct`.
The eligibility of an enterprise lives here rather than in `apps.parties.api`: it needs the
products, and parties sits below products in the layers (CONVENTIONS §1).
"""

from django.utils import timezone
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.permissions import BasePermission, IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.parties.api.fields import MoneyField
from apps.parties.api.views import CanViewEnterprises
from apps.parties.selectors import enterprise_get
from apps.products.selectors import (
    eligibility_for_enterprise,
    product_list,
    product_versions_in_force,
)


class CanViewProducts(BasePermission):
    def has_permission(self, request, view) -> bool:
        return request.user.has_perm("products.view_creditproduct")


class ConditionSerializer(serializers.Serializer):
    code = serializers.CharField()
    fact = serializers.CharField()
    operator = serializers.CharField()
    value = serializers.JSONField(help_text="Threshold or list the fact is compared with.")
    reason_en = serializers.CharField()
    reason_zh = serializers.CharField()
    source_citation = serializers.CharField()
    evidence = serializers.CharField(help_text="V verified, M unverified, G design default.")
    effective_from = serializers.DateField(allow_null=True)

    class Meta:
        ref_name = "EntryCondition"


class ProductVersionSerializer(serializers.Serializer):
    id = serializers.IntegerField(help_text="Send as `product_version_id` to open an "
                                            "application.")
    version = serializers.IntegerField()
    currency = serializers.CharField()
    amount_min = MoneyField()
    amount_max = MoneyField()
    term_min_months = serializers.IntegerField()
    term_max_months = serializers.IntegerField()
    rate_min = serializers.DecimalField(max_digits=6, decimal_places=3,
                                        help_text="Annual rate, percent.")
    rate_max = serializers.DecimalField(max_digits=6, decimal_places=3,
                                        help_text="Annual rate, percent.")
    repayment_methods = serializers.ListField(child=serializers.CharField())
    collateral_types = serializers.ListField(child=serializers.CharField())
    effective_from = serializers.DateField(allow_null=True)
    effective_to = serializers.DateField(allow_null=True)
    conditions = ConditionSerializer(many=True, source="conditions.all")

    class Meta:
        ref_name = "ProductVersionInForce"


class ProductListApi(APIView):
    """Every credit product, with the version in force today and its entry conditions (null
    when none is). Not paginated: the catalogue is a handful of products."""

    permission_classes = [IsAuthenticated, CanViewProducts]

    class OutputSerializer(serializers.Serializer):
        id = serializers.IntegerField()
        code = serializers.CharField()
        name_en = serializers.CharField()
        name_zh = serializers.CharField()
        description = serializers.CharField()
        version_in_force = ProductVersionSerializer(allow_null=True)

        class Meta:
            ref_name = "Product"

    @extend_schema(operation_id="products_list", responses={200: OutputSerializer(many=True)})
    def get(self, request):
        # Three queries whatever the catalogue size: versions in force (with their
        # conditions, prefetched), then the products.
        in_force = {version.product_id: version
                    for version in product_versions_in_force(on=timezone.localdate())}
        products = [{"id": product.pk, "code": product.code, "name_en": product.name_en,
                     "name_zh": product.name_zh, "description": product.description,
                     "version_in_force": in_force.get(product.pk)}
                    for product in product_list().prefetch_related(None)]
        return Response(self.OutputSerializer(products, many=True).data)


class EligibilityFailureSerializer(serializers.Serializer):
    code = serializers.CharField()
    fact = serializers.CharField()
    operator = serializers.CharField()
    expected = serializers.JSONField()
    actual = serializers.CharField(allow_null=True,
                                   help_text="Null when the fact is unknown.")
    missing = serializers.BooleanField(help_text="The fact is unknown: data is missing.")
    reason_en = serializers.CharField()
    reason_zh = serializers.CharField()

    class Meta:
        ref_name = "EligibilityFailure"


class EnterpriseEligibilityApi(APIView):
    """For an enterprise the caller may see: every product in force, eligible first, each
    with the conditions it fails, the expected and actual values, and the reasons in English
    and Chinese. Evaluated today; nothing is stored (submission stores its own evaluation)."""

    permission_classes = [IsAuthenticated, CanViewEnterprises, CanViewProducts]

    class OutputSerializer(serializers.Serializer):
        product = serializers.CharField(source="version.product.code")
        product_name_en = serializers.CharField(source="version.product.name_en")
        product_name_zh = serializers.CharField(source="version.product.name_zh")
        version = serializers.IntegerField(source="version.version")
        product_version_id = serializers.IntegerField(source="version.pk")
        evaluated_on = serializers.DateField()
        eligible = serializers.BooleanField()
        failures = EligibilityFailureSerializer(many=True)

        class Meta:
            ref_name = "Eligibility"

    @extend_schema(operation_id="enterprises_eligibility_list",
                   responses={200: OutputSerializer(many=True)})
    def get(self, request, enterprise_id: int):
        enterprise = enterprise_get(viewer=request.user, enterprise_id=enterprise_id)
        results = eligibility_for_enterprise(enterprise=enterprise, on=timezone.localdate())
        return Response(self.OutputSerializer(results, many=True).data)

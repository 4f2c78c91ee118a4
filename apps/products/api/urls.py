from django.urls import path

from apps.products.api.views import EnterpriseEligibilityApi, ProductListApi

urlpatterns = [
    path("products/", ProductListApi.as_view(), name="api-product-list"),
    # Under /enterprises/ for callers; served here because it needs the products (layers).
    path("enterprises/<int:enterprise_id>/eligibility/", EnterpriseEligibilityApi.as_view(),
         name="api-enterprise-eligibility"),
]

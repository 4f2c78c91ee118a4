from django.urls import path

from apps.parties.api.views import (
    EnterpriseDetailApi,
    EnterpriseListApi,
    EnterpriseRelationshipAddApi,
)

urlpatterns = [
    path("enterprises/", EnterpriseListApi.as_view(), name="api-enterprise-list"),
    path("enterprises/<int:enterprise_id>/", EnterpriseDetailApi.as_view(),
         name="api-enterprise-detail"),
    path("enterprises/<int:enterprise_id>/relationships/",
         EnterpriseRelationshipAddApi.as_view(), name="api-enterprise-relationship-add"),
]

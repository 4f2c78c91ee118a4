"""/api/: version 1 of the integration API, its OpenAPI schema and the docs page."""

from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView

urlpatterns = [
    path("schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("docs/", SpectacularRedocView.as_view(url_name="api-schema"), name="api-docs"),
    path("v1/", include("apps.accounts.api.urls")),
    path("v1/", include("apps.parties.api.urls")),
    path("v1/", include("apps.products.api.urls")),
    path("v1/", include("apps.applications.api.urls")),
    path("v1/", include("apps.investigations.api.urls")),
    path("v1/", include("apps.documents.api.urls")),
    path("v1/", include("apps.scoring.api.urls")),
    path("v1/", include("apps.approvals.api.urls")),
    path("v1/", include("apps.loans.api.urls")),
    path("v1/", include("apps.datahub.api.urls")),
    path("v1/", include("apps.monitoring.api.urls")),
    path("v1/", include("apps.oversight.api.urls")),
]

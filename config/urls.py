from django.contrib import admin
from django.urls import include, path

from apps.core.views import healthz, livez, readyz

urlpatterns = [
    path("livez", livez, name="livez"),
    path("readyz", readyz, name="readyz"),
    path("healthz", healthz, name="healthz"),  # = readyz, for probes configured before the split
    path("i18n/", include("django.conf.urls.i18n")),  # set_language: the language switch
    path("admin/", admin.site.urls),
    path("api/", include("config.api")),
    path("accounts/", include("apps.accounts.urls")),
    path("customers/", include("apps.parties.urls")),
    path("products/", include("apps.products.urls")),
    path("applications/", include("apps.applications.urls")),
    path("investigations/", include("apps.investigations.urls")),
    path("documents/", include("apps.documents.urls")),
    path("scoring/", include("apps.scoring.urls")),
    path("approvals/", include("apps.approvals.urls")),
    path("loans/", include("apps.loans.urls")),
    path("datahub/", include("apps.datahub.urls")),
    path("monitoring/", include("apps.monitoring.urls")),
    path("oversight/", include("apps.oversight.urls")),
    path("insight/", include("apps.insight.urls")),
    path("", include("apps.web.urls")),
]

handler400 = "apps.core.error_views.bad_request"
handler403 = "apps.web.views.permission_denied"
handler404 = "apps.core.error_views.page_not_found"
handler500 = "apps.core.error_views.server_error"

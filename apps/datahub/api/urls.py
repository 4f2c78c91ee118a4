from django.urls import path

from apps.datahub.api.views import (
    ConsentCreateApi,
    CostReportApi,
    FileImportApi,
    PullDetailApi,
    PullListApi,
)

urlpatterns = [
    path("datahub/consents/", ConsentCreateApi.as_view(), name="api-datahub-consent-create"),
    path("datahub/pulls/", PullListApi.as_view(), name="api-datahub-pull-list"),
    path("datahub/pulls/<int:pull_id>/", PullDetailApi.as_view(), name="api-datahub-pull"),
    path("datahub/imports/", FileImportApi.as_view(), name="api-datahub-file-import"),
    path("datahub/costs/", CostReportApi.as_view(), name="api-datahub-costs"),
]

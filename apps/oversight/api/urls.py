from django.urls import path

from apps.oversight import exemption_api
from apps.oversight.api import views

urlpatterns = [
    path("oversight/events/", views.AuditEventListApi.as_view(), name="oversight-events"),
    path("oversight/exports/<uuid:job_id>/", views.ExportJobGetApi.as_view(),
         name="oversight-export-job"),
    # Due-diligence exemption cases (尽职免责, issue #15).
    path("oversight/exemptions/", exemption_api.ExemptionCaseListApi.as_view(),
         name="oversight-exemptions"),
    path("oversight/exemptions/batch-decide/", exemption_api.ExemptionBatchDecideApi.as_view(),
         name="oversight-exemption-batch-decide"),
    path("oversight/exemptions/<int:case_id>/", exemption_api.ExemptionCaseGetApi.as_view(),
         name="oversight-exemption"),
    path("oversight/exemptions/<int:case_id>/start-review/",
         exemption_api.ExemptionCaseStartReviewApi.as_view(),
         name="oversight-exemption-start-review"),
    path("oversight/exemptions/<int:case_id>/decide/",
         exemption_api.ExemptionCaseDecideApi.as_view(), name="oversight-exemption-decide"),
    path("oversight/exemptions/<int:case_id>/appeal/",
         exemption_api.ExemptionCaseAppealApi.as_view(), name="oversight-exemption-appeal"),
    path("oversight/exemptions/<int:case_id>/decide-appeal/",
         exemption_api.ExemptionCaseDecideAppealApi.as_view(),
         name="oversight-exemption-decide-appeal"),
    path("oversight/exemptions/<int:case_id>/close/",
         exemption_api.ExemptionCaseCloseApi.as_view(), name="oversight-exemption-close"),
]

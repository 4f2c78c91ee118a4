from django.urls import path

from apps.applications.api import views

urlpatterns = [
    path("applications/", views.ApplicationListApi.as_view(), name="api-application-list"),
    path("applications/<int:application_id>/", views.ApplicationDetailApi.as_view(),
         name="api-application-detail"),
]

# One POST command per move: /api/v1/applications/{id}/<action>/
COMMANDS = {
    "submit": views.ApplicationSubmitApi,
    "start-investigation": views.ApplicationStartInvestigationApi,
    "send-to-review": views.ApplicationSendToReviewApi,
    "return": views.ApplicationReturnApi,
    "resume-investigation": views.ApplicationResumeInvestigationApi,
    "send-to-approval": views.ApplicationSendToApprovalApi,
    "approve": views.ApplicationApproveApi,
    "reject": views.ApplicationRejectApi,
    "contract": views.ApplicationContractApi,
    "disburse": views.ApplicationDisburseApi,
    "withdraw": views.ApplicationWithdrawApi,
    "reassign": views.ApplicationReassignApi,
}
urlpatterns += [
    path(f"applications/<int:application_id>/{action}/", view.as_view(),
         name=f"api-application-{action}")
    for action, view in COMMANDS.items()
]

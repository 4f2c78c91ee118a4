from django.urls import path

from apps.investigations.api import reverification_views, views

urlpatterns = [
    path("investigations/", views.InvestigationListApi.as_view(), name="api-investigation-list"),
    path("investigations/<int:investigation_id>/", views.InvestigationDetailApi.as_view(),
         name="api-investigation-detail"),
    path("applications/<int:application_id>/investigation/",
         views.ApplicationInvestigationApi.as_view(), name="api-application-investigation"),
    path("investigations/<int:investigation_id>/answers/<str:item_code>/",
         views.InvestigationAnswerApi.as_view(), name="api-investigation-answer"),
    path("reverifications/", reverification_views.ReVerificationListApi.as_view(),
         name="api-reverification-list"),
    path("reverifications/officer-outcomes/", reverification_views.OfficerOutcomesApi.as_view(),
         name="api-reverification-officer-outcomes"),
    path("reverifications/<int:reverification_id>/",
         reverification_views.ReVerificationDetailApi.as_view(),
         name="api-reverification-detail"),
    path("investigations/<int:investigation_id>/request-reverification/",
         reverification_views.ReVerificationRequestApi.as_view(),
         name="api-investigation-request-reverification"),
    path("reverifications/<int:reverification_id>/complete/",
         reverification_views.ReVerificationCompleteApi.as_view(),
         name="api-reverification-complete"),
]

# One POST command per move: /api/v1/investigations/{id}/<action>/
COMMANDS = {
    "start": views.InvestigationStartApi,
    "check-in": views.InvestigationCheckInApi,
    "check-out": views.InvestigationCheckOutApi,
    "submit": views.InvestigationSubmitApi,
    "accept": views.InvestigationAcceptApi,
    "return": views.InvestigationReturnApi,
}
urlpatterns += [
    path(f"investigations/<int:investigation_id>/{action}/", view.as_view(),
         name=f"api-investigation-{action}")
    for action, view in COMMANDS.items()
]

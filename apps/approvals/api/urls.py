from django.urls import path

from apps.approvals.api import views

urlpatterns = [
    path("approvals/inbox/", views.InboxApi.as_view(), name="api-approvals-inbox"),
    path("approvals/applications/<int:application_id>/route/", views.RouteApi.as_view(),
         name="api-approvals-route"),
    path("approvals/applications/<int:application_id>/review/", views.ReviewSendApi.as_view(),
         name="api-approvals-review-send"),
    path("approvals/applications/<int:application_id>/review/return/",
         views.ReviewReturnApi.as_view(), name="api-approvals-review-return"),
    path("approvals/steps/<int:step_id>/sign/", views.StepSignApi.as_view(),
         name="api-approvals-step-sign"),
    path("approvals/steps/<int:step_id>/vote/", views.VoteCastApi.as_view(),
         name="api-approvals-vote-cast"),
    path("approvals/steps/<int:step_id>/close/", views.VoteCloseApi.as_view(),
         name="api-approvals-vote-close"),
    path("approvals/conditions/<int:condition_id>/satisfy/", views.ConditionSatisfyApi.as_view(),
         name="api-approvals-condition-satisfy"),
    path("approvals/delegations/", views.DelegationGrantApi.as_view(),
         name="api-approvals-delegation-grant"),
]

from django.urls import path

from apps.approvals import views

app_name = "approvals"

urlpatterns = [
    path("", views.inbox, name="inbox"),
    path("applications/<int:application_id>/", views.dossier, name="dossier"),
    path("applications/<int:application_id>/review/", views.review_send, name="review-send"),
    path("applications/<int:application_id>/return/", views.review_return,
         name="review-return"),
    path("applications/<int:application_id>/exception/", views.exception_declare,
         name="exception-declare"),
    path("steps/<int:step_id>/sign/", views.step_sign, name="step-sign"),
    path("steps/<int:step_id>/vote/", views.vote_cast, name="vote-cast"),
    path("steps/<int:step_id>/close/", views.vote_close, name="vote-close"),
    path("conditions/<int:condition_id>/satisfy/", views.condition_satisfy,
         name="condition-satisfy"),
    path("sessions/", views.sessions, name="sessions"),
    path("sessions/<int:session_id>/", views.session_detail, name="session-detail"),
]

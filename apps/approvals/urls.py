from django.urls import path

from apps.approvals import matrix_workbench as wb
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

# The authority matrix in the policy workbench (issue 17).
urlpatterns += [
    path("matrix/", wb.matrix_list_page, name="matrices"),
    path("matrix/next/", wb.matrix_draft_next, name="matrix-next"),
    path("matrix/import/", wb.matrix_import_file, name="matrix-import"),
    path("matrix/<int:matrix_id>/", wb.matrix_page, name="matrix"),
    path("matrix/<int:matrix_id>/rows/", wb.rule_add, name="matrix-rule-add"),
    path("matrix/<int:matrix_id>/publish/", wb.matrix_publish, name="matrix-publish"),
    path("matrix/<int:matrix_id>/retire/", wb.matrix_retire, name="matrix-retire"),
    path("matrix/<int:matrix_id>/export.<str:fmt>", wb.matrix_export_file, name="matrix-export"),
    path("matrix/rows/<int:row_id>/", wb.rule_edit, name="matrix-rule"),
    path("matrix/rows/<int:row_id>/remove/", wb.rule_remove, name="matrix-rule-remove"),
]

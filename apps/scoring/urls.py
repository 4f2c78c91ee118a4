from django.contrib.auth.decorators import login_required
from django.urls import path

from apps.scoring import failure_views, views
from apps.scoring import policy_workbench as wb

app_name = "scoring"

urlpatterns = [
    path("models/", views.model_list, name="model-list"),
    path("models/<int:version_id>/", views.model_detail, name="model-detail"),
    path("models/<int:version_id>/<slug:action>/", views.model_action, name="model-action"),
    path("training/", views.training_start, name="training-start"),
    path("training/<int:job_id>/", views.training_job, name="training-job"),
    path("failed/", failure_views.score_failure_list, name="score-failures"),
    path("failed/<int:failure_id>/rerun/", failure_views.score_failure_rerun,
         name="score-failure-rerun"),
    path("rescoring/", views.rescoring_start, name="rescoring-start"),
    path("rescoring/<int:job_id>/", views.rescoring_job, name="rescoring-job"),
    path("applications/<int:application_id>/", login_required(views.application_score_page),
         name="application-scores"),
    path("applications/<int:application_id>/score-now/", views.score_now, name="score-now"),
]

# Decision policies in the policy workbench (issue 17).
urlpatterns += [
    path("policies/", wb.policy_list_page, name="policies"),
    path("policies/next/", wb.policy_draft_next, name="policy-next"),
    path("policies/import/", wb.policy_import, name="policy-import"),
    path("policies/<int:policy_id>/", wb.policy_page, name="policy"),
    path("policies/<int:policy_id>/publish/", wb.policy_publish, name="policy-publish"),
    path("policies/<int:policy_id>/retire/", wb.policy_retire, name="policy-retire"),
    path("policies/<int:policy_id>/export.<str:fmt>", wb.policy_export, name="policy-export"),
]

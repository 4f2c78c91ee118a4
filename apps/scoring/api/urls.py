from django.urls import path

from apps.scoring.api import failure_views, views

urlpatterns = [
    path("applications/<int:application_id>/score/", views.ApplicationScoreApi.as_view(),
         name="api-application-score"),
    path("applications/<int:application_id>/score-now/",
         views.ApplicationScoreRequestApi.as_view(), name="api-application-score-now"),
    path("models/<int:version_id>/request-promotion/",
         views.ModelVersionRequestPromotionApi.as_view(), name="api-model-request-promotion"),
    path("models/<int:version_id>/approve-promotion/",
         views.ModelVersionApprovePromotionApi.as_view(), name="api-model-approve-promotion"),
    path("rescoring/", views.RescoringJobStartApi.as_view(), name="api-rescoring-start"),
    path("scoring/training-jobs/", views.TrainingJobStartApi.as_view(),
         name="api-training-start"),
    path("scoring/training-jobs/<int:job_id>/", views.TrainingJobDetailApi.as_view(),
         name="api-training-job"),
    path("scoring/failures/", failure_views.ScoreFailureListApi.as_view(),
         name="api-score-failures"),
    path("scoring/failures/<int:failure_id>/rerun/", failure_views.ScoreFailureRerunApi.as_view(),
         name="api-score-failure-rerun"),
    path("rescoring/<int:job_id>/", views.RescoringJobDetailApi.as_view(),
         name="api-rescoring-job"),
]

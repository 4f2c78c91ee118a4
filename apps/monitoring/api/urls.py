from django.urls import include, path

from apps.monitoring.api import views

urlpatterns = [
    path("monitoring/worklist/", views.WorklistApi.as_view(), name="api-monitoring-worklist"),
    path("monitoring/classifications/review/", views.ReviewQueueApi.as_view(),
         name="api-monitoring-review-queue"),
    path("monitoring/loans/<int:loan_id>/", views.LoanPanelApi.as_view(),
         name="api-monitoring-loan-panel"),
    path("monitoring/loans/<int:loan_id>/classifications/",
         views.ClassificationProposeApi.as_view(), name="api-monitoring-classification-propose"),
    path("monitoring/classifications/<int:classification_id>/confirm/",
         views.ClassificationConfirmApi.as_view(), name="api-monitoring-classification-confirm"),
    path("monitoring/classifications/<int:classification_id>/approve/",
         views.ClassificationApproveApi.as_view(), name="api-monitoring-classification-approve"),
    path("monitoring/classifications/<int:classification_id>/reject/",
         views.ClassificationRejectApi.as_view(), name="api-monitoring-classification-reject"),
    path("monitoring/signals/<int:signal_id>/acknowledge/", views.SignalAcknowledgeApi.as_view(),
         name="api-monitoring-signal-acknowledge"),
    path("monitoring/signals/<int:signal_id>/close/", views.SignalCloseApi.as_view(),
         name="api-monitoring-signal-close"),
    path("monitoring/signals/<int:signal_id>/close-decision/",
         views.SignalCloseDecideApi.as_view(), name="api-monitoring-signal-close-decide"),
    path("monitoring/actions/<int:action_id>/complete/", views.ActionCompleteApi.as_view(),
         name="api-monitoring-action-complete"),
    path("monitoring/actions/<int:action_id>/waive/", views.ActionWaiveApi.as_view(),
         name="api-monitoring-action-waive"),
    path("monitoring/npl/", views.NplRatioApi.as_view(), name="api-monitoring-npl"),
    path("monitoring/migration/", views.MigrationMatrixApi.as_view(),
         name="api-monitoring-migration"),
]
urlpatterns += [path("", include("apps.monitoring.api.inspection_urls")),
                path("", include("apps.monitoring.api.covenant_urls"))]

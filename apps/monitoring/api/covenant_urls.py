from django.urls import path

from apps.monitoring.api import covenant_views as views

urlpatterns = [
    path("monitoring/loans/<int:loan_id>/covenants/", views.LoanCovenantsApi.as_view(),
         name="api-monitoring-loan-covenants"),
    path("monitoring/covenant-checks/", views.CovenantCheckListApi.as_view(),
         name="api-monitoring-covenant-checks"),
    path("monitoring/covenant-checks/<int:check_id>/", views.CovenantCheckDetailApi.as_view(),
         name="api-monitoring-covenant-check"),
    path("monitoring/covenant-checks/<int:check_id>/submit/",
         views.CovenantCheckSubmitApi.as_view(), name="api-monitoring-covenant-check-submit"),
    path("monitoring/covenant-checks/<int:check_id>/accept/",
         views.CovenantCheckAcceptApi.as_view(), name="api-monitoring-covenant-check-accept"),
    path("monitoring/covenant-checks/<int:check_id>/breach/",
         views.CovenantCheckBreachApi.as_view(), name="api-monitoring-covenant-check-breach"),
    path("monitoring/annual-reviews/", views.AnnualReviewListApi.as_view(),
         name="api-monitoring-annual-reviews"),
    path("monitoring/annual-reviews/<int:review_id>/", views.AnnualReviewDetailApi.as_view(),
         name="api-monitoring-annual-review"),
    path("monitoring/annual-reviews/<int:review_id>/submit/",
         views.AnnualReviewSubmitApi.as_view(), name="api-monitoring-annual-review-submit"),
    path("monitoring/annual-reviews/<int:review_id>/accept/",
         views.AnnualReviewAcceptApi.as_view(), name="api-monitoring-annual-review-accept"),
    path("monitoring/annual-reviews/<int:review_id>/return/",
         views.AnnualReviewReturnApi.as_view(), name="api-monitoring-annual-review-return"),
]

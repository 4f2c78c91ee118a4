from django.urls import include, path

from apps.monitoring import views

app_name = "monitoring"

urlpatterns = [
    path("", views.worklist, name="worklist"),
    path("review/", views.review, name="review"),
    path("branch/", views.branch_view, name="branch"),
    path("loans/<int:loan_id>/", views.loan_monitoring, name="loan"),
    path("loans/<int:loan_id>/propose/", views.loan_propose, name="loan-propose"),
    path("classifications/<int:classification_id>/<slug:act>/", views.classification_act,
         name="classification-act"),
    path("signals/<int:signal_id>/<slug:act>/", views.signal_act, name="signal-act"),
    path("actions/<int:action_id>/<slug:act>/", views.action_act, name="action-act"),
]
urlpatterns += [path("", include("apps.monitoring.inspection_urls")),
                path("", include("apps.monitoring.covenant_urls"))]

from django.urls import path

from apps.monitoring import covenant_change_views as changes
from apps.monitoring import covenant_views as views

urlpatterns = [
    path("covenant-checks/<int:check_id>/", views.covenant_check_page, name="covenant_check"),
    path("covenant-checks/<int:check_id>/<slug:act>/", views.covenant_check_act,
         name="covenant_check_act"),
    path("annual-reviews/<int:review_id>/", views.annual_review_page, name="annual_review"),
    path("annual-reviews/<int:review_id>/<slug:act>/", views.annual_review_act,
         name="annual_review_act"),
    path("loans/<int:loan_id>/covenants/", views.covenant_add, name="covenant_add"),
    path("covenants/<int:covenant_id>/", changes.covenant_page, name="covenant"),
    path("covenants/<int:covenant_id>/changes/", changes.covenant_change_propose,
         name="covenant_change_propose"),
    path("covenant-changes/<int:change_id>/<slug:act>/", changes.covenant_change_act,
         name="covenant_change_act"),
]

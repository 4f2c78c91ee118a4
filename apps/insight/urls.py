from django.urls import path

from apps.insight import views

app_name = "insight"

urlpatterns = [
    path("portfolio/", views.portfolio, name="portfolio"),
    path("portfolio/export/<slug:chart>.<str:fmt>", views.portfolio_export,
         name="portfolio-export"),
    path("enterprises/<int:enterprise_id>/", views.enterprise_portrait, name="enterprise"),
    path("enterprises/<int:enterprise_id>/export/<slug:chart>.<str:fmt>",
         views.enterprise_export, name="enterprise-export"),
    path("officers/", views.officer_scorecard, name="officers"),
    path("officers/export/<slug:chart>.<str:fmt>", views.officer_scorecard_export,
         name="officers-export"),
    path("pipeline/", views.pipeline, name="pipeline"),
    path("pipeline/export/<slug:chart>.<str:fmt>", views.pipeline_export,
         name="pipeline-export"),
    path("thresholds/", views.thresholds, name="thresholds"),
    path("thresholds/export/<slug:chart>.<str:fmt>", views.thresholds_export,
         name="thresholds-export"),
    path("notifications/", views.notifications, name="notifications"),
]

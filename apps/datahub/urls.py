from django.urls import path

from apps.datahub import views

app_name = "datahub"

urlpatterns = [
    path("enterprises/<int:enterprise_id>/", views.enterprise_pulls_view,
         name="enterprise-pulls"),
    path("costs/", views.cost_report_view, name="costs"),
]

from django.urls import path

from apps.datahub import views

app_name = "datahub"

urlpatterns = [
    path("enterprises/<int:enterprise_id>/", views.enterprise_pulls_view,
         name="enterprise-pulls"),
    path("enterprises/<int:enterprise_id>/request/", views.pull_request_view,
         name="pull-request"),
    path("pulls/<int:pull_id>/", views.pull_view, name="pull"),
    path("costs/", views.cost_report_view, name="costs"),
]

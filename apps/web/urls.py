from django.urls import path

from apps.web import views

app_name = "web"

urlpatterns = [
    path("", views.home, name="home"),
    path("system/", views.system_status, name="system-status"),
    path("system/probes/", views.task_probe_create, name="task-probe-create"),
    path("system/probes/<uuid:probe_id>/", views.task_probe_detail, name="task-probe-detail"),
]

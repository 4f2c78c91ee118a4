from django.urls import path

from apps.oversight.api import views

urlpatterns = [
    path("oversight/events/", views.AuditEventListApi.as_view(), name="oversight-events"),
    path("oversight/exports/<uuid:job_id>/", views.ExportJobGetApi.as_view(),
         name="oversight-export-job"),
]

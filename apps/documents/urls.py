from django.urls import path

from apps.documents import statement_views, views

app_name = "documents"

urlpatterns = [
    path("applications/<int:application_id>/upload/", views.document_upload, name="upload"),
    path("applications/<int:application_id>/checklist/", views.checklist, name="checklist"),
    path("applications/<int:application_id>/requirements/<int:requirement_id>/waive/",
         views.requirement_waive, name="requirement-waive"),
    path("<int:document_id>/download/", views.document_download, name="download"),
    path("<int:document_id>/recheck/", views.recheck, name="recheck"),
    path("<int:document_id>/waive/", views.waive, name="waive"),
    path("<int:document_id>/columns/", statement_views.column_mapping, name="column-mapping"),
]

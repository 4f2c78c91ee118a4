from django.urls import path

from apps.documents import views

app_name = "documents"

urlpatterns = [
    path("applications/<int:application_id>/upload/", views.document_upload, name="upload"),
    path("<int:document_id>/download/", views.document_download, name="download"),
]

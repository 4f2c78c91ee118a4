from django.urls import path

from apps.documents.api import views
from apps.documents.api.statement_views import ColumnMappingApi

urlpatterns = [
    path("applications/<int:application_id>/documents/", views.DocumentListApi.as_view(),
         name="api-application-documents"),
    path("applications/<int:application_id>/document-checklist/",
         views.ChecklistApi.as_view(), name="api-application-document-checklist"),
    path("applications/<int:application_id>/document-requirements/<int:requirement_id>/waive/",
         views.RequirementWaiveApi.as_view(), name="api-document-requirement-waive"),
    path("documents/<int:document_id>/", views.DocumentDetailApi.as_view(),
         name="api-document-detail"),
    path("documents/<int:document_id>/recheck/", views.DocumentRecheckApi.as_view(),
         name="api-document-recheck"),
    path("documents/<int:document_id>/waive/", views.DocumentWaiveApi.as_view(),
         name="api-document-waive"),
    path("documents/<int:document_id>/column-mapping/", ColumnMappingApi.as_view(),
         name="api-document-column-mapping"),
]

from django.urls import path

from apps.documents import requirement_workbench as wb
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

# Document requirements in the policy workbench (issue 17).
urlpatterns += [
    path("requirements/", wb.requirements_list_page, name="requirements-list"),
    path("requirements/import/", wb.requirements_import, name="requirements-import"),
    path("requirements/product/<slug:product_code>/next/", wb.requirements_draft_next,
         name="requirements-next"),
    path("requirements/<int:set_id>/", wb.requirements_page, name="requirements"),
    path("requirements/<int:set_id>/publish/", wb.requirements_publish,
         name="requirements-publish"),
    path("requirements/<int:set_id>/retire/", wb.requirements_retire,
         name="requirements-retire"),
    path("requirements/<int:set_id>/export.<str:fmt>", wb.requirements_export,
         name="requirements-export"),
]

from django.urls import path

from apps.products import views, workbench

app_name = "products"

urlpatterns = [
    path("", views.product_list_page, name="product-list"),
    path("<slug:code>/report/", views.threshold_report_page, name="threshold-report"),
    path("<slug:code>/report.csv", views.threshold_report_csv, name="threshold-report-csv"),
]

urlpatterns += [
    path("workbench/", workbench.workbench_page, name="workbench"),
    path("workbench/<slug:code>/draft/", workbench.draft_start, name="workbench-draft"),
    path("workbench/versions/<int:version_id>/", workbench.version_page,
         name="workbench-version"),
    path("workbench/versions/<int:version_id>/conditions/", workbench.condition_add,
         name="workbench-condition-add"),
    path("workbench/conditions/<int:row_id>/", workbench.condition_edit,
         name="workbench-condition"),
    path("workbench/conditions/<int:row_id>/remove/", workbench.condition_remove,
         name="workbench-condition-remove"),
    path("workbench/versions/<int:version_id>/publish/", workbench.version_publish,
         name="workbench-publish"),
    path("workbench/versions/<int:version_id>/retire/", workbench.version_retire,
         name="workbench-retire"),
    path("workbench/versions/<int:version_id>/export.<str:fmt>", workbench.version_export,
         name="workbench-export"),
    path("workbench/import/", workbench.version_import, name="workbench-import"),
]

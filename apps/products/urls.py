from django.urls import path

from apps.products import views

app_name = "products"

urlpatterns = [
    path("", views.product_list_page, name="product-list"),
    path("<slug:code>/report/", views.threshold_report_page, name="threshold-report"),
    path("<slug:code>/report.csv", views.threshold_report_csv, name="threshold-report-csv"),
]

from django.urls import include, path  # noqa: F401

app_name = "monitoring"

urlpatterns: list = []
urlpatterns += [path("", include("apps.monitoring.inspection_urls"))]

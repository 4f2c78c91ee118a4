from django.urls import include, path  # noqa: F401

urlpatterns: list = []
urlpatterns += [path("", include("apps.monitoring.api.inspection_urls"))]

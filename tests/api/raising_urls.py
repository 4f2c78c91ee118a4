"""The project's URLs plus an API view and a page that raise: to test the 500 handlers."""

from django.urls import path
from rest_framework.views import APIView

from config.urls import handler400, handler403, handler404, handler500  # noqa: F401
from config.urls import urlpatterns as project_urlpatterns


class RaisingApi(APIView):
    permission_classes = []

    def get(self, request):
        raise RuntimeError("secret-internal-detail")


def raising_page(request):
    raise RuntimeError("secret-internal-detail")


urlpatterns = [
    path("api/v1/raise/", RaisingApi.as_view()),
    path("raise/", raising_page),
    *project_urlpatterns,
]

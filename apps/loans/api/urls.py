from django.urls import path

from apps.loans.api import feed

urlpatterns: list = [
    # Core-banking feed (servicing).
    path("loans/feed/", feed.FeedImportApi.as_view(), name="api-loans-feed"),
    path("loans/feed/<int:import_id>/", feed.FeedImportDetailApi.as_view(),
         name="api-loans-feed-detail"),
]

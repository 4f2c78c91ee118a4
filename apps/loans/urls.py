from django.urls import path

from apps.loans import feed_views

app_name = "loans"

urlpatterns: list = [
    # Core-banking feed (servicing).
    path("feed/", feed_views.feed_imports, name="feed-imports"),
]

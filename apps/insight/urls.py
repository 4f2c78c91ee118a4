from django.urls import path

from apps.insight import views

app_name = "insight"

urlpatterns = [
    path("portfolio/", views.portfolio, name="portfolio"),
    path("portfolio/export/<slug:chart>.<str:fmt>", views.portfolio_export,
         name="portfolio-export"),
]

from django.urls import path

from apps.parties import views

app_name = "parties"

urlpatterns = [
    path("", views.enterprise_list_view, name="enterprise-list"),
    path("<int:enterprise_id>/", views.enterprise_detail, name="enterprise-detail"),
]

from django.urls import path

from apps.applications import views

app_name = "applications"

urlpatterns = [
    path("", views.pipeline, name="list"),
    path("mine/", views.my_work, name="mine"),
    path("new/", views.application_new, name="new"),
    path("<int:application_id>/", views.application_detail, name="detail"),
    path("<int:application_id>/edit/", views.application_edit, name="edit"),
    path("<int:application_id>/reassign/", views.application_reassign, name="reassign"),
    path("<int:application_id>/<slug:action>/", views.application_action, name="action"),
]

from django.urls import path

from apps.parties import views

app_name = "parties"

urlpatterns = [
    path("", views.enterprise_list_view, name="enterprise-list"),
    path("new/", views.enterprise_new, name="enterprise-new"),
    path("<int:enterprise_id>/", views.enterprise_detail, name="enterprise-detail"),
    path("<int:enterprise_id>/edit/", views.enterprise_edit, name="enterprise-edit"),
    path("<int:enterprise_id>/relations/new/", views.relationship_new,
         name="relationship-new"),
    path("<int:enterprise_id>/aliases/", views.party_aliases, name="party-aliases"),
]

from django.urls import path

from apps.investigations import reverification_views, views

app_name = "investigations"

urlpatterns = [
    path("<int:investigation_id>/", views.investigation_form, name="form"),
    path("<int:investigation_id>/review/", views.investigation_review, name="review"),
    path("<int:investigation_id>/start/", views.investigation_start, name="start"),
    path("<int:investigation_id>/check-in/", views.investigation_check_in, name="check-in"),
    path("<int:investigation_id>/check-out/", views.investigation_check_out, name="check-out"),
    path("<int:investigation_id>/submit/", views.investigation_submit, name="submit"),
    path("<int:investigation_id>/accept/", views.investigation_accept, name="accept"),
    path("<int:investigation_id>/return/", views.investigation_return, name="return"),
    path("application/<int:application_id>/assign/", views.investigation_assign,
         name="assign"),
    path("reverifications/", reverification_views.reverification_list_page,
         name="reverifications"),
    path("reverifications/<int:reverification_id>/", reverification_views.reverification_page,
         name="reverification"),
]

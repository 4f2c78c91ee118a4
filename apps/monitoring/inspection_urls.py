from django.urls import path

from apps.monitoring import inspection_views as views

urlpatterns = [
    path("inspections/", views.inspection_list_page, name="inspection_list"),
    path("inspections/<int:inspection_id>/", views.inspection_form, name="inspection_form"),
    path("inspections/<int:inspection_id>/start/", views.inspection_start,
         name="inspection_start"),
    path("inspections/<int:inspection_id>/submit/", views.inspection_submit,
         name="inspection_submit"),
    path("inspections/<int:inspection_id>/review/", views.inspection_review_page,
         name="inspection_review"),
    path("inspections/<int:inspection_id>/review/confirm/", views.inspection_review,
         name="inspection_review_confirm"),
    path("inspections/<int:inspection_id>/return/", views.inspection_return,
         name="inspection_return"),
]

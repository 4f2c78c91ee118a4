from django.urls import path

from apps.monitoring.api import inspection_views as views

urlpatterns = [
    path("inspections/", views.InspectionListApi.as_view(), name="api-inspection-list"),
    path("inspections/<int:inspection_id>/", views.InspectionDetailApi.as_view(),
         name="api-inspection-detail"),
    path("inspections/<int:inspection_id>/answers/<str:item_code>/",
         views.InspectionAnswerApi.as_view(), name="api-inspection-answer"),
    path("inspections/<int:inspection_id>/start/", views.InspectionStartApi.as_view(),
         name="api-inspection-start"),
    path("inspections/<int:inspection_id>/submit/", views.InspectionSubmitApi.as_view(),
         name="api-inspection-submit"),
    path("inspections/<int:inspection_id>/review/", views.InspectionReviewApi.as_view(),
         name="api-inspection-review"),
    path("inspections/<int:inspection_id>/return/", views.InspectionReturnApi.as_view(),
         name="api-inspection-return"),
]

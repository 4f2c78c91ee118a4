from django.urls import path

from apps.oversight import views

app_name = "oversight"

urlpatterns = [
    path("", views.home, name="home"),
    path("events/", views.event_search, name="events"),
    path("events.csv", views.events_csv, name="events-csv"),
    path("events.json", views.events_json, name="events-json"),
    path("events.xlsx", views.events_xlsx, name="events-xlsx"),
    path("exports/", views.job_list, name="jobs"),
    path("exports/<uuid:job_id>/", views.job_detail, name="job"),
    path("exports/<uuid:job_id>/download/", views.job_download, name="job-download"),
    path("applications/<int:application_id>/trail/", views.application_trail, name="trail"),
    path("applications/<int:application_id>/pack/", views.application_pack, name="pack"),
    path("applications/<int:application_id>/<slug:kind>/pdf/", views.application_pdf,
         name="pdf"),
    path("integrity/", views.integrity, name="integrity"),
]

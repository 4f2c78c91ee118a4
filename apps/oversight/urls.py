from django.urls import path

from apps.oversight import duty_rules_workbench as wb
from apps.oversight import exemption_views, views

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
    # Due-diligence exemption cases (尽职免责, issue #15).
    path("exemptions/", exemption_views.exemption_list, name="exemptions"),
    path("exemptions/dashboard/", exemption_views.exemption_dashboard,
         name="exemption-dashboard"),
    path("exemptions/batch/", exemption_views.exemption_batch, name="exemption-batch"),
    path("exemptions/<int:case_id>/", exemption_views.exemption_detail, name="exemption"),
    path("exemptions/<int:case_id>/pdf/", exemption_views.exemption_pdf, name="exemption-pdf"),
    path("exemptions/<int:case_id>/<slug:command>/", exemption_views.exemption_command,
         name="exemption-command"),
]

# Due-diligence duty rules in the policy workbench (issue 17).
urlpatterns += [
    path("duty-rules/", wb.duty_rules_list_page, name="duty-rules-list"),
    path("duty-rules/next/", wb.duty_rules_draft_next, name="duty-rules-next"),
    path("duty-rules/import/", wb.duty_rules_import, name="duty-rules-import"),
    path("duty-rules/<int:rule_set_id>/", wb.duty_rules_page, name="duty-rules"),
    path("duty-rules/<int:rule_set_id>/duties/", wb.duty_rule_add, name="duty-rule-add"),
    path("duty-rules/<int:rule_set_id>/publish/", wb.duty_rules_publish,
         name="duty-rules-publish"),
    path("duty-rules/<int:rule_set_id>/retire/", wb.duty_rules_retire, name="duty-rules-retire"),
    path("duty-rules/<int:rule_set_id>/export.<str:fmt>", wb.duty_rules_export,
         name="duty-rules-export"),
    path("duty-rules/duties/<int:row_id>/", wb.duty_rule_edit, name="duty-rule"),
    path("duty-rules/duties/<int:row_id>/remove/", wb.duty_rule_remove,
         name="duty-rule-remove"),
]

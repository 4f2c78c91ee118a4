from django.urls import path

from apps.investigations import (
    policy_views,
    reverification_views,
    template_workbench,
    views,
)

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
    path("<int:investigation_id>/request-reverification/",
         reverification_views.reverification_request_page, name="request-reverification"),
]

urlpatterns += [
    path("policy-values/", policy_views.policy_value_list_page, name="policy-values"),
    path("policy-values/new/", policy_views.policy_value_new, name="policy-value-new"),
    path("policy-values/export.<str:fmt>", policy_views.policy_values_export_file,
         name="policy-values-export"),
    path("policy-values/import/", policy_views.policy_values_import_file,
         name="policy-values-import"),
    path("policy-values/<int:value_id>/", policy_views.policy_value_page, name="policy-value"),
    path("policy-values/<int:value_id>/next/", policy_views.policy_value_draft_next,
         name="policy-value-next"),
    path("policy-values/<int:value_id>/publish/", policy_views.policy_value_publish,
         name="policy-value-publish"),
    path("policy-values/<int:value_id>/retire/", policy_views.policy_value_retire,
         name="policy-value-retire"),
]

# Checklist templates in the policy workbench (issue 17).
urlpatterns += [
    path("templates/", template_workbench.template_list_page, name="templates"),
    path("templates/import/", template_workbench.template_import_file, name="template-import"),
    path("templates/<int:template_id>/", template_workbench.template_page, name="template"),
    path("templates/<int:template_id>/next/", template_workbench.template_draft_next,
         name="template-next"),
    path("templates/<int:template_id>/check/", template_workbench.template_check,
         name="template-check"),
    path("templates/<int:template_id>/publish/", template_workbench.template_publish,
         name="template-publish"),
    path("templates/<int:template_id>/retire/", template_workbench.template_retire,
         name="template-retire"),
    path("templates/<int:template_id>/export.<str:fmt>", template_workbench.template_export_file,
         name="template-export"),
]

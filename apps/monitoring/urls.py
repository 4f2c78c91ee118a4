from django.urls import include, path

from apps.monitoring import rules_workbench as wb
from apps.monitoring import views

app_name = "monitoring"

urlpatterns = [
    path("", views.worklist, name="worklist"),
    path("review/", views.review, name="review"),
    path("branch/", views.branch_view, name="branch"),
    path("loans/<int:loan_id>/", views.loan_monitoring, name="loan"),
    path("loans/<int:loan_id>/propose/", views.loan_propose, name="loan-propose"),
    path("classifications/<int:classification_id>/<slug:act>/", views.classification_act,
         name="classification-act"),
    path("signals/<int:signal_id>/<slug:act>/", views.signal_act, name="signal-act"),
    path("actions/<int:action_id>/<slug:act>/", views.action_act, name="action-act"),
]
# The policy workbench's early-warning rules (issue 17).
urlpatterns += [
    path("signal-rules/", wb.signal_rules_list_page, name="signal-rules"),
    path("signal-rules/import/", wb.signal_rules_import, name="signal-rules-import"),
    path("signal-rules/export/<slug:fmt>/", wb.signal_rules_export, name="signal-rules-export"),
    path("signal-rules/draft/<str:code>/", wb.signal_rule_draft, name="signal-rule-draft"),
    path("signal-rules/<int:rule_id>/", wb.signal_rule_page, name="signal-rule"),
    path("signal-rules/<int:rule_id>/publish/", wb.signal_rule_publish,
         name="signal-rule-publish"),
    path("signal-rules/<int:rule_id>/retire/", wb.signal_rule_retire, name="signal-rule-retire"),
    path("level-actions/", wb.level_actions_list_page, name="level-actions-list"),
    path("level-actions/next/", wb.level_actions_draft_next, name="level-actions-next"),
    path("level-actions/import/", wb.level_actions_import, name="level-actions-import"),
    path("level-actions/<int:table_id>/", wb.level_actions_page, name="level-actions"),
    path("level-actions/<int:table_id>/rows/", wb.level_action_add, name="level-action-add"),
    path("level-actions/<int:table_id>/publish/", wb.level_actions_publish,
         name="level-actions-publish"),
    path("level-actions/<int:table_id>/retire/", wb.level_actions_retire,
         name="level-actions-retire"),
    path("level-actions/<int:table_id>/export/<slug:fmt>/", wb.level_actions_export,
         name="level-actions-export"),
    path("level-actions/rows/<int:row_id>/", wb.level_action_edit, name="level-action"),
    path("level-actions/rows/<int:row_id>/remove/", wb.level_action_remove,
         name="level-action-remove"),
]
urlpatterns += [path("", include("apps.monitoring.inspection_urls")),
                path("", include("apps.monitoring.covenant_urls"))]

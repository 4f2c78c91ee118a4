"""Version 1 of the due-diligence duties (domain reference §4.6, §2.2: 三查 and 双人调查).

Data, not code: a bank changes a parameter or a label by adding version 2.
"""

import datetime as dt

from django.db import migrations

SOURCE = "Domain reference §4.6 (尽职免责), §2.2 (三查/四控), §3.1 (双人调查)"

RULES = [
    ("investigation-items", "Investigation items answered with their evidence",
     "调查事项逐项填写并附证据", "investigation_answered", {"require_accepted": True}),
    ("two-officer-visit", "Two-officer site visit (both checked in)",
     "双人实地调查(两人均签到)", "two_officer_visit", {"min_officers": 2}),
    ("evidence-present", "Collected documents present and not quarantined",
     "资料收集齐全且未被隔离", "evidence_present", {"min_documents": 1}),
    ("cross-checks", "Cross-checks run; red flags resolved or explained",
     "交叉核验已执行,预警已解决或说明", "cross_checks_resolved",
     {"explanation_min_length": 10}),
    ("independent-review", "Independent review (reviewer neither investigated nor manages)",
     "独立审查(审查人未参与调查亦非客户经理)", "independent_review",
     {"actions": ["investigation.accepted", "review.opinion_recorded",
                  "application.sent_to_approval"]}),
    ("sign-offs", "Decision signed off by an authorised person other than the preparers",
     "由经办人以外的有权人签批", "sign_offs",
     {"actions": ["application.approved", "application.rejected"],
      "sign_off_actions": ["approval.signed", "committee.vote_cast"]}),
    ("post-loan-inspections", "Post-loan inspections done when due",
     "贷后检查按期完成", "post_loan_inspections", {}),
]


def seed(apps, schema_editor):
    rule_set_model = apps.get_model("oversight", "DutyRuleSet")
    rule_model = apps.get_model("oversight", "DutyRule")
    rule_set, _ = rule_set_model.objects.get_or_create(
        version=1, defaults={"effective_from": dt.date(2026, 1, 1), "source_citation": SOURCE})
    for order, (code, en, zh, evaluator, parameters) in enumerate(RULES, start=1):
        rule_model.objects.get_or_create(
            rule_set=rule_set, code=code,
            defaults={"label_en": en, "label_zh": zh, "evaluator": evaluator,
                      "parameters": parameters, "order": order})


class Migration(migrations.Migration):
    dependencies = [("oversight", "0001_initial")]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]

"""Court hits as cross-check findings of the investigation (registered in DatahubConfig).

For the application's enterprise, the newest successful court pull (paid, imported or answered
from the cache) is read; each dishonest-debtor listing and each open enforcement case is one
finding, its severity a policy value, its inputs the case and its provenance (source, query
id, fetch time, format version, pull). No pull yet → no finding: the hub cannot tell "clean"
from "not asked", and the investigation's own items still ask the officer.
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from django.utils.translation import override

from apps.datahub.models import Pull, Record
from apps.datahub.states import PullState, Source
from apps.investigations.controls.policies import ControlNotConfigured, severity
from apps.investigations.rules import Finding


def _both(message, **values) -> tuple[str, str]:
    with override("en"):
        en = str(message) % values
    with override("zh-hans"):
        zh = str(message) % values
    return en, zh


def court_findings(application_id: int, *, policy) -> list[Finding]:
    from apps.applications.models import Application

    enterprise_id = (Application.objects.filter(pk=application_id)
                     .values_list("enterprise_id", flat=True).first())
    if enterprise_id is None:
        return []
    pull = (Pull.objects.filter(enterprise_id=enterprise_id, source=Source.COURT,
                                state=PullState.SUCCEEDED)
            .select_related("answered_by").order_by("-fetched_at", "-id").first())
    if pull is None:
        return []
    paid = pull.answered_by or pull
    findings = []
    for record in Record.objects.filter(pull=paid, kind__in=["dishonest", "enforcement"]):
        data = record.data
        if record.kind == "enforcement" and data.get("status") != "open":
            continue
        dishonest = record.kind == "dishonest"
        key = ("datahub.finding.dishonest.severity" if dishonest
               else "datahub.finding.enforcement.severity")
        try:
            level = severity(policy, key)
        except ControlNotConfigured:
            level = "R2"
        if dishonest:
            en, zh = _both(_("Listed as a dishonest debtor (case %(case)s, %(court)s, "
                             "listed %(date)s)."), case=data["case_no"], court=data["court"],
                           date=data["listed_on"])
        else:
            en, zh = _both(_("Open court enforcement case %(case)s (%(court)s) for "
                             "%(amount)s CNY."), case=data["case_no"], court=data["court"],
                           amount=data["amount"])
        findings.append(Finding(
            kind="cross_check", code="COURT_DISHONEST" if dishonest else "COURT_ENFORCEMENT",
            item=None, severity=level, message_en=en, message_zh=zh,
            explanation=f"{record.source}/{record.kind} {record.key} "
                        f"(query {record.query_id}, {record.format_version}, "
                        f"fetched {record.fetched_at.isoformat()})",
            inputs={"record": data, "provenance": {**record.provenance,
                                                   "answered_by_pull": pull.pk}},
            policies={key: level}))
    return findings

"""Early-warning signals from outside data (§4.3): W02 (credit bureau), W10 (court), W11
(pledges of equity), W12 (legal representative, shareholders), W07 (tax paid) and W08
(electricity and water use) from pulled tax and utility months.

The data hub finds what changed between two answers of a source (apps/datahub/changes.py:
facts only, each change a `code` and a `kind`) and announces each change for every loan the
book carries for the enterprise through `apps.datahub.hooks`. This module listens: the level
of each kind of change is policy data (`EXTERNAL_POLICY`, a new version to change it; 0
switches a kind off), never a constant here, and the signal is raised through
`signal_raise`, which de-duplicates per loan and code, opens the mandatory actions and
writes the `signal.raised` audit event scoped to the loan's application, enterprise and
branch. The rules themselves (`EXTERNAL_RULES`) are `SignalRule` rows like every other.

W07 and W08 are rules on series, not single facts: when a tax or utility answer brings new
months, the listener reads the loan's monthly series as the monthly run reads them
(`apps.monitoring.services.run.monthly_series`: every month pulled so far for the enterprise,
through `apps.datahub.selectors.pulled_months`, merged with the months parsed from the
loan's documents, the later of the two winning a month) and applies the same evaluators
(`evaluators.w07_tax_drop` / `w08_utility_drop`: the last `signal.w0x.window_months` against
the same months a year earlier, firing above `signal.w0x.drop_ratio_gt`, both seeded by
`apps.monitoring.seed` with their citation); W08 is read on electricity and on water. The
signal is raised at the rule's level; a series that does not fire raises nothing.

Monitoring sits above the hub in the layers: it hears of changes through the hook and reads
the pulled months through the hub's selector.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.db.models import Q
from django.utils import timezone

from apps.core.policy import Evidence
from apps.monitoring.policy import MissingPolicy

G, V = Evidence.DESIGN, Evidence.VERIFIED
PINGGU = "m.pinggu.org/bbs/thread-6833739-1-1.html"

# (code, kind of change) → the policy key holding its level.
LEVEL_KEYS: dict[tuple[str, str], str] = {
    ("W02", "overdue"): "signal.w02.new_overdue.level",
    ("W02", "npa"): "signal.w02.npa_elsewhere.level",
    ("W10", "dishonest"): "signal.w10.dishonest.level",
    ("W10", "enforcement"): "signal.w10.enforcement.level",
    ("W11", "pledge"): "signal.w11.pledge.level",
    ("W12", "legal_representative"): "signal.w12.legal_representative.level",
    ("W12", "shareholders"): "signal.w12.shareholders.level",
}

EXTERNAL_POLICY = [
    # key, value, unit, evidence, citation
    ("signal.w02.new_overdue.level", "2", "level", G,
     "§4.3 W02: any new overdue at another bank → L2 [G]"),
    ("signal.w02.npa_elsewhere.level", "3", "level", G,
     "§4.3 W02: NPA at another bank → L3 [G]"),
    ("signal.w10.dishonest.level", "3", "level", G,
     "§4.3 W10: listed as a dishonest debtor (失信) → L3 [G]"),
    ("signal.w10.enforcement.level", "3", "level", G,
     "§4.3 W10: court enforcement → L3 [G]"),
    ("signal.w11.pledge.level", "2", "level", G,
     "§4.3 W11: equity pledged → L2/L3 [G]; L2 by default"),
    ("signal.w12.legal_representative.level", "2", "level", V,
     f"§4.3 W12 法定代表人更换 → L2 [V {PINGGU}]"),
    ("signal.w12.shareholders.level", "2", "level", G,
     "§4.3 W12: change of a major shareholder → L2 [G]"),
]

EXTERNAL_RULES = [
    # code, level, thresholds, implies_floor, source, evidence, citation, en, zh, desc_en, desc_zh
    ("W02", 3, ["signal.w02.new_overdue.level", "signal.w02.npa_elsewhere.level"], True,
     "credit-bureau refresh", G, "§4.3 W02 [G]", "Overdue or NPA at other banks",
     "他行逾期或不良",
     "The credit report shows a new overdue (L2) or a non-performing loan (L3) at another "
     "bank.", "征信报告显示在他行新增逾期（L2）或不良贷款（L3）。"),
    ("W10", 3, ["signal.w10.dishonest.level", "signal.w10.enforcement.level"], True,
     "court data", G, "§4.3 W10 [G]", "Court enforcement or dishonest-debtor listing",
     "被执行或列入失信名单",
     "A court search found a new enforcement case or a dishonest-debtor listing.",
     "法院查询发现新的被执行案件或失信被执行人名单。"),
    ("W11", 2, ["signal.w11.pledge.level"], True, "business registry", G, "§4.3 W11 [G]",
     "Equity pledged or frozen", "股权出质或冻结",
     "The business registry shows a new pledge of the enterprise's equity.",
     "工商登记显示企业股权新增出质。"),
    ("W12", 2, ["signal.w12.legal_representative.level", "signal.w12.shareholders.level"],
     True, "business registry", V, f"§4.3 W12 [V {PINGGU}]",
     "Change of legal representative or shareholders", "法定代表人或股东变更",
     "The business registry shows a new legal representative or a change of shareholders.",
     "工商登记显示法定代表人更换或股东变更。"),
]


def _level(key: str, *, on: dt.date) -> int:
    from apps.investigations.models import PolicyValue

    row = (PolicyValue.objects.filter(key=key, effective_from__lte=on)
           .filter(Q(effective_to__isnull=True) | Q(effective_to__gt=on))
           .order_by("-version").values_list("value", flat=True).first())
    if row is None:
        raise MissingPolicy(key)
    return int(Decimal(row))


# Kind of change → (evaluator, the monthly record's fields it reads, what they are).
SERIES_KINDS = {
    ("W07", "tax_series"): ("tax", ("tax_paid",)),
    ("W08", "utility_series"): ("utility", ("kwh", "water_m3")),
}


def series_observations(code: str, series_by_field: dict[str, dict[str, Decimal]], *,
                        policy) -> list:
    """The evaluator's observation for each field's series (W07: tax paid; W08: electricity,
    water), those that fire first."""
    from apps.monitoring import evaluators as ev

    evaluate = ev.w07_tax_drop if code == "W07" else ev.w08_utility_drop
    found = []
    for field, series in series_by_field.items():
        observation = evaluate(series, policy)
        observation.details["field"] = field
        found.append(observation)
    return sorted(found, key=lambda o: -o.level)


def _series_raise(*, loan_id: int, code: str, kind: str, source: str):
    from apps.loans.models import Loan
    from apps.monitoring.policy import Policy
    from apps.monitoring.services.run import _loan_stubs, monthly_series
    from apps.monitoring.services.signals import signal_raise

    _hub_source, fields = SERIES_KINDS[(code, kind)]
    # The months the monthly run reads too (pulled and uploaded, the later winning a month):
    # what raises here is what the next run keeps open.
    [loan] = _loan_stubs(0, 0, Loan.objects.filter(pk=loan_id)).values()
    timed = monthly_series({loan.application_id: loan}).get(loan.application_id, {})
    series = {f: {month: value for month, (_at, value, _o) in timed.get(f, {}).items()}
              for f in fields}
    fired = [o for o in series_observations(code, series, policy=Policy()) if o.level > 0]
    if not fired:
        return None
    o = fired[0]
    observed = (f"{o.details['field']} {', '.join(o.details['months'])}: {o.observed} "
                f"against {o.baseline} a year earlier (−{o.details['drop_ratio']})")
    return signal_raise(loan_id=loan_id, code=code, observed=observed, source=source,
                        baseline=o.baseline)


def external_change_raise(*, loan_id: int, code: str, kind: str, source: str, observed: str,
                          details: dict | None = None, **_ignored):
    """The hub's change listener: one change on one loan → its signal at the policy's level
    (None when the kind is not a signal input or its level is 0). Raises `MissingPolicy` when
    the level is not in force: the hub logs it and keeps the pull (see its hooks)."""
    from apps.monitoring.services.signals import signal_raise

    if (code, kind) in SERIES_KINDS:
        return _series_raise(loan_id=loan_id, code=code, kind=kind, source=source)
    key = LEVEL_KEYS.get((code, kind))
    if key is None:
        return None
    level = _level(key, on=timezone.localdate())
    if level <= 0:
        return None
    return signal_raise(loan_id=loan_id, code=code, observed=observed, source=source,
                        level=min(level, 3), baseline=(details or {}).get("baseline", ""))


def connect() -> None:
    """Listen to the data hub's changes (called from MonitoringConfig.ready)."""
    from apps.datahub.hooks import register_change_listener

    register_change_listener(external_change_raise)


def seed_external_signals(*, effective_from: dt.date = dt.date(2023, 7, 1)) -> dict[str, int]:
    """Version 1 of the levels and of the W02/W10–W12 rules where none is on file
    (idempotent: existing rows, any version, are left alone)."""
    from apps.investigations.models import PolicyValue
    from apps.monitoring.models import SignalRule

    counts = {"policy": 0, "rules": 0}
    for key, value, unit, evidence, citation in EXTERNAL_POLICY:
        if not PolicyValue.objects.filter(key=key).exists():
            PolicyValue.objects.create(key=key, value=Decimal(value), unit=unit, version=1,
                                       effective_from=effective_from, evidence=evidence,
                                       source_citation=citation)
            counts["policy"] += 1
    for (code, level, keys, floor, source, evidence, citation, en, zh, desc_en,
         desc_zh) in EXTERNAL_RULES:
        if not SignalRule.objects.filter(code=code).exists():
            SignalRule.objects.create(code=code, version=1, level=level, thresholds=keys,
                                      implies_floor=floor, source=source, evidence=evidence,
                                      source_citation=citation, name_en=en, name_zh=zh,
                                      description_en=desc_en, description_zh=desc_zh,
                                      effective_from=effective_from)
            counts["rules"] += 1
    return counts

"""Default monitoring policy: thresholds, signal rules and level → action table (idempotent).

Values come from the domain reference with their evidence tags (§4.3, §4.4, §5.2, §5.3,
§4.6). A bank replaces them with its own; new values are new versions, never edits.
"""

import datetime as dt
from decimal import Decimal

from django.db import transaction

from apps.core.policy import Evidence
from apps.monitoring.covenant_policy import COVENANT_POLICY
from apps.monitoring.models import LevelActionRule, LevelActionTable, SignalRule
from apps.monitoring.policy import K
from apps.monitoring.states import ActionKind as A
from apps.policy.versioning import version_publish

V, M, G = Evidence.VERIFIED, Evidence.UNVERIFIED, Evidence.DESIGN
ORDER = "《商业银行金融资产风险分类办法》 CBIRC/PBOC Order 2023 No. 1"

POLICY = [
    # key, value, unit, evidence, citation
    (K.FLOOR_SPECIAL_MENTION_DPD_GT, "0", "days", M,
     f"{ORDER}: any overdue ≥ 关注 (technical-overdue exclusion unverified); §5.2"),
    (K.FLOOR_SUBSTANDARD_DPD_GT, "90", "days", V,
     f"{ORDER}; China Daily 2023-02-12; §5.2 ('> 90 vs ≥ 90' boundary is [M])"),
    (K.FLOOR_DOUBTFUL_DPD_GT, "270", "days", V, f"{ORDER}; youhuohao.com/kepu/371753.html; §5.2"),
    (K.FLOOR_LOSS_DPD_GT, "360", "days", V, f"{ORDER}; §5.2"),
    (K.CROSS_DEFAULT_SHARE_GT, "0.10", "ratio", V,
     f"{ORDER} Art. 7: > 10% of a non-retail debtor's claims NPA ⇒ all NPA; §5.2"),
    (K.RESTRUCTURED_MONTHS, "12", "months", M, f"{ORDER}: restructuring observation period; §5.3"),
    (K.RESTRUCTURED_FLOOR, "3", "category rank", M,
     f"{ORDER}: restructured assets ≥ 次级 during observation; §5.2"),
    (K.SIGNAL_FLOOR_L2, "2", "category rank", G, "Domain reference §4.4: L2 ⇒ ≥ 关注"),
    (K.SIGNAL_FLOOR_L3, "3", "category rank", G, "Domain reference §4.4: L3 ⇒ ≥ 次级"),
    (K.UPGRADE_CLEAN_MONTHS, "6", "months", G, "Domain reference §5.3: upgrades need a clean "
     "repayment record (no days past due) for this long"),
    (K.RUN_CHUNK_SIZE, "5000", "loans", G, "CONVENTIONS §8: one task per 5–10k loans"),
    (K.RUN_CHUNK_STUCK_MINUTES, "30", "minutes", G, "CONVENTIONS §4: re-send lost chunks"),
    (K.W01_L1, "1", "days", V, "Domain reference §4.3 W01 [V bsmz.net/gongwen/655337.html]"),
    (K.W01_L2, "30", "days", V, "Domain reference §4.3 W01 [V bsmz]"),
    (K.W01_L3, "90", "days", V, "Domain reference §4.3 W01 [V bsmz]"),
    (K.W03_MONTHS_DOWN, "3", "months", V,
     "§4.3 W03 主营业务收入连续三个月下降 [V m.pinggu.org/bbs/thread-6833739-1-1.html]"),
    (K.W07_WINDOW, "3", "months", G, "§4.3 W07: over 3 months, year on year"),
    (K.W07_DROP, "0.30", "ratio", G, "§4.3 W07 纳税额大幅度下降 [V pinggu]; 30% [G]"),
    (K.W08_WINDOW, "3", "months", G, "§4.3 W08: over 3 months, year on year"),
    (K.W08_DROP, "0.30", "ratio", G, "§4.3 W08 用电、用水量大幅度下降 [V pinggu]; 30% [G]"),
    (K.W09_WINDOW, "3", "months", G, "§4.3 W09: 3-month effective inflow"),
    (K.W09_RATIO_LT, "0.60", "ratio", G, "§4.3 W09: < 60% of the pre-loan baseline"),
    (K.SCORE_DROP, "30", "points", G, "Design default: re-score this many points below the "
     "score at decision (§7.3 monitoring)"),
    (K.NPL_BANK_RATIO, "0.015", "ratio", G, "The bank's overall NPL ratio: set by finance "
     "each quarter (design placeholder)"),
    (K.NPL_TOLERANCE_PP, "0.03", "ratio", V, "§4.6 NPL tolerance: + 3 pp over the bank's "
     "overall NPL ratio [V lnmlw.com/Loanintermediary/mjobepxsyg.html]"),
    (K.deadline(1), "5", "days", G, "§4.4 L1 SLA 5 working days (counted as calendar days)"),
    (K.deadline(2), "10", "days", G, "§4.4 L2 SLA 10 days"),
    (K.deadline(3), "5", "days", G, "§4.4 L3 SLA 3–5 days"),
    *COVENANT_POLICY,  # covenant test frequencies, reminders, escalation, annual review
]

PINGGU = "m.pinggu.org/bbs/thread-6833739-1-1.html"
SIGNAL_RULES = [
    # code, level, thresholds, implies_floor, source, evidence, citation, en, zh, desc_en, desc_zh
    ("W01", 3, [K.W01_L1, K.W01_L2, K.W01_L3], False, "core banking", V,
     "§4.3 W01 [V bsmz.net/gongwen/655337.html]", "Payment overdue", "本息逾期",
     "Principal or interest past due: L1 from the first day, L2 from 30 days, L3 from 90.",
     "本金或利息逾期：1天起L1，30天起L2，90天起L3。"),
    ("W03", 2, [K.W03_MONTHS_DOWN], True, "tax records", V, f"§4.3 W03 [V {PINGGU}]",
     "Revenue decline", "主营业务收入下降",
     "Main revenue (tax records) down several months in a row.",
     "主营业务收入（纳税记录）连续数月下降。"),
    ("W07", 2, [K.W07_WINDOW, K.W07_DROP], True, "tax records", G, f"§4.3 W07 [V {PINGGU}; G]",
     "Tax paid drops sharply", "纳税额大幅下降",
     "Tax paid over the last months is far below the same months a year earlier.",
     "近几个月纳税额较上年同期大幅下降。"),
    ("W08", 2, [K.W08_WINDOW, K.W08_DROP], True, "utility records", G,
     f"§4.3 W08 [V {PINGGU}; G]", "Electricity use drops sharply", "用电量大幅下降",
     "Electricity use over the last months is far below the same months a year earlier.",
     "近几个月用电量较上年同期大幅下降。"),
    ("W09", 2, [K.W09_WINDOW, K.W09_RATIO_LT], True, "bank statements", G, "§4.3 W09 [G]",
     "Account inflows fall", "账户流入下降",
     "Inflows over the last months are well below the monthly inflows before the loan.",
     "近几个月账户流入明显低于贷前月均流入。"),
    ("W17", 3, [], True, "inspections", V, "§4.3 W17 [V m.yourbin.com/bu4femvc.html]",
     "Loan used contrary to the agreed purpose", "贷款挪用",
     "The first check found the funds used for another purpose than agreed.",
     "首次检查发现贷款未按约定用途使用。"),
    ("W18", 2, [], True, "inspections", V, "§4.3 W18 [V yourbin]",
     "Borrower obstructs inspection", "借款人不配合检查",
     "The borrower refused or obstructed a post-loan inspection.",
     "借款人拒绝或阻挠贷后检查。"),
    ("W23", 2, [K.SCORE_DROP], True, "re-scoring", G, "Design default (issue #15)",
     "Score deterioration on re-scoring", "重新评分恶化",
     "The latest score is well below the score the loan was approved on.",
     "最新评分明显低于审批时的评分。"),
    # §4.1: "A missed deadline is itself a signal" (counts against the on-time rate, §4.5);
    # it does not worsen the loan's category by itself.
    ("W24", 1, [], False, "inspections", G, "§4.1 missed inspection deadline [G]",
     "Post-loan inspection overdue", "贷后检查逾期未做",
     "A scheduled post-loan inspection passed its due date without being done.",
     "计划的贷后检查已过期限仍未完成。"),
    # §6.3: "A breach raises a signal"; confirmed by a second person before it is raised.
    ("W25", 2, [], True, "covenant checks", G, "§6.3 covenant breach → signal [G]",
     "Covenant breached", "违反贷款承诺",
     "A covenant test found the borrower in breach, confirmed by a second person.",
     "贷款承诺检查发现借款人违约，并经第二人确认。"),
    # Like W24: a missed duty counts against the officer, not against the loan's category.
    ("W26", 1, [], False, "covenant checks and annual reviews", G,
     "§6.3 / §4.1 missed covenant test or annual review [G]",
     "Covenant check or annual review overdue", "贷款承诺检查或年审逾期未做",
     "A covenant check or annual review passed its due date without being submitted.",
     "贷款承诺检查或年审已过期限仍未提交。"),
]

ACTIONS_V1 = {1: [A.CONTACT],
              2: [A.CONTACT, A.SPECIAL_CHECK, A.STOP_DRAWDOWNS, A.EXTRA_COLLATERAL],
              3: [A.CONTACT, A.SPECIAL_CHECK, A.FREEZE, A.WORKOUT]}


@transaction.atomic
def seed_monitoring(*, effective_from: dt.date = dt.date(2023, 7, 1)) -> dict[str, int]:
    """Create what is missing; existing rows (any version) are left alone."""
    from apps.investigations.models import PolicyValue

    counts = {"monitoring policy": 0, "signal rules": 0, "level actions": 0}
    for key, value, unit, evidence, citation in POLICY:
        if PolicyValue.objects.filter(key=key).exists():
            continue
        PolicyValue.objects.create(key=key, value=Decimal(value), unit=unit, version=1,
                                   effective_from=effective_from, evidence=evidence,
                                   source_citation=citation)
        counts["monitoring policy"] += 1
    for (code, level, keys, floor, source, evidence, citation, en, zh, desc_en,
         desc_zh) in SIGNAL_RULES:
        if SignalRule.objects.filter(code=code).exists():
            continue
        SignalRule.objects.create(code=code, version=1, level=level, thresholds=keys,
                                  implies_floor=floor, source=source, evidence=evidence,
                                  source_citation=citation, name_en=en, name_zh=zh,
                                  description_en=desc_en, description_zh=desc_zh,
                                  effective_from=effective_from)
        counts["signal rules"] += 1
    # The inspection schedule's policy (first check, routine, special check after L2/L3): a
    # "special check" action needs it to schedule the check.
    from apps.monitoring.schedule_policy import seed_schedule_policies

    seed_schedule_policies()
    # W02 and W10–W12 from the data hub's refreshes (apps/monitoring/external_signals.py).
    from apps.monitoring.external_signals import seed_external_signals

    seed_external_signals(effective_from=effective_from)
    if not LevelActionTable.objects.exists():
        # Drafted and published by the system (actor None), through the one publish service.
        citation = "Domain reference §4.4 mandatory actions [G]"
        table = LevelActionTable.objects.create(version=1, effective_from=effective_from,
                                                source_citation=citation)
        for level, kinds in ACTIONS_V1.items():
            for kind in kinds:
                LevelActionRule.objects.create(
                    table=table, level=level, kind=kind, deadline_policy_key=K.deadline(level),
                    evidence=G, source_citation=citation)
                counts["level actions"] += 1
        version_publish(model=LevelActionTable, pk=table.pk, actor=None,
                        effective_from=effective_from)
    return counts

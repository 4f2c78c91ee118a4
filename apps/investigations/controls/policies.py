"""The policy values the anti-box-ticking controls read (domain reference §0.2, §3.4).

Every threshold and every severity is a `PolicyValue` row, seeded here with its evidence tag
and source, never a constant in the controls: a bank changes them by publishing a new version.
Severities are stored as numbers (1 = R1 … 3 = R3) because policy values are decimals.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from apps.investigations.models import PolicyValue

_REF = "Domain reference"

# key, value, unit, evidence, source, description (en)
CONTROL_POLICIES: list[tuple[str, str, str, str, str, str]] = [
    ("control.photo.site_radius_m", "500", "m", "G", f"{_REF} §3.3 C1: default X = 500 m [G]",
     "Site photos must be taken within this distance of the operating address"),
    ("control.photo.off_site.severity", "3", "severity", "G", f"{_REF} §3.3 C1 → R3",
     "Severity of a photo taken away from the site"),
    ("control.photo.time_tolerance_minutes", "30", "minutes", "G",
     f"{_REF} §3.3 C1 (EXIF time ≠ visit time); tolerance [G]",
     "Allowed clock gap around the investigation window for a photo's capture time"),
    ("control.photo.outside_window.severity", "3", "severity", "G", f"{_REF} §3.3 C1 → R3",
     "Severity of a photo taken outside the investigation window"),
    ("control.photo.device_gap_m", "300", "m", "G", f"{_REF} §3.4 (geofence); distance [G]",
     "Largest accepted gap between the photo's GPS and the phone's position at upload"),
    ("control.photo.device_gap.severity", "2", "severity", "G",
     "Issue 4: disagreements flagged [G]",
     "Severity of a photo whose GPS and the phone's position disagree"),
    ("control.photo.missing_metadata.severity", "2", "severity", "G",
     f"{_REF} §3.2 PHOTO: EXIF + GPS + server timestamp required",
     "Severity of a photo without capture time or position"),
    ("control.photo.unchecked.severity", "2", "severity", "G",
     "Issue 4: nothing passes unchecked [G]",
     "Severity of a photo the document checks have not read yet, or cannot find"),
    ("control.photo.phash_max_distance", "6", "bits", "G",
     f"{_REF} §3.4 (perceptual hash); distance of 64-bit pHash [G]",
     "Perceptual hashes at most this many bits apart are the same picture"),
    ("control.photo.reuse.severity", "3", "severity", "G", f"{_REF} §3.4 → R3 at pre-loan",
     "Severity of a photo reused from another application"),
    ("control.photo.duplicate.severity", "2", "severity", "G", f"{_REF} §3.4 [G]",
     "Severity of the same picture uploaded twice in one file"),
    ("control.photo.fingerprint_max_distance", "16", "bits", "G",
     f"{_REF} §3.4 (near-duplicate reused from another file); issue 19: distance of a "
     "fingerprint window pair (64-bit pHash), measured in docs/controls/evidence.md [G]",
     "Fingerprint windows at most this many bits apart agree"),
    ("control.photo.fingerprint_candidate_distance", "12", "bits", "G",
     f"{_REF} §3.4; issue 19: a window pair sharing an index band and this close makes a "
     "photo a candidate (bounds the candidates per lookup in a store of a million) [G]",
     "Largest distance of the window pair through which a candidate photo is found"),
    ("control.photo.fingerprint_min_pairs", "10", "pairs", "G",
     f"{_REF} §3.4; issue 19: an edited copy agrees on ≥ 15 window pairs, a different picture "
     "on ≤ 6 (measured, docs/controls/evidence.md) [G]",
     "Least number of agreeing window pairs for two photos to be the same picture, edited"),
    ("control.photo.edited_reuse.severity", "3", "severity", "G",
     f"{_REF} §3.4 → R3 (reused from another file)",
     "Severity of an edited copy of a photo from another file or an earlier stage"),
    ("control.narrative.similarity_max", "0.80", "ratio", "G",
     f"{_REF} §3.3 J3: different client's report > 0.8 → R2 [G]",
     "Largest accepted similarity of a narrative answer to another client's report"),
    ("control.narrative.severity", "2", "severity", "G", f"{_REF} §3.3 J3 → R2",
     "Severity of a narrative copied from another report"),
    ("control.narrative.min_chars", "40", "characters", "G", "Design default [G]",
     "Narratives shorter than this are not compared (too little text to judge)"),
    ("control.narrative.candidates", "500", "answers", "G",
     "Design default [G]: bounds the comparison cost per item",
     "How many recent answers of the same item (and of the same officers) are compared"),
    ("control.narrative.sentence_match_min", "0.70", "ratio", "G",
     f"{_REF} §3.3 J3, §3.4 报告千篇一律; issue 19: Dice of a sentence pair after synonym folding; "
     "0.70 measured (docs/controls/evidence.md) [G]",
     "Sentences at least this similar (after synonyms are folded) count as the same passage"),
    ("control.narrative.reworded_share_max", "0.60", "ratio", "G",
     f"{_REF} §3.3 J3 (> 0.8 verbatim); issue 19: share of the text restating another client's "
     "report, 0.60 measured (docs/controls/evidence.md) [G]",
     "Largest accepted share of a narrative that restates another client's report"),
    ("control.narrative.reworded.severity", "2", "severity", "G", f"{_REF} §3.3 J3 → R2",
     "Severity of a narrative reworded from another client's report"),
    ("control.site.min_minutes", "60", "minutes", "G",
     f"{_REF} §3.4: ≥ 60 min for a first visit [G]",
     "Minimum time on site for each officer"),
    ("control.site.short_visit.severity", "2", "severity", "G", f"{_REF} §3.4 [G]",
     "Severity of a visit shorter than the minimum, or without check-out"),
    ("control.site.check_in_off_site.severity", "2", "severity", "G", f"{_REF} §3.4 geofence [G]",
     "Severity of a check-in away from the operating address"),
    ("control.visit.min_overlap_minutes", "40", "minutes", "G",
     f"{_REF} §3.4 two-officer rule (双人调查) and ≥ 60 min on site; issue 19: both officers on "
     "site at the same time; two thirds of the 60 minutes, measured in "
     "docs/controls/evidence.md [G]",
     "Least time both officers must be on site at the same time"),
    ("control.visit.not_together.severity", "2", "severity", "G",
     f"{_REF} §3.4 two-officer rule [G]",
     "Severity of a visit the two officers did not make together"),
    ("control.section.min_seconds_per_item", "15", "seconds", "G", "Design default [G]",
     "Least plausible time per answer within a section"),
    ("control.section.min_items", "3", "answers", "G", "Design default [G]",
     "Sections with fewer answers are not timed"),
    ("control.section.rushed.severity", "1", "severity", "G", "Design default [G]",
     "Severity of a section filled implausibly fast"),
    ("control.evidence.unavailable.severity", "2", "severity", "G",
     "Issue 4: a control that cannot run says so [G]",
     "Severity when document checks are not available to the controls"),
    ("control.not_configured.severity", "2", "severity", "G", "Design default [G]",
     "Severity when a control cannot run because a policy value is missing"),
    ("control.reverify.sample_rate", "0.05", "ratio", "G", f"{_REF} §3.4: e.g. 5% [G]",
     "Share of accepted investigations re-verified by a team lead"),
]

# The Chinese explanation of each control policy (issue 19: every control's values explained in
# both languages), seeded with the English one.
DESCRIPTIONS_ZH: dict[str, str] = {
    "control.photo.site_radius_m": "现场照片须在距经营地址此距离之内拍摄",
    "control.photo.off_site.severity": "照片拍摄地点不在现场时的风险等级",
    "control.photo.time_tolerance_minutes": "照片拍摄时间可超出调查时段前后的最大分钟数",
    "control.photo.outside_window.severity": "照片拍摄时间在调查时段之外时的风险等级",
    "control.photo.device_gap_m": "照片GPS位置与上传时手机位置之间可接受的最大距离",
    "control.photo.device_gap.severity": "照片GPS位置与手机位置不一致时的风险等级",
    "control.photo.missing_metadata.severity": "照片缺少拍摄时间或位置信息时的风险等级",
    "control.photo.unchecked.severity": "照片尚未经资料检查读取或无法找到时的风险等级",
    "control.photo.phash_max_distance": "感知哈希相差不超过此位数即视为同一张照片",
    "control.photo.reuse.severity": "照片取自其他申请时的风险等级",
    "control.photo.duplicate.severity": "同一档案中重复上传同一张照片时的风险等级",
    "control.photo.fingerprint_max_distance": "照片指纹窗口相差不超过此位数即视为一致",
    "control.photo.fingerprint_candidate_distance": "作为候选照片检出时窗口对的最大距离（位）",
    "control.photo.fingerprint_min_pairs": ("两张照片被判定为同一照片（经编辑）所需的"
                                            "最少一致窗口对数"),
    "control.photo.edited_reuse.severity": "照片为其他档案或此前阶段照片的编辑副本时的风险等级",
    "control.narrative.similarity_max": "调查叙述与其他客户报告的最大可接受相似度",
    "control.narrative.severity": "调查叙述抄自其他报告时的风险等级",
    "control.narrative.min_chars": "少于此字数的叙述不做比对（文字过少，无法判断）",
    "control.narrative.candidates": "与同一题目（及同一调查人员）最近的多少份回答进行比对",
    "control.narrative.sentence_match_min": "同义词归并后相似度达到此值的句子视为同一段落",
    "control.narrative.reworded_share_max": "叙述中改写自其他客户报告的内容所占的最大可接受比例",
    "control.narrative.reworded.severity": "叙述改写自其他客户报告时的风险等级",
    "control.site.min_minutes": "每位调查人员在现场的最短时间（分钟）",
    "control.site.short_visit.severity": "现场时间短于最低要求或未签退时的风险等级",
    "control.site.check_in_off_site.severity": "签到地点不在经营地址时的风险等级",
    "control.visit.min_overlap_minutes": "两位调查人员须同时在现场的最短时间（分钟）",
    "control.visit.not_together.severity": "两位调查人员未共同实地调查时的风险等级",
    "control.section.min_seconds_per_item": "同一部分内每个回答的最短合理用时（秒）",
    "control.section.min_items": "回答少于此数的部分不计时",
    "control.section.rushed.severity": "某部分填写速度快得不合理时的风险等级",
    "control.evidence.unavailable.severity": "资料检查结果无法提供给控制规则时的风险等级",
    "control.not_configured.severity": "因缺少政策参数而无法运行控制规则时的风险等级",
    "control.reverify.sample_rate": "已接受的调查中由团队负责人抽样复核的比例",
}


SEVERITIES = {1: "R1", 2: "R2", 3: "R3"}


class ControlNotConfigured(Exception):
    """A policy value a control needs is not in force; the control reports it and stops."""

    def __init__(self, key: str):
        self.key = key
        super().__init__(key)


def need(policy, key: str) -> Decimal:
    value = policy(key)
    if value is None:
        raise ControlNotConfigured(key)
    return Decimal(value)


def severity(policy, key: str) -> str:
    """R1–R3 from a numeric severity row (1–3); anything else is a configuration error."""
    value = need(policy, key)
    label = SEVERITIES.get(int(value)) if value == value.to_integral_value() else None
    if label is None:
        raise ControlNotConfigured(key)
    return label


def seed_control_policies() -> list[str]:
    """Create version 1 of each control policy not on file yet (idempotent; never rewrites a
    value already there, §0.2)."""
    created = []
    for key, value, unit, evidence, source, description in CONTROL_POLICIES:
        _, was_created = PolicyValue.objects.get_or_create(
            key=key, version=1,
            defaults={"value": Decimal(value), "unit": unit, "evidence": evidence,
                      "source_citation": source, "description_en": description,
                      "description_zh": DESCRIPTIONS_ZH.get(key, ""),
                      "effective_from": dt.date(2024, 1, 1)})
        if was_created:
            created.append(key)
    return created

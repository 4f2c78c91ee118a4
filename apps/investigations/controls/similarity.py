"""Copied narratives (domain reference §3.3 J3, §3.4 "报告千篇一律": identical reports).

Measure: Jaccard similarity of character trigram sets after normalisation (case folded,
whitespace and punctuation dropped). Why this one: it needs no word segmentation, so Chinese
and English narratives are treated alike; it is symmetric and bounded 0–1, so the policy
threshold (J3: 0.8 against another client's report) reads as "80% of the distinct three-
character pieces are shared"; it is exact and explainable, unlike a learned embedding.
Reordering sentences barely changes it, changing a name or a number changes only a few
trigrams, so light edits of a copied report still score high.

Cost stays bounded with many earlier reports: candidates are the most recent N answers of the
same item from other clients, plus the same officers' most recent N narratives of any item
(N from policy), fetched in two indexed queries; a size filter (Jaccard ≤ min/max of set
sizes) skips most candidates before any set intersection.
"""

from __future__ import annotations

import unicodedata
from decimal import Decimal

from django.utils.translation import gettext_lazy as _

from apps.investigations.controls.messages import control_finding
from apps.investigations.controls.policies import need, severity
from apps.investigations.models import Answer, AnswerType, Investigation
from apps.investigations.rules import Finding

SHINGLE = 3


def normalise(text: str) -> str:
    """Letters and digits only (any script), case folded: layout and punctuation are free to
    change without hiding a copy."""
    text = unicodedata.normalize("NFKC", text).casefold()
    return "".join(ch for ch in text if ch.isalnum())


def shingles(text: str, k: int = SHINGLE) -> frozenset[str]:
    clean = normalise(text)
    if len(clean) <= k:
        return frozenset({clean}) if clean else frozenset()
    return frozenset(clean[i:i + k] for i in range(len(clean) - k + 1))


def jaccard(a: frozenset[str], b: frozenset[str]) -> float:
    if not a or not b:
        return 0.0
    return len(a & b) / len(a | b)


def most_similar(text: str, candidates, *, threshold: float):
    """(similarity, candidate) of the closest candidate at or above `threshold`, else None.
    `candidates` yields (key, text) pairs."""
    mine = shingles(text)
    best = None
    for key, other_text in candidates:
        theirs = shingles(other_text)
        small, large = sorted((len(mine), len(theirs)))
        if not large or small / large < threshold:
            continue  # sizes alone rule it out: |A∩B|/|A∪B| ≤ min/max
        score = jaccard(mine, theirs)
        if score >= threshold and (best is None or score > best[0]):
            best = (score, key)
    return best


def narrative_findings(*, investigation: Investigation, policy) -> list[Finding]:
    """Each narrative answer of this investigation that is near-identical to an earlier
    answer for another client, naming the earlier investigation and the similarity."""
    threshold = float(need(policy, "control.narrative.similarity_max"))
    min_chars = int(need(policy, "control.narrative.min_chars"))
    limit = int(need(policy, "control.narrative.candidates"))
    texts = [(a.item.code, a.value) for a in investigation.answers.select_related("item")
             if a.item.answer_type == AnswerType.TEXT and not a.not_applicable
             and isinstance(a.value, str) and len(normalise(a.value)) >= min_chars]
    if not texts:
        return []
    enterprise_id = investigation.application.enterprise_id
    others = (Answer.objects.filter(item__answer_type=AnswerType.TEXT, not_applicable=False)
              .exclude(investigation__application__enterprise_id=enterprise_id)
              .order_by("-updated_at", "-id"))
    fields = ("id", "item__code", "value", "investigation_id", "answered_by_id",
              "investigation__application__reference")
    same_officers = list(others.filter(answered_by_id__in=investigation.officer_ids)
                         .values(*fields)[:limit])
    findings = []
    for code, text in texts:
        same_item = list(others.filter(item__code=code).values(*fields)[:limit])
        rows = {row["id"]: row for row in same_officers + same_item}
        match = most_similar(text, ((pk, row["value"]) for pk, row in rows.items()
                                    if isinstance(row["value"], str)), threshold=threshold)
        if match is None:
            continue
        score, pk = match
        row = rows[pk]
        own = row["answered_by_id"] in investigation.officer_ids
        findings.append(control_finding(
            code="NARRATIVE_COPIED", item=code,
            severity=severity(policy, "control.narrative.severity"),
            message=_("%(item_code)s is %(percent)s%% identical to %(other_code)s of investigation "
                      "#%(other)s (application %(reference)s, another client)%(own)s."),
            explanation=_("Character-trigram Jaccard similarity %(score)s ≥ policy "
                          "control.narrative.similarity_max = %(limit)s."),
            inputs={"similarity": f"{score:.2f}", "other_investigation": row["investigation_id"],
                    "other_item": row["item__code"], "same_officer": own},
            policies={"control.narrative.similarity_max": str(Decimal(str(threshold)))},
            item_code=code, percent=round(score * 100), other_code=row["item__code"],
            other=row["investigation_id"], reference=row["investigation__application__reference"],
            own=_(", written by the same officer") if own else "", score=f"{score:.2f}",
            limit=f"{threshold:.2f}"))
    return findings

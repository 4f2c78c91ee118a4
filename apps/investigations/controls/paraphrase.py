"""Reworded copies of narratives (issue 19; domain reference §3.3 J3, §3.4 "报告千篇一律").

The trigram control (similarity.py) catches a copy edited lightly; a box-ticker who knows it
swaps words for synonyms and reorders sentences. This control compares narratives sentence by
sentence, in any order, after a normalisation that undoes the usual rewording:

1. split into sentences (。！？；.!?; and line breaks);
2. fold width and case, replace every synonym by its group's canonical word (a table kept as
   data, controls/data/synonyms.json: longest Chinese phrase first, English whole words);
3. features: Chinese as character bigrams (no segmentation needed), English as words with a
   light suffix stripping, function words dropped, numbers kept whole;
4. each sentence of the new narrative is paired with its closest sentence of the earlier one
   (Dice coefficient of features, order-independent); a pair at or above the policy sentence
   threshold is a matched passage;
5. the narrative score is the share of the new narrative's text inside matched passages; at or
   above the policy limit the finding lists the passages side by side.

Why not a multilingual embedding model: none installs and runs offline here without weights
fetched at run time, and a reviewer can check a sentence pair by eye, not a cosine.
"""

from __future__ import annotations

import json
import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

_DATA = Path(__file__).parent / "data" / "synonyms.json"
_SENTENCE = re.compile(r"[。！？；!?;\n\r]+|(?<=[A-Za-z0-9)\]])\.(?=\s|$)")
_CJK = re.compile(r"[\u3400-\u9fff]")
_TOKEN = re.compile(r"[\u3400-\u9fff]+|[a-z]+|\d+(?:\.\d+)?")


@dataclass(frozen=True)
class Passage:
    mine: str
    theirs: str
    score: float


@dataclass(frozen=True)
class Comparison:
    score: float                    # share of the new narrative's text in matched passages
    passages: tuple[Passage, ...]   # in the new narrative's order


@lru_cache(maxsize=1)
def _tables():
    data = json.loads(_DATA.read_text(encoding="utf-8"))
    zh = sorted(((variant, group[0]) for group in data["zh"] for variant in group[1:]),
                key=lambda pair: -len(pair[0]))
    zh_pattern = re.compile("|".join(re.escape(v) for v, _ in zh)) if zh else None
    en = {variant: group[0] for group in data["en"] for variant in group}
    return zh_pattern, dict(zh), en, frozenset(data["stop_en"]), frozenset(data["stop_zh"])


def sentences(text: str) -> list[str]:
    return [s.strip() for s in _SENTENCE.split(text or "") if s and s.strip()]


def _stem(word: str) -> str:
    for suffix in ("ing", "ed", "es", "s"):
        if len(word) > len(suffix) + 3 and word.endswith(suffix):
            return word[: -len(suffix)]
    return word


def features(sentence: str) -> frozenset[str]:
    zh_pattern, zh, en, stop_en, stop_zh = _tables()
    text = unicodedata.normalize("NFKC", sentence).casefold()
    if zh_pattern is not None:
        text = zh_pattern.sub(lambda m: zh[m.group(0)], text)
    found: set[str] = set()
    for token in _TOKEN.findall(text):
        if _CJK.match(token):
            chars = "".join(ch for ch in token if ch not in stop_zh)
            if len(chars) == 1:
                found.add(chars)
            found |= {chars[i:i + 2] for i in range(len(chars) - 1)}
        elif token[0].isdigit():
            found.add(token)
        elif token not in stop_en:
            found.add(_stem(en.get(token, token)))
    return frozenset(found)


def dice(a: frozenset[str], b: frozenset[str]) -> float:
    if not a or not b:
        return 0.0
    return 2 * len(a & b) / (len(a) + len(b))


def _weight(sentence: str) -> int:
    return sum(1 for ch in sentence if ch.isalnum())


def compare(mine: str, theirs: str, *, sentence_min: float,
            min_features: int = 3) -> Comparison:
    """How much of `mine` is a (reworded, reordered) copy of sentences of `theirs`."""
    own = [(s, features(s)) for s in sentences(mine)]
    other = [(s, features(s)) for s in sentences(theirs)]
    own = [(s, f) for s, f in own if len(f) >= min_features]
    total = sum(_weight(s) for s, _ in own)
    if not own or not other or not total:
        return Comparison(0.0, ())
    passages, matched = [], 0
    for sentence, feats in own:
        best = max(((dice(feats, f), s) for s, f in other), key=lambda pair: pair[0])
        if best[0] >= sentence_min:
            passages.append(Passage(sentence, best[1], round(best[0], 2)))
            matched += _weight(sentence)
    return Comparison(matched / total, tuple(passages))


# --- the control ---------------------------------------------------------------------------


def _candidates(investigation, *, code: str, limit: int) -> list[dict]:
    """Earlier narratives for other clients: the same item by anyone, and anything the same
    officers wrote (two indexed queries, most recent first, `limit` each)."""
    from apps.investigations.models import Answer, AnswerType

    others = (Answer.objects.filter(item__answer_type=AnswerType.TEXT, not_applicable=False)
              .exclude(investigation__application__enterprise_id=investigation.application
                       .enterprise_id)
              .order_by("-updated_at", "-id"))
    fields = ("id", "item__code", "value", "investigation_id", "answered_by_id",
              "investigation__application__reference")
    rows = {row["id"]: row for row in others.filter(item__code=code).values(*fields)[:limit]}
    rows.update({row["id"]: row for row in others.filter(
        answered_by_id__in=investigation.officer_ids).values(*fields)[:limit]})
    return [row for row in rows.values() if isinstance(row["value"], str)]


def reworded_findings(*, investigation, policy) -> list:
    """Each narrative answer most of whose sentences restate, reworded and in any order, the
    sentences of an earlier report for another client; the passages go into the finding."""
    from django.utils.translation import gettext_lazy as _

    from apps.investigations.controls.messages import control_finding
    from apps.investigations.controls.policies import need, severity
    from apps.investigations.controls.similarity import jaccard, normalise, shingles
    from apps.investigations.models import AnswerType

    sentence_min = float(need(policy, "control.narrative.sentence_match_min"))
    share_max = float(need(policy, "control.narrative.reworded_share_max"))
    copied_max = float(need(policy, "control.narrative.similarity_max"))
    min_chars = int(need(policy, "control.narrative.min_chars"))
    limit = int(need(policy, "control.narrative.candidates"))
    level = severity(policy, "control.narrative.reworded.severity")
    findings = []
    for answer in investigation.answers.select_related("item").order_by("item__code"):
        text = answer.value
        if (answer.item.answer_type != AnswerType.TEXT or answer.not_applicable
                or not isinstance(text, str) or len(normalise(text)) < min_chars):
            continue
        code = answer.item.code
        best = None
        for row in _candidates(investigation, code=code, limit=limit):
            result = compare(text, row["value"], sentence_min=sentence_min)
            if result.score >= share_max and (best is None or result.score > best[0].score):
                best = (result, row)
        if best is None:
            continue
        result, row = best
        if jaccard(shingles(text), shingles(row["value"])) >= copied_max:
            continue  # a near-verbatim copy: NARRATIVE_COPIED already says so
        own = row["answered_by_id"] in investigation.officer_ids
        findings.append(control_finding(
            code="NARRATIVE_REWORDED", item=code, severity=level,
            message=_("%(item_code)s restates %(percent)s%% of %(other_code)s of investigation "
                      "#%(other)s (application %(reference)s, another client) in other words "
                      "or another order%(own)s."),
            explanation=_("%(matched)s of %(count)s sentences match a sentence of the earlier "
                          "report (after synonyms are folded) at ≥ policy "
                          "control.narrative.sentence_match_min = %(sentence_min)s; matched text "
                          "%(share)s ≥ policy control.narrative.reworded_share_max = "
                          "%(limit)s."),
            inputs={"share": f"{result.score:.2f}", "other_investigation": row["investigation_id"],
                    "other_item": row["item__code"], "same_officer": own,
                    "passages": [{"mine": p.mine, "theirs": p.theirs, "score": f"{p.score:.2f}"}
                                 for p in result.passages]},
            policies={"control.narrative.sentence_match_min": f"{sentence_min:.2f}",
                      "control.narrative.reworded_share_max": f"{share_max:.2f}"},
            item_code=code, percent=round(result.score * 100), other_code=row["item__code"],
            other=row["investigation_id"], reference=row["investigation__application__reference"],
            own=_(", written by the same officer") if own else "",
            matched=len(result.passages), count=len(sentences(text)),
            sentence_min=f"{sentence_min:.2f}", share=f"{result.score:.2f}",
            limit=f"{share_max:.2f}"))
    return findings

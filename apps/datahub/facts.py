"""What the pulled data says about an enterprise, as facts a person reads and figures the
rules and the scoring features use, each with its provenance.

* `latest_answers()`: per source, the newest paid (online or imported) answer about the
  enterprise itself: a fixed number of queries whatever its history.
* `source_facts()`: those answers summed up in a few lines (the insight portrait).
* `pulled_figures()`: `tax.revenue_12m`, `tax.paid_12m`, `utility.kwh_12m` from the tax
  bureau's and the utility's answers. Registered with the investigation's evidence
  (apps/investigations/evidence.py) so the cross-checks and the scoring features read the
  pulled figure when there is one (a source's own figure beats a photographed document's),
  and the document's otherwise. The scoring features are still scored by the approved model
  in force only: the hub adds inputs, never a decision.
* `pulled_item_values()`: for the checklist items an outside source answers too (the tax
  grade, a current overdue in the credit report, a dishonest-debtor listing, declared
  sales), the pulled value shown beside the officer's answer on the form and the reviewer's
  page; `mismatch_findings()` makes a disagreement a cross-check finding.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import Max, Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import override

from apps.core.compiled import compiled_query, run
from apps.datahub.models import Pull, Record
from apps.datahub.states import Channel, PullState, Source


@dataclass
class Answer:
    pull: Pull
    records: dict[str, list[Record]] = field(default_factory=dict)

    @property
    def provenance(self) -> str:
        p = self.pull
        return (f"{p.get_source_display()} · {p.format_version} · query {p.query_id} · "
                f"{p.fetched_at:%Y-%m-%d %H:%M}")

    def provenance_dict(self) -> dict:
        p = self.pull
        return {"source": p.source, "query_id": str(p.query_id), "pull_id": p.pk,
                "fetched_at": p.fetched_at.isoformat(), "format_version": p.format_version,
                "channel": p.channel}


def latest_answers(enterprise_id, *, application_id: int | None = None,
                   newest: list[tuple] | None = None) -> dict[str, Answer]:
    """source → the newest paid answer about the enterprise itself (three queries; one when
    nothing was pulled). `application_id`: the enterprise of that application, read in the
    same query instead of first on its own (the scoring worker's feature assembly).
    `newest`: the rows of `newest_pulls(enterprise_id)` when the caller read them already
    (with its other reads: the enterprise portrait)."""
    if application_id is not None:
        return run(latest_answers_steps(application_id))
    paid = _paid(Q(enterprise_id=enterprise_id))
    return _answers_of(paid, list(newest_pulls(enterprise_id)) if newest is None else newest)


def newest_pulls(enterprise_id):
    """(source, newest fetch) of the paid pulls about the enterprise itself: the first read
    of `latest_answers`."""
    return _paid(Q(enterprise_id=enterprise_id)).values_list("source") \
        .annotate(at=Max("fetched_at"))


def latest_answers_steps(application_id: int):
    """`latest_answers(application_id=...)` as a step of `apps.core.compiled.run_together`:
    its first query (compiled once) goes with the scoring worker's other reads."""
    (newest,) = yield [compiled_query(
        "datahub_latest_answers", lambda marker: list(
            _paid(_of_application(marker)).values_list("source")
            .annotate(at=Max("fetched_at"))), application_id,
        output_fields=[Pull._meta.get_field("source"), Pull._meta.get_field("fetched_at")])]
    # Nothing pulled (most files): no second query, nor its queryset built (a visible share of
    # the scoring worker's feature assembly).
    return _answers_of(_paid(_of_application(application_id)), newest) if newest else {}


def _of_application(application_id) -> Q:
    from apps.applications.models import Application

    return Q(enterprise_id__in=Application.objects.filter(pk=application_id)
             .values("enterprise_id"))


def _paid(who: Q):
    return Pull.objects.filter(who, person__isnull=True, state=PullState.SUCCEEDED,
                               channel__in=[Channel.HTTP, Channel.FILE])


def _answers_of(paid, newest: list[tuple]) -> dict[str, Answer]:
    """The answers from `newest` (source, its newest fetch) of the `paid` pulls."""
    if not newest:
        return {}
    match = Q()
    for source, at in newest:
        match |= Q(source=source, fetched_at=at)
    pulls = {}
    for pull in paid.filter(match).order_by("source", "-id"):
        pulls.setdefault(pull.source, pull)
    answers = {source: Answer(pull) for source, pull in pulls.items()}
    by_pull = {a.pull.pk: a for a in answers.values()}
    for record in Record.objects.filter(pull_id__in=list(by_pull)).order_by("kind", "key"):
        by_pull[record.pull_id].records.setdefault(record.kind, []).append(record)
    return answers


def _last_months(records: list[Record], n: int = 12) -> list[dict]:
    return [r.data for r in sorted(records, key=lambda r: r.key)[-n:]]


def _sum(rows: list[dict], name: str) -> Decimal:
    return sum((Decimal(r[name]) for r in rows), Decimal(0))


def pulled_figures_of(answers: dict[str, Answer]) -> dict[str, tuple[Decimal, dict]]:
    figures: dict[str, tuple[Decimal, dict]] = {}
    tax = answers.get(Source.TAX)
    if tax is not None and tax.records.get("month"):
        months = _last_months(tax.records["month"])
        figures["tax.revenue_12m"] = (_sum(months, "sales"), tax.provenance_dict())
        figures["tax.paid_12m"] = (_sum(months, "tax_paid"), tax.provenance_dict())
    utility = answers.get(Source.UTILITY)
    if utility is not None and utility.records.get("month"):
        months = _last_months(utility.records["month"])
        figures["utility.kwh_12m"] = (_sum(months, "kwh"), utility.provenance_dict())
    return figures


def _application_enterprise(application_id: int) -> int | None:
    from apps.applications.models import Application

    return (Application.objects.filter(pk=application_id)
            .values_list("enterprise_id", flat=True).first())


def pulled_figures(application_id: int) -> dict[str, tuple[Decimal, dict]]:
    """key → (value, provenance) for the figures the pulled data gives (the evidence hook)."""
    return run(pulled_figures_steps(application_id))


def pulled_figures_steps(application_id: int):
    """`pulled_figures` as a step of `apps.core.compiled.run_together`."""
    return pulled_figures_of((yield from latest_answers_steps(application_id)))


def _bureau_state(answer: Answer) -> dict:
    loans = [r.data for r in answer.records.get("loan", [])]
    return {"current_overdue": any(loan["status"] in ("overdue", "npa") for loan in loans),
            "npa": sum(loan["status"] == "npa" for loan in loans),
            "overdue": sum(loan["status"] == "overdue" for loan in loans),
            "ever_overdue": bool(answer.records.get("overdue")),
            "balance": _sum([loan for loan in loans if loan["status"] != "closed"], "balance"),
            "open": sum(loan["status"] != "closed" for loan in loans),
            "guaranteed": _sum([r.data for r in answer.records.get("guarantee", [])],
                               "amount")}


# Checklist item code → the pulled fact it is compared with (the items of the seeded
# templates an outside source answers too; a bank's own template adds its codes here).
ITEM_FACTS = {
    "CA_ANNUAL_SALES": "tax.revenue_12m", "D2_ANNUAL_SALES": "tax.revenue_12m",
    "B9_TAX_GRADE": "tax.credit_rating", "B1_OVERDUE": "bureau.current_overdue",
    "CH_CREDIT_HISTORY": "bureau.credit_history", "B7_DISHONEST": "court.dishonest",
}


@dataclass(frozen=True)
class PulledValue:
    value: object          # comparable with the answer (bool, a choice code, a Decimal)
    text: str              # what the page shows
    provenance: dict

    @property
    def provenance_text(self) -> str:
        p = self.provenance
        return f"{p['source']} · {p['format_version']} · query {p['query_id']} · " \
               f"{p['fetched_at'][:16].replace('T', ' ')}"


def _facts_for_items(answers: dict[str, Answer]) -> dict[str, PulledValue]:
    facts: dict[str, PulledValue] = {}
    figures = pulled_figures_of(answers)
    if "tax.revenue_12m" in figures:
        value, prov = figures["tax.revenue_12m"]
        facts["tax.revenue_12m"] = PulledValue(value, f"{value:,.2f} CNY", prov)
    tax = answers.get(Source.TAX)
    if tax is not None and tax.records.get("rating"):
        grade = tax.records["rating"][0].data["credit_rating"]
        facts["tax.credit_rating"] = PulledValue(grade, grade, tax.provenance_dict())
    bureau = answers.get(Source.BUREAU)
    if bureau is not None:
        state = _bureau_state(bureau)
        overdue = state["current_overdue"]
        facts["bureau.current_overdue"] = PulledValue(
            overdue, str(_("Yes") if overdue else _("No")), bureau.provenance_dict())
        history = ("current_overdue" if overdue else "cured" if state["ever_overdue"]
                   else "clean")
        facts["bureau.credit_history"] = PulledValue(history, history, bureau.provenance_dict())
    court = answers.get(Source.COURT)
    if court is not None:
        listed = bool(court.records.get("dishonest"))
        facts["court.dishonest"] = PulledValue(
            listed, str(_("Yes") if listed else _("No")), court.provenance_dict())
    return facts


def pulled_item_values(application_id: int) -> dict[str, PulledValue]:
    """item code → the pulled value to show beside the officer's answer."""
    enterprise_id = _application_enterprise(application_id)
    if enterprise_id is None:
        return {}
    facts = _facts_for_items(latest_answers(enterprise_id))
    return {code: facts[key] for code, key in ITEM_FACTS.items() if key in facts}


def _both(message, **values) -> tuple[str, str]:
    with override("en"):
        en = str(message) % values
    with override("zh-hans"):
        zh = str(message) % values
    return en, zh


def mismatch_findings(application_id: int, *, policy) -> list:
    """A yes/no or choice answer that disagrees with the pulled value is a cross-check
    finding (money answers are compared by the template's own deviation cross-checks, which
    read the pulled figures through the evidence hook). Registered in DatahubConfig."""
    from apps.investigations.controls.policies import ControlNotConfigured, severity
    from apps.investigations.models import Answer as OfficerAnswer
    from apps.investigations.rules import Finding

    pulled = pulled_item_values(application_id)
    if not pulled:
        return []
    answers = (OfficerAnswer.objects.filter(investigation__application_id=application_id,
                                            item__code__in=list(pulled),
                                            not_applicable=False)
               .select_related("item").order_by("item__code"))
    findings = []
    key = "datahub.finding.mismatch.severity"
    for answer in answers:
        fact = pulled[answer.item.code]
        if isinstance(fact.value, Decimal) or answer.value is None or answer.value == fact.value:
            continue
        try:
            level = severity(policy, key)
        except ControlNotConfigured:
            level = "R2"
        en, zh = _both(_("The answer to %(item)s (%(answer)s) disagrees with the pulled "
                         "%(source)s data (%(pulled)s)."), item=answer.item.code,
                       answer=answer.value, source=fact.provenance["source"], pulled=fact.text)
        findings.append(Finding(
            kind="cross_check", code="DATAHUB_MISMATCH", item=answer.item.code,
            severity=level, message_en=en, message_zh=zh,
            explanation=fact.provenance_text,
            inputs={"answer": answer.value, "pulled": fact.text,
                    "provenance": fact.provenance}, policies={key: level}))
    return findings


def source_facts(enterprise_id: int, *, may_see=None,
                 newest: list[tuple] | None = None) -> list[dict] | None:
    """The portrait's lines: per source, what its newest answer says, with provenance. None
    when there are answers and `may_see()` says the viewer may not read them (asked only
    then: a permission check costs queries the portrait need not spend on an empty hub).
    `newest`: `newest_pulls(enterprise_id)`'s rows, read already (see `latest_answers`)."""
    answers = latest_answers(enterprise_id, newest=newest)
    if answers and may_see is not None and not may_see():
        return None
    lines: list[dict] = []

    def add(source, text):
        lines.append({"source": answers[source].pull.get_source_display(), "text": text,
                      "provenance": answers[source].provenance,
                      "pull_id": answers[source].pull.pk})

    if Source.REGISTRY in answers:
        reg = answers[Source.REGISTRY]
        data = reg.records.get("registration", [None])[0]
        if data is not None:
            add(Source.REGISTRY, _("Status %(status)s, legal representative %(rep)s, "
                                   "%(holders)s shareholders, %(pledges)s equity pledges.")
                % {"status": data.data["status"], "rep": data.data["legal_representative"],
                   "holders": len(reg.records.get("shareholder", [])),
                   "pledges": len(reg.records.get("pledge", []))})
    if Source.COURT in answers:
        court = answers[Source.COURT]
        open_cases = [r.data for r in court.records.get("enforcement", [])
                      if r.data["status"] == "open"]
        add(Source.COURT, _("%(open)s open enforcement cases (%(amount)s CNY), %(listed)s "
                            "dishonest-debtor listings.")
            % {"open": len(open_cases), "amount": f"{_sum(open_cases, 'amount'):,.2f}",
               "listed": len(court.records.get("dishonest", []))})
    figures = pulled_figures_of(answers)
    if Source.TAX in answers:
        rating = answers[Source.TAX].records.get("rating", [None])[0]
        add(Source.TAX, _("Tax credit grade %(grade)s; sales %(sales)s CNY and tax paid "
                          "%(paid)s CNY over the last 12 months.")
            % {"grade": rating.data["credit_rating"] if rating else "—",
               "sales": f"{figures.get('tax.revenue_12m', (Decimal(0),))[0]:,.2f}",
               "paid": f"{figures.get('tax.paid_12m', (Decimal(0),))[0]:,.2f}"})
    if Source.UTILITY in answers:
        add(Source.UTILITY, _("%(kwh)s kWh of electricity over the last 12 months.")
            % {"kwh": f"{figures.get('utility.kwh_12m', (Decimal(0),))[0]:,.0f}"})
    if Source.BUREAU in answers:
        state = _bureau_state(answers[Source.BUREAU])
        add(Source.BUREAU, _("%(open)s open loans (%(balance)s CNY), %(overdue)s overdue, "
                             "%(npa)s non-performing; guarantees given %(guaranteed)s CNY.")
            % {"open": state["open"], "balance": f"{state['balance']:,.2f}",
               "overdue": state["overdue"], "npa": state["npa"],
               "guaranteed": f"{state['guaranteed']:,.2f}"})
    return lines

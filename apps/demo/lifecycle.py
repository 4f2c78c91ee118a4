"""Walk an application through its lifecycle with the services, as the staff would.

Used by the demo seed (applications in every state) and by tests that need a file in a given
state; both go through the real services, so demo data obeys every rule the product enforces.
"""

import datetime as dt
from decimal import Decimal

from django.utils import timezone

from apps.accounts.models import User
from apps.applications import services
from apps.applications.models import Application
from apps.applications.states import ApplicationState as S
from apps.demo.seed import DEMO_PASSWORD
from apps.investigations import workflow
from apps.investigations.models import AnswerType, ChecklistTemplate, Investigation, Item
from apps.investigations.states import ChecklistTemplateState, InvestigationState

# Where the demo officers check in when the enterprise has no operating position on file.
_FALLBACK_SITE = (Decimal("31.230400"), Decimal("121.473700"))


def _demo_value(item: Item, application: Application):
    """A valid demo answer derived from the item's answer type."""
    kind = item.answer_type
    if kind == AnswerType.YES_NO:
        return False
    if kind in (AnswerType.NUMBER, AnswerType.PERCENT):
        return "20"
    if kind == AnswerType.MONEY:
        return "500000"
    if kind == AnswerType.DATE:
        return (timezone.localdate() + dt.timedelta(days=365)).isoformat()
    if kind == AnswerType.TEXT:
        text = "Visited the premises with both officers; neighbours and suppliers confirm " \
               "the business has traded steadily for years."
        return text.ljust(item.min_length or 0, ".")
    if kind == AnswerType.SINGLE_CHOICE:
        return item.choices[0]["code"]
    if kind == AnswerType.MULTI_CHOICE:
        return [item.choices[0]["code"]]
    if kind == AnswerType.TABLE:
        spec = item.columns or {}
        cells = {c["code"]: ("demo figure" if c["type"] == "text" else
                             True if c["type"] == "yes_no" else
                             timezone.localdate().isoformat() if c["type"] == "date" else "100000")
                 for c in spec.get("columns", [])}
        rows = spec.get("rows") or []
        return [{"row": r["code"], **cells} for r in rows] if rows else [cells]
    if kind in (AnswerType.PHOTO, AnswerType.DOCUMENT):
        count = max(int((item.evidence or {}).get("photo_count") or 0), 1)
        return [f"demo-{item.code.lower()}-{n}" for n in range(1, count + 1)]
    if kind == AnswerType.LOCATION:
        lat, lng = _site(application)
        return {"lat": str(lat), "lng": str(lng)}
    raise ValueError(kind)


def _demo_evidence(item: Item) -> dict:
    spec = item.evidence or {}
    evidence: dict = {}
    if spec.get("document_types"):
        evidence["documents"] = {t: [f"demo-{t}"] for t in spec["document_types"]}
    if spec.get("photo_count") and item.answer_type != AnswerType.PHOTO:
        evidence["photos"] = [f"demo-{item.code.lower()}-photo-{n}"
                              for n in range(1, int(spec["photo_count"]) + 1)]
    return evidence


def _site(application: Application) -> tuple[Decimal, Decimal]:
    enterprise = application.enterprise
    if enterprise.operating_lat is not None and enterprise.operating_lng is not None:
        return enterprise.operating_lat, enterprise.operating_lng
    return _FALLBACK_SITE


# What honest visits find differs from firm to firm (issue #18: a spread of grades). Each
# profile is a kind of firm a branch lends to, its ranges inside the policy's red-flag limits
# as seeded (leverage under 0.7, instalment under 0.6 of free cash flow, largest customer at
# most half of sales, card use under 80%, fewer than 6 late payments, no fall in tax or
# electricity beyond 30%): an honest file raises no flag, yet the scorecard weighs each one
# differently. Ranges are (low, high) drawn per file; choices are drawn from the list.
_PROFILES = {
    # An established firm: owns its premises, little debt, a healthy margin, growing.
    "established": {"leverage": (0.22, 0.32), "cogs_share": (0.58, 0.70),
                    "debt_service": (0.10, 0.30), "free_cf_share": (0.04, 0.06), "m1": (0, 0),
                    "card": (10, 35), "top_customer": (12, 30), "kwh_trend": (0.03, 0.12),
                    "tax_trend": (0.05, 0.20), "premises": ["owned"],
                    "statements": ["paper", "e_statement"], "private_share": (0, 0)},
    # A trader on a thin margin, renting its shop, a few large buyers, sales flat and tax
    # down year on year, most of its cash flow already spoken for, cards in use.
    "thin_margin_trader": {"leverage": (0.45, 0.58), "cogs_share": (0.87, 0.91),
                           "debt_service": (0.30, 0.45), "free_cf_share": (0.008, 0.012),
                           "m1": (1, 1), "card": (52, 62), "top_customer": (44, 50),
                           "kwh_trend": (-0.08, 0.0), "tax_trend": (-0.22, -0.16),
                           "premises": ["leased"], "statements": ["e_statement", "in_house"],
                           "private_share": (0, 0)},
    # A young firm: a short credit history with one late payment, cards in use, renting,
    # growing fast.
    "young_firm": {"leverage": (0.40, 0.55), "cogs_share": (0.74, 0.82),
                   "debt_service": (0.35, 0.50), "free_cf_share": (0.02, 0.035), "m1": (1, 1),
                   "card": (52, 66), "top_customer": (40, 50), "kwh_trend": (0.05, 0.18),
                   "tax_trend": (0.08, 0.25), "premises": ["leased"],
                   "statements": ["in_house", "e_statement"], "private_share": (0, 0)},
    # A manufacturer carrying bank and private debt for its plant, in a softer year: orders,
    # electricity and tax down, cards in use, a large buyer it depends on.
    "leveraged_manufacturer": {"leverage": (0.62, 0.68), "cogs_share": (0.78, 0.85),
                               "debt_service": (0.45, 0.58), "free_cf_share": (0.015, 0.025),
                               "m1": (0, 0), "card": (67, 75), "top_customer": (44, 50),
                               "kwh_trend": (-0.12, -0.05), "tax_trend": (-0.25, -0.16),
                               "premises": ["owned"], "statements": ["in_house"],
                               "private_share": (0.02, 0.05)},
}
# Which kind of firm an enterprise is follows its trade (GB/T 4754 section): plant-heavy
# trades (manufacturing, utilities, construction) carry debt, trading ones (wholesale and
# retail, transport, hotels and catering) run on thin margins, the rest are established.
# Firms registered less than _YOUNG_FIRM_YEARS ago are young firms, and micro firms (sales
# under _MICRO_SALES) established ones: the branch lends to them on a long relationship only.
_PROFILE_BY_INDUSTRY = {"C": "leveraged_manufacturer", "D": "leveraged_manufacturer",
                        "E": "leveraged_manufacturer", "F": "thin_margin_trader",
                        "G": "thin_margin_trader", "H": "thin_margin_trader"}
_YOUNG_FIRM_YEARS = 5
# A firm with no grade on record has not been graded yet: a new taxpayer's grade is M (纳税信用
# M级, newly registered or without a full year of filings), not A.
_NO_TAX_GRADE = "M"
_MICRO_SALES = Decimal("1000000")


def honest_profile(application: Application) -> tuple[str, dict]:
    """The kind of firm this application's enterprise is (one of `_PROFILES`) and what the
    honest visit finds there, drawn once per application within the profile's ranges."""
    cached = getattr(application, "_demo_profile", None)
    if cached is not None:
        return cached
    enterprise = application.enterprise
    registered = enterprise.registration_date
    age = ((timezone.localdate() - registered).days / 365.25) if registered else None
    if Decimal(enterprise.annual_revenue or 0) < _MICRO_SALES:
        name = "established"
    elif age is not None and age < _YOUNG_FIRM_YEARS:
        name = "young_firm"
    else:
        name = _PROFILE_BY_INDUSTRY.get(enterprise.industry, "established")
    application._demo_profile = (name, _profile_draw(application, name))
    return application._demo_profile


def _profile_draw(application: Application, name: str) -> dict:
    import random

    # Keyed by the enterprise's registration code, not a row id: the same firm draws the same
    # figures in every seed.
    enterprise = application.enterprise
    rng = random.Random(f"profile:{enterprise.uscc or enterprise.name}:{name}")
    return {k: (rng.choice(v) if isinstance(v[0], str)
                else rng.randint(*v) if isinstance(v[0], int)
                else Decimal(str(round(rng.uniform(*v), 3))))
            for k, v in _PROFILES[name].items()}


def _honest_figures(application: Application) -> dict:
    """Figures an honest visit finds, consistent with the enterprise's declared revenue, the
    loan asked for and the firm's profile (`honest_profile`), so the template's figure rules
    and cross-checks hold (issue #18)."""
    enterprise = application.enterprise
    _name, profile = honest_profile(application)
    sales = Decimal(enterprise.annual_revenue or 5_000_000)
    months = max(int(application.term_months or 12), 1)
    instalment = (Decimal(application.amount_requested) / months * Decimal("1.05"))
    # A firm's free cash flow covers the instalment by its profile's debt service ratio, and
    # is at least its profile's share of sales (large firms service small loans easily).
    free_cf = max(sales * profile["free_cf_share"], instalment / profile["debt_service"])
    cogs = sales * profile["cogs_share"]
    assets = {"cash": sales * Decimal("0.08"), "receivables": sales * Decimal("0.12"),
              "inventory": cogs * 40 / 365, "fixed_assets": sales * Decimal("0.25")}
    total_assets = sum(assets.values())
    payables = sales * Decimal("0.06")
    private = sales * profile["private_share"]
    # Bank debt is what brings liabilities to the profile's share of the assets.
    bank = max(total_assets * profile["leverage"] - payables - private, Decimal(0))
    balance = {**assets, "payables": payables, "bank_loans": bank, "private_loans": private}
    equity = total_assets - payables - bank - private
    staff = enterprise.employees or 12
    kwh = sales * Decimal("0.04")
    tax = sales * Decimal("0.03")
    figures = {
        "A4_AMOUNT": application.amount_requested, "B2_M1_COUNT": profile["m1"],
        "B3_INQUIRIES": 2 + profile["m1"], "B3_APPROVALS": 1,
        "B5_CARD_UTILISATION": profile["card"], "B6_ONLINE_LOANS": 0,
        "C4_TOP_CUSTOMER_SHARE": profile["top_customer"], "C6_HEAD_OBSERVED": staff,
        "C6_HEAD_SOCIAL": staff, "C6_HEAD_DECLARED": staff, "D2_ANNUAL_SALES": sales,
        "D2_ANNUAL_COGS": cogs, "D2_MONTHLY_FREE_CF": free_cf, "D3_INSTALMENT": instalment,
        "D4_LOGISTICS_SALES": sales * Decimal("0.95"),
        "D5_OPENING_EQUITY": equity * Decimal("0.5"), "D5_RETAINED_PROFIT": equity * Decimal("0.6"),
        "D5_INJECTIONS": 0, "D5_DRAWINGS": equity * Decimal("0.1"),
        "E1_KWH_12M": kwh, "E1_KWH_PRIOR_12M": kwh / (1 + profile["kwh_trend"]),
        "E3_VAT_SALES_12M": sales * Decimal("0.98"), "E3_TAX_PAID_12M": tax,
        "E3_TAX_PAID_PRIOR_12M": tax / (1 + profile["tax_trend"]),
        "F2_TOTAL_INFLOW_12M": sales * Decimal("1.10"), "F2_EXCLUDED_12M": sales * Decimal("0.08"),
        "F5_AVG_BALANCE": instalment * 3, "H2_VALUE": Decimal(application.amount_requested) * 2,
    }
    return {"balance": balance, **{k: str(Decimal(v).quantize(Decimal(1)))
                                   for k, v in figures.items()}}


def document_figures(application: Application) -> dict:
    """What the firm's own bank statements and tax returns show (issue #18): the inflows and
    VAT sales an honest visit types (`_honest_figures`, from its declared sales) and the year
    before by its profile's tax trend. So the documents' cross-checks pass on an honest file,
    and catch the box-ticked one, whose typed figures were made up."""
    figures = _honest_figures(application)
    _name, profile = honest_profile(application)
    revenue = Decimal(figures["E3_VAT_SALES_12M"])
    return {"bank.inflows_12m": Decimal(figures["F2_TOTAL_INFLOW_12M"]),
            "tax.revenue_12m": revenue,
            "tax.prior_revenue_12m": (revenue / (1 + profile["tax_trend"])).quantize(
                Decimal(1))}


def _collect_on_site(application: Application, officer: User) -> None:
    """The statements and tax returns (and every other required document) collected and
    uploaded during the visit, before the officers submit: the cross-checks read them."""
    from apps.documents.demo import collect_required_documents

    collect_required_documents(application, officer, site=_site(application),
                               figures=document_figures(application))


def _honest_choice(item: Item, application: Application):
    """The honest answer to a choice the profile decides (premises, statements' source) or
    the enterprise's record does (its tax grade); None where the first choice stands."""
    _name, profile = honest_profile(application)
    codes = {c["code"] for c in item.choices or []}
    rating = application.enterprise.tax_credit_rating
    wanted = {"C2_PREMISES": profile["premises"], "F1_SOURCE": profile["statements"],
              # The grade on record, whatever it is: a firm graded C is answered C (which the
              # template rightly flags R3), never the first choice, A (issue #18).
              "B9_TAX_GRADE": rating or _NO_TAX_GRADE}.get(item.code)
    return wanted if wanted in codes else None


def _honest_value(item: Item, application: Application):
    """The honest walk's answer: text written from the enterprise's own facts, different in
    every file; figures consistent with the enterprise's profile (issue #18)."""
    from apps.demo.narratives import narrative
    from apps.documents.demo import demo_seed

    figures = _honest_figures(application)
    if item.code in figures:
        return figures[item.code]
    if item.answer_type == AnswerType.TABLE and item.code == "D1_BALANCE":
        return [{"row": row, "amount": str(amount.quantize(Decimal(1))),
                 "basis": "counted on site" if row == "inventory" else "ledger and statements"}
                for row, amount in figures["balance"].items()]
    if item.answer_type == AnswerType.TEXT:
        chinese = not (item.label_en or "").strip()
        return narrative(application.enterprise, item.code, chinese=chinese,
                         min_length=item.min_length or 0, seed=demo_seed(application))
    if item.answer_type == AnswerType.SINGLE_CHOICE:
        choice = _honest_choice(item, application)
        if choice is not None:
            return choice
    return _demo_value(item, application)


def _investigate(application: Application, manager: User, *, honest: bool = False,
                clock=None) -> Application:
    """The pre-lending investigation, through its services: the account manager and a second
    account manager of the branch investigate, both check in, the branch's risk reviewer (who
    may still review the application: not an investigator) accepts. With `honest`, the visit
    is made as a real one (`_honest_visit`) under the seed's story clock."""
    from apps.investigations.seed import seed_builtin_templates

    branch_code = manager.username.split(".", 1)[1]
    investigation = Investigation.objects.filter(application=application).first()
    if investigation is None:
        if not ChecklistTemplate.objects.filter(state=ChecklistTemplateState.PUBLISHED).exists():
            seed_builtin_templates()  # test worlds seed people and products, not templates
        assistant = User.objects.get(username=f"assistant.{branch_code}")
        investigation = workflow.investigation_assign(
            application_id=application.pk, lead_officer=manager,
            assisting_officer=assistant, actor=manager)
    if investigation.state == InvestigationState.ACCEPTED:
        return application
    if honest and investigation.state in (InvestigationState.ASSIGNED,
                                          *workflow.EDITABLE_STATES):
        if clock is None:
            raise ValueError("An honest visit takes real time: walk it under a story clock.")
        investigation = _honest_visit(investigation, application, manager, clock=clock)
    if investigation.state == InvestigationState.ASSIGNED:
        investigation = workflow.investigation_start(investigation_id=investigation.pk,
                                                     actor=manager)
    if investigation.state in workflow.EDITABLE_STATES:
        answered = set(investigation.answers.values_list("item_id", flat=True))
        items = (Item.objects.filter(template_id=investigation.template_id, required=True)
                 .exclude(answer_type=AnswerType.DERIVED).exclude(pk__in=answered))
        for item in items:
            workflow.answer_save(investigation_id=investigation.pk, item_code=item.code,
                                 value=_demo_value(item, application),
                                 evidence=_demo_evidence(item), actor=manager)
        lat, lng = _site(application)
        checked_in = set(investigation.check_ins.values_list("officer_id", flat=True))
        for officer_id in investigation.officer_ids - checked_in:
            workflow.site_check_in(investigation_id=investigation.pk,
                                   officer=User.objects.get(pk=officer_id), lat=lat, lng=lng,
                                   accuracy_m=Decimal("8"))
        # Both officers close their visit, so the time on site is recorded (§3.4).
        for officer_id in investigation.check_ins.filter(
                checked_out_at__isnull=True).values_list("officer_id", flat=True).distinct():
            workflow.site_check_out(investigation_id=investigation.pk,
                                    officer=User.objects.get(pk=officer_id), lat=lat, lng=lng)
        if clock is not None:  # the demo seed's box-ticked file: the firm's real documents
            _collect_on_site(application, manager)
        investigation = workflow.investigation_submit(investigation_id=investigation.pk,
                                                      actor=manager)
    if honest and clock is not None:
        # The reviewer reads the submitted file at the office before accepting it.
        clock.advance(_minutes(_rng(application, "review").uniform(8, 20)))
    workflow.investigation_accept(investigation_id=investigation.pk,
                                  actor=User.objects.get(username=f"reviewer.{branch_code}"),
                                  comment="Site visit and figures are consistent.")
    return application


# An honest visit's pace. Answers take a multiple of the policy's least plausible time per
# answer (control.section.min_seconds_per_item), so a policy change moves the demo with it:
# quick answers (yes/no, figures, choices) and written ones (text, tables), in that multiple.
_PACE_QUICK = (1.8, 2.4)
_PACE_WRITTEN = (3.0, 5.0)
_SECTION_WALK_S = (30, 90)       # moving on to the next part of the site
_PHOTO_S = (15, 45)               # framing and taking one photo
_STAY_EXTRA_MIN = (5, 25)         # beyond the policy's least time on site
_ARRIVAL_S = (20, 90)             # the second officer checks in a little after the first
_SUBMIT_AFTER_MIN = (2, 8)        # submitted from the car park after checking out
_REVIEW_MIN = (8, 20)             # the reviewer reads the file before accepting


def _minutes(value: float) -> dt.timedelta:
    return dt.timedelta(minutes=value)


def _seconds(value: float) -> dt.timedelta:
    return dt.timedelta(seconds=value)


def _rng(application: Application, what: str):
    import random

    from apps.documents.demo import demo_seed

    return random.Random(f"visit:{demo_seed(application)}:{what}")


def _visit_policy() -> dict[str, float]:
    """The control thresholds an honest visit must clear, from the policy in force (the demo
    follows the policy, never its own constants); a missing value makes the control say so."""
    from apps.investigations.policy import PolicyResolver

    policy = PolicyResolver()

    def value(key: str, default: str) -> float:
        found = policy(key)
        return float(found if found is not None else default)

    return {"per_item_s": value("control.section.min_seconds_per_item", "15"),
            "on_site_min": value("control.site.min_minutes", "60"),
            "together_min": value("control.visit.min_overlap_minutes", "40")}


def _is_written(item: Item) -> bool:
    return item.answer_type in (AnswerType.TEXT, AnswerType.TABLE)


def _photos_wanted(item: Item) -> int:
    count = int((item.evidence or {}).get("photo_count") or 0)
    return max(count, 1) if item.answer_type == AnswerType.PHOTO else count


def _visit_items(template_id: int):
    return list(Item.objects.filter(template_id=template_id, required=True)
                .exclude(answer_type=AnswerType.DERIVED).select_related("section")
                .order_by("section__order", "section_id", "order", "pk"))


def honest_visit_bound(template_id: int) -> dt.timedelta:
    """The longest an honest investigation on this template can take, arrival to acceptance:
    the seed starts its story clock this much per file before the present."""
    policy = _visit_policy()
    items = _visit_items(template_id)
    sections = len({item.section_id for item in items})
    answering = sum(policy["per_item_s"] * (_PACE_WRITTEN if _is_written(item)
                                            else _PACE_QUICK)[1] for item in items)
    photos = sum(_photos_wanted(item) for item in items) * _PHOTO_S[1]
    visit = max(2 * _ARRIVAL_S[1] + answering + photos + sections * _SECTION_WALK_S[1],
                60 * (max(policy["on_site_min"], policy["together_min"]) + _STAY_EXTRA_MIN[1]))
    return _seconds(visit) + _minutes(_SUBMIT_AFTER_MIN[1] + _REVIEW_MIN[1] + 5)


def _honest_visit(investigation: Investigation, application: Application, manager: User, *,
                  clock) -> Investigation:
    """Both officers arrive and check in together, the lead opens the form; they answer section
    by section at a human pace (each section by one of them), take every photo the checklist
    asks for on the spot (uploaded and checked through the documents service, the answers
    citing those documents), stay the policy's time on site, check out and submit (issue #18).
    The story clock moves forward between the steps."""
    from apps.documents.demo import demo_seed, site_photo_take

    rng = _rng(application, "visit")
    policy = _visit_policy()
    lat, lng = _site(application)
    lead, assistant = manager, investigation.assisting_officer
    arrived = clock.now()
    if investigation.state == InvestigationState.ASSIGNED:
        investigation = workflow.investigation_start(investigation_id=investigation.pk,
                                                     actor=lead)
    for officer in (lead, assistant):
        clock.advance(_seconds(rng.uniform(*_ARRIVAL_S)))
        workflow.site_check_in(investigation_id=investigation.pk, officer=officer,
                               lat=f"{_jitter(lat, rng):.6f}", lng=f"{_jitter(lng, rng):.6f}",
                               accuracy_m=Decimal(rng.randint(5, 15)))
    answered = set(investigation.answers.values_list("item_id", flat=True))
    sections: list[int] = []
    taken = 0
    for item in _visit_items(investigation.template_id):
        if item.pk in answered:
            continue
        if item.section_id not in sections:
            if sections:
                clock.advance(_seconds(rng.uniform(*_SECTION_WALK_S)))
            sections.append(item.section_id)
        photos = []
        for _n in range(_photos_wanted(item)):
            clock.advance(_seconds(rng.uniform(*_PHOTO_S)))
            taken += 1
            photos.append(str(site_photo_take(
                application, lead, site=(lat, lng), item_code=item.code,
                seed=10_000_000 + demo_seed(application) * 100 + taken)))
        pace = _PACE_WRITTEN if _is_written(item) else _PACE_QUICK
        clock.advance(_seconds(policy["per_item_s"] * rng.uniform(*pace)))
        evidence = _demo_evidence(item)
        evidence.pop("photos", None)
        if item.answer_type == AnswerType.PHOTO:
            value = photos
        else:
            value = _honest_value(item, application)
            if photos:
                evidence["photos"] = photos
        # The two officers share the form: alternate sections are the assistant's.
        officer = lead if len(sections) % 2 else assistant
        workflow.answer_save(investigation_id=investigation.pk, item_code=item.code,
                             value=value, evidence=evidence, actor=officer)
    _collect_on_site(application, lead)
    # Both stay until the policy's time on site has passed, with a margin, then leave.
    stay = max(policy["on_site_min"], policy["together_min"]) + rng.uniform(*_STAY_EXTRA_MIN)
    clock.advance_to(arrived + _minutes(stay))
    for officer in (assistant, lead):
        clock.advance(_seconds(rng.uniform(10, 60)))
        workflow.site_check_out(investigation_id=investigation.pk, officer=officer,
                                lat=f"{_jitter(lat, rng):.6f}", lng=f"{_jitter(lng, rng):.6f}")
    clock.advance(_minutes(rng.uniform(*_SUBMIT_AFTER_MIN)))
    return workflow.investigation_submit(investigation_id=investigation.pk, actor=lead)


def _jitter(value, rng, metres: float = 20) -> float:
    """A phone's reading of `value` (degrees): within `metres` of it."""
    return float(value) + rng.uniform(-metres, metres) / 111_000


def _send_to_approval(application: Application, reviewer: User) -> Application:
    """The reviewer's structured opinion fixes the route (seeding the matrix, committees and
    their approvers first when a test world has none)."""
    from apps.approvals.seed import seed_approvals
    from apps.approvals.services import review_send_to_approval

    seed_approvals()
    review_send_to_approval(
        application_id=application.pk, actor=reviewer,
        risks="Thin margins; a single large customer.",
        mitigations="Cash flow covers repayments 1.6 times; controller guarantee.")
    return Application.objects.get(pk=application.pk)


def _sign_route(application: Application) -> Application:
    """Every step of the route signed through the approvals services by someone eligible."""
    from apps.approvals.demo import sign_route

    sign_route(application, password=DEMO_PASSWORD)
    return Application.objects.get(pk=application.pk)


def _contract(application: Application, officer: User) -> Application:
    """The disbursement unit ticks the conditions precedent with evidence, then contracts."""
    from apps.approvals.demo import satisfy_conditions

    satisfy_conditions(application, officer)
    return services.application_contract(application_id=application.pk, actor=officer)


def _collect_documents(application: Application, manager: User) -> Application:
    """Upload (and check) what the product requires before review; a product without
    document requirements (test worlds) gets nothing."""
    from apps.documents.demo import collect_required_documents

    collect_required_documents(application, manager, site=_site(application))
    return application


# The main road, in order; each step names the role (by username prefix) that takes it.
_ROAD = [
    (S.SUBMITTED, "am", lambda a, u: services.application_submit(application_id=a.pk, actor=u)),
    # Reaching investigating runs the whole investigation to acceptance, so a file "in
    # investigation" can be sent to review at once (as the application tests expect).
    (S.INVESTIGATING, "am", lambda a, u, honest=False, clock=None: _investigate(
        services.application_start_investigation(application_id=a.pk, actor=u), u,
        honest=honest, clock=clock)),
    (S.UNDER_REVIEW, "am", lambda a, u: services.application_send_to_review(
        application_id=_collect_documents(a, u).pk, actor=u)),
    (S.IN_APPROVAL, "reviewer", lambda a, u: _send_to_approval(a, u)),
    (S.APPROVED, "approver", lambda a, u: _sign_route(a)),
    (S.CONTRACTED, "postloan", _contract),
    (S.DISBURSED, "postloan", lambda a, u: services.application_disburse(
        application_id=a.pk, actor=u)),
]

# Side exits: (state to reach first, role, move).
_EXITS = {
    S.RETURNED: (S.UNDER_REVIEW, "reviewer", lambda a, u: services.application_return_for_rework(
        application_id=a.pk, actor=u, comment="Add the premises lease and 12 months of "
                                              "bank statements.")),
    S.REJECTED: (S.UNDER_REVIEW, "reviewer", lambda a, u: services.application_reject(
        application_id=a.pk, actor=u, reason="Declared revenue not supported by tax records.")),
    S.WITHDRAWN: (S.SUBMITTED, "am", lambda a, u: services.application_withdraw(
        application_id=a.pk, actor=u, reason="The customer found cheaper funding.")),
    S.EXPIRED: (S.DRAFT, None, lambda a, u: services.application_expire(
        application_id=a.pk, reason="Draft idle beyond the policy limit.")),
}


def investigates(state: str) -> bool:
    """Whether walking a draft to `state` runs its investigation."""
    target = _EXITS[state][0] if state in _EXITS else state
    road = [reached for reached, _prefix, _move in _ROAD]
    return target in road and road.index(target) >= road.index(S.INVESTIGATING)


def walk_to_state(application: Application, state: str, *, branch_code: str,
                  honest: bool = False, clock=None) -> Application:
    """Move `application` (a draft) to `state` with the branch's demo staff. With `honest`
    (the demo seed only), the investigation is made as a real visit would be, taking its time
    on `clock` (`apps.demo.clock.StoryClock`; issue #18); the default keeps the quick
    box-ticked walk the tests rely on."""
    def staff(prefix: str | None) -> User | None:
        return None if prefix is None else User.objects.get(username=f"{prefix}.{branch_code}")

    target, exit_move = state, None
    if state in _EXITS:
        target, prefix, move = _EXITS[state]
        exit_move = (prefix, move)
    for _reached, prefix, move in _ROAD:
        if application.state == target:
            break
        if clock is not None and _reached == S.INVESTIGATING:
            application = move(application, staff(prefix), honest=honest, clock=clock)
        else:
            application = move(application, staff(prefix))
    if exit_move is not None:
        application = exit_move[1](application, staff(exit_move[0]))
    return Application.objects.get(pk=application.pk)

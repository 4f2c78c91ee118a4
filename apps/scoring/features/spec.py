"""The declared feature set: one row per characteristic, where it comes from, and its kind.

One spec serves training (the synthetic generator and database training sets produce exactly
these names), scoring (the assembler reads each source named here) and monitoring (drift per
feature). Checklist items are named by their item code in the built-in template
(apps/investigations/templates_data/three_products_three_tables.yaml); a feature whose item
the template in use does not ask is *missing*, never zero (domain reference §7.2 step 1:
"separate bins for missing values").

Sources:
  enterprise  Enterprise profile (apps.parties): age, size class, industry, tax rating
  terms       the application's own terms (amount requested)
  checklist   an answer (or derived value) of the investigation, by item code
  findings    red flags and cross-check findings stored on the investigation at submission
  documents   figures parsed from documents (apps.investigations.evidence.figures_for)
  exposure    related-party exposure of the enterprise's group (apps.applications.exposure)
"""

from dataclasses import dataclass

from django.utils.translation import gettext_lazy as _

from apps.scoring.scorecard.binning import CATEGORICAL, NUMERIC

SPEC_VERSION = "credence.features/1"


@dataclass(frozen=True)
class Feature:
    name: str
    kind: str          # NUMERIC | CATEGORICAL
    source: str        # see the module docstring
    items: tuple = ()  # checklist item codes (or figure keys) the value is computed from
    description: object = ""  # translatable label


FEATURES: tuple[Feature, ...] = (
    # --- enterprise profile (5C: conditions, capital) -----------------------------------------
    Feature("firm_age_years", NUMERIC, "enterprise", (), _("Years since registration")),
    Feature("size_class", CATEGORICAL, "enterprise", (), _("MIIT size class (§5.5)")),
    Feature("industry", CATEGORICAL, "enterprise", (), _("GB/T 4754 section letter")),
    Feature("annual_revenue_10k", NUMERIC, "enterprise", (), _("Annual revenue, 10,000 CNY")),
    Feature("tax_rating", CATEGORICAL, "checklist", ("B9_TAX_GRADE",),
            _("Tax credit grade (checklist B9, else the enterprise record)")),
    Feature("premises_owned", CATEGORICAL, "checklist", ("C2_PREMISES",),
            _("Premises owned (yes) or leased (no), checklist C2")),
    Feature("loan_to_revenue", NUMERIC, "terms", (), _("Amount requested / annual revenue")),
    # --- IPC reconstruction (capacity, capital) -----------------------------------------------
    Feature("debt_to_assets", NUMERIC, "checklist", ("D7_LEVERAGE",),
            _("Reconstructed liabilities / assets (D1)")),
    Feature("instalment_to_free_cf", NUMERIC, "checklist", ("D3_DEBT_SERVICE",),
            _("Proposed instalment / monthly free cash flow (D3)")),
    Feature("gross_margin", NUMERIC, "checklist", ("D2_ANNUAL_SALES", "D2_ANNUAL_COGS"),
            _("(Sales − cost of sales) / sales (D2)")),
    Feature("inventory_days", NUMERIC, "checklist", ("D6_INVENTORY_DAYS",),
            _("Inventory days (D6)")),
    # --- character and credit history (soft and bureau information) ---------------------------
    Feature("controller_experience_years", NUMERIC, "checklist", ("A7_EXPERIENCE_YEARS",),
            _("Controller's years in the trade (A7; missing where the template lacks it)")),
    Feature("m1_count_24m", NUMERIC, "checklist", ("B2_M1_COUNT",),
            _("Controller's M1+ delinquencies in 24 months (B2)")),
    Feature("inquiries_6m", NUMERIC, "checklist", ("B3_INQUIRIES",),
            _("Credit inquiries in 6 months (B3)")),
    Feature("card_utilisation_pct", NUMERIC, "checklist", ("B5_CARD_UTILISATION",),
            _("Controller's card utilisation, % (B5)")),
    Feature("spouse_consent", CATEGORICAL, "checklist", ("B11_SPOUSE_CONSENT",),
            _("Spouse aware and co-signing (B11)")),
    Feature("site_status", CATEGORICAL, "checklist", ("C3_STATUS",),
            _("Operating status seen on site (C3)")),
    Feature("top_customer_share_pct", NUMERIC, "checklist", ("C4_TOP_CUSTOMER_SHARE",),
            _("Largest customer's share of sales, % (C4)")),
    # --- alternative data: utilities, tax, bank flows -----------------------------------------
    Feature("utility_trend_pct", NUMERIC, "checklist", ("E1_KWH_TREND",),
            _("Year-on-year change in electricity use, % (E1)")),
    Feature("tax_paid_trend_pct", NUMERIC, "checklist",
            ("E3_TAX_PAID_12M", "E3_TAX_PAID_PRIOR_12M"),
            _("Year-on-year change in tax paid, % (E3)")),
    Feature("statement_source", CATEGORICAL, "checklist", ("F1_SOURCE",),
            _("How the bank statements were obtained (F1)")),
    Feature("revenue_deviation", NUMERIC, "checklist",
            ("D2_ANNUAL_SALES", "E3_VAT_SALES_12M", "F2_EFFECTIVE_INFLOW", "bank.inflows_12m",
             "tax.revenue_12m"),
            _("Largest pairwise deviation between independent sales sources (D4 cross-check)")),
    Feature("bank_inflow_to_sales", NUMERIC, "documents", ("bank.inflows_12m",),
            _("Parsed bank inflows / declared sales")),
    Feature("bank_top_counterparty_share", NUMERIC, "documents",
            ("bank.top_counterparty_share",), _("Largest counterparty's share of inflows")),
    Feature("bank_round_trip_share", NUMERIC, "documents", ("bank.round_trip_share",),
            _("Share of inflows sent back within 3 days")),
    # --- findings of the investigation --------------------------------------------------------
    Feature("red_flags_r3", NUMERIC, "findings", (), _("R3 red flags at submission")),
    Feature("red_flags_r2", NUMERIC, "findings", (), _("R2 red flags at submission")),
    Feature("cross_check_breaches", NUMERIC, "findings", (),
            _("Cross-checks beyond their thresholds")),
    # --- related parties ----------------------------------------------------------------------
    Feature("group_exposure_to_revenue", NUMERIC, "exposure", (),
            _("Group credit exposure (booked, approved, requested) / annual revenue")),
)

FEATURE_NAMES: tuple[str, ...] = tuple(f.name for f in FEATURES)
KINDS: dict[str, str] = {f.name: f.kind for f in FEATURES}
BY_NAME: dict[str, Feature] = {f.name: f for f in FEATURES}

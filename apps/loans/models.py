"""The loan book: contracts, drawdowns (借据), repayment schedules and the core-banking feed.

Domain reference §2.5 (payment modes, 受托支付), §5 (days past due) and §6.3 (conditions
precedent and covenants). The bank's core system stays the book of record for balances: what it
sends (repayments, reversals, balances) is kept as immutable events keyed by the core's own
record id, and days past due are recomputed from the schedule and those events, never typed.

Transitions only set fields on the instance; services do locking, audit and side effects
(CONVENTIONS §3).
"""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from django_fsm import FSMField, transition

from apps.core.models import TimeStampedModel, WorkflowModel
from apps.loans import permissions as may
from apps.loans.states import (
    ContractState,
    DisbursementState,
    LoanChangeState,
    LoanState,
)
from apps.parties.money import Currency, MoneyField
from apps.products.models import CollateralType, DayCount, RepaymentMethod

__all__ = ["DayCount"]  # defined with the product (product data); re-exported for the loan book


class PaymentMode(models.TextChoices):
    """《流动资金贷款管理办法》: the bank pays the counterparty, or the borrower pays and
    reports how it used the funds."""

    ENTRUSTED = "entrusted", _("Entrusted payment (受托支付): the bank pays the payee")
    INDEPENDENT = "independent", _("Independent payment (自主支付): the borrower pays")


class ScheduleMethod(models.TextChoices):
    """Repayment methods a schedule can be built with; `irregular` is an uploaded table."""

    EQUAL_INSTALMENT = (RepaymentMethod.EQUAL_INSTALMENT.value,
                        RepaymentMethod.EQUAL_INSTALMENT.label)
    EQUAL_PRINCIPAL = RepaymentMethod.EQUAL_PRINCIPAL.value, RepaymentMethod.EQUAL_PRINCIPAL.label
    INTEREST_ONLY_BULLET = (RepaymentMethod.INTEREST_ONLY_BULLET.value,
                            RepaymentMethod.INTEREST_ONLY_BULLET.label)
    IRREGULAR = "irregular", _("Irregular (uploaded schedule)")


class SigningMode(models.TextChoices):
    """The 2024 "three measures" allow face-to-face or video signing (domain §2.5)."""

    IN_PERSON = "in_person", _("In person (面签)")
    VIDEO = "video", _("By video (视频签约)")


class LoanContract(WorkflowModel):
    """The signed loan contract for one approved application, on the approved terms.

    Terms are copied from the approval (approved amount, never the requested one), so a later
    change to the application or product cannot rewrite what was signed. Conditions precedent
    and covenants are carried over as a snapshot (`conditions`).
    """

    application = models.OneToOneField("applications.Application", on_delete=models.PROTECT,
                                       related_name="loan_contract",
                                       verbose_name=_("application"))
    contract_number = models.CharField(_("contract number"), max_length=32, unique=True)
    # Copied for scoping and lists: the contract stays with the branch that took the file.
    branch = models.ForeignKey("org.Branch", on_delete=models.PROTECT, related_name="+",
                               verbose_name=_("branch"))
    enterprise = models.ForeignKey("parties.Enterprise", on_delete=models.PROTECT,
                                   related_name="loan_contracts", verbose_name=_("borrower"))
    state = FSMField(_("state"), default=ContractState.SIGNED, choices=ContractState.choices,
                     protected=True, db_index=True)
    currency = models.CharField(_("currency"), max_length=3, choices=Currency.choices,
                                default=Currency.CNY)
    amount = MoneyField(_("contract amount"))
    annual_rate = models.DecimalField(_("annual rate (%)"), max_digits=6, decimal_places=3)
    term_months = models.PositiveSmallIntegerField(_("term (months)"))
    repayment_method = models.CharField(_("repayment method"), max_length=20,
                                        choices=ScheduleMethod.choices)
    day_count = models.CharField(_("day count"), max_length=10, choices=DayCount.choices,
                                 default=DayCount.ACT_360)
    collateral_type = models.CharField(_("collateral"), max_length=20,
                                       choices=CollateralType.choices)
    # {"conditions_precedent": [{"text", "state", "satisfied_by", ...}], "covenants": [...]}
    conditions = models.JSONField(_("conditions and covenants"), default=dict, blank=True)
    signed_at = models.DateTimeField(_("signed at"), null=True, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                   related_name="+", verbose_name=_("prepared by"))
    # Which contract text was signed: the template file's version and the hash of its content,
    # so the PDF can be re-rendered word for word years later (domain §0.2).
    template_version = models.CharField(_("contract template version"), max_length=40,
                                        default="", editable=False)
    template_sha256 = models.CharField(_("contract template hash"), max_length=64,
                                       default="", editable=False)
    # SigningEvent (domain §2.5): how the borrower signed, where, and the second bank witness.
    signing_mode = models.CharField(_("signing mode"), max_length=12,
                                    choices=SigningMode.choices, default=SigningMode.IN_PERSON)
    signing_place = models.CharField(_("signing place"), max_length=200, blank=True)
    signing_witness = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                        on_delete=models.PROTECT, related_name="+",
                                        verbose_name=_("second bank officer present"))
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    closed_reason = models.TextField(_("reason closed or cancelled"), blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("loan contract")
        verbose_name_plural = _("loan contracts")
        constraints = [
            models.CheckConstraint(condition=models.Q(amount__gt=0),
                                   name="loans_contract_amount_positive"),
        ]

    def __str__(self) -> str:
        return self.contract_number

    @transition(field=state, source=ContractState.SIGNED, target=ContractState.CANCELLED,
                permission=may.can_operate_contract)
    def cancel(self, *, at, reason) -> None:
        """Cancelled before any drawdown was booked (the service checks there is none)."""
        self.closed_at, self.closed_reason = at, reason

    @transition(field=state, source=ContractState.SIGNED, target=ContractState.CLOSED,
                permission=may.can_operate_contract)
    def close(self, *, at, reason) -> None:
        """No further drawdowns: the undrawn amount is given up; booked loans run on."""
        self.closed_at, self.closed_reason = at, reason


class Disbursement(WorkflowModel):
    """One drawdown request under a contract: made by one operations officer, approved by a
    second (four-eyes, 独立放款). Approval books the `Loan` (借据) for this tranche."""

    contract = models.ForeignKey(LoanContract, on_delete=models.PROTECT,
                                 related_name="disbursements", verbose_name=_("contract"))
    state = FSMField(_("state"), default=DisbursementState.REQUESTED,
                     choices=DisbursementState.choices, protected=True, db_index=True)
    amount = MoneyField(_("amount"))
    value_date = models.DateField(_("value date"))
    borrower_account = models.CharField(_("borrower account"), max_length=40)
    payment_mode = models.CharField(_("payment mode"), max_length=12,
                                    choices=PaymentMode.choices)
    payee_name = models.CharField(_("payee"), max_length=200, blank=True)
    payee_account = models.CharField(_("payee account"), max_length=40, blank=True)
    invoice_document = models.ForeignKey("documents.Document", null=True, blank=True,
                                         on_delete=models.PROTECT, related_name="+",
                                         verbose_name=_("invoice or underlying contract"))
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                     related_name="+", verbose_name=_("requested by"))
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                   on_delete=models.PROTECT, related_name="+",
                                   verbose_name=_("approved or rejected by"))
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    decision_note = models.TextField(_("decision note"), blank=True)
    # The contract's method, or `irregular` with the uploaded table the maker attached
    # ([["2026-03-10", "4000.00"], ...], validated when requested).
    repayment_method = models.CharField(_("repayment method"), max_length=20,
                                        choices=ScheduleMethod.choices, default="")
    irregular_rows = models.JSONField(_("uploaded schedule"), default=list, blank=True)

    class Meta:
        ordering = ["contract", "id"]
        verbose_name = _("disbursement")
        verbose_name_plural = _("disbursements")
        constraints = [
            models.CheckConstraint(condition=models.Q(amount__gt=0),
                                   name="loans_disbursement_amount_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.contract_id}/{self.pk}"

    @transition(field=state, source=DisbursementState.REQUESTED,
                target=DisbursementState.APPROVED, permission=may.can_check_disbursement)
    def approve(self, *, by, at, note) -> None:
        """The second officer checks and approves (独立放款, four-eyes); a loan is booked."""
        self.decided_by, self.decided_at, self.decision_note = by, at, note

    @transition(field=state, source=DisbursementState.REQUESTED,
                target=DisbursementState.REJECTED, permission=may.can_check_disbursement)
    def reject(self, *, by, at, note) -> None:
        """The second officer refuses the request, saying why."""
        self.decided_by, self.decided_at, self.decision_note = by, at, note

    @transition(field=state, source=DisbursementState.REQUESTED,
                target=DisbursementState.CANCELLED, permission=may.is_requester)
    def cancel(self, *, at, note) -> None:
        """The requesting officer withdraws the request before it is decided."""
        self.decided_at, self.decision_note = at, note


class Loan(WorkflowModel):
    """A loan note (借据): one drawdown under a contract, with its own schedule and servicing.

    Balances and overdue figures come from the core system's feed; days past due (principal
    and interest separately) are recomputed from the schedule and the repayment events and
    written here with their history in `LoanDpd`.
    """

    # Unique through a constraint, not `unique=True`: on PostgreSQL that also builds a
    # pattern-matching (`_like`) index nothing queries (loans are looked up by number with
    # equality; the list's search is case-insensitive, which that index cannot serve), and
    # every index on a loan row is one more entry per DPD or balance update (issue #14).
    loan_number = models.CharField(_("loan number"), max_length=32)
    contract = models.ForeignKey(LoanContract, on_delete=models.PROTECT, related_name="loans",
                                 verbose_name=_("contract"))
    disbursement = models.OneToOneField(Disbursement, on_delete=models.PROTECT,
                                        related_name="loan", verbose_name=_("disbursement"))
    # Copied from the contract for scoping, lists and portfolio figures without joins.
    application = models.ForeignKey("applications.Application", on_delete=models.PROTECT,
                                    related_name="loans", verbose_name=_("application"))
    # Enterprise, branch and officer: no index of their own; the (enterprise, state),
    # (branch, state) and (officer, state) indexes in Meta lead with them and serve every
    # lookup by them alone (and the foreign keys' checks). A loan row is updated by every DPD
    # recomputation and feed balance, each update adding an entry to every index (an indexed
    # `updated_at` rules out HOT updates): fewer indexes, cheaper updates (issue #14).
    enterprise = models.ForeignKey("parties.Enterprise", on_delete=models.PROTECT,
                                   related_name="loans", verbose_name=_("borrower"),
                                   db_index=False)
    branch = models.ForeignKey("org.Branch", on_delete=models.PROTECT, related_name="+",
                               verbose_name=_("branch"), db_index=False)
    product_version = models.ForeignKey("products.ProductVersion", on_delete=models.PROTECT,
                                        related_name="+", verbose_name=_("product version"))
    # The officer answerable for the loan after disbursement (post-loan duties, metrics).
    officer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                related_name="loans", verbose_name=_("responsible officer"),
                                db_index=False)
    # Indexed in Meta (a plain index: `db_index=True` also built a pattern-matching one that
    # nothing queries; states are compared by equality).
    state = FSMField(_("state"), default=LoanState.PENDING, choices=LoanState.choices,
                     protected=True)

    currency = models.CharField(_("currency"), max_length=3, choices=Currency.choices,
                                default=Currency.CNY)
    principal = MoneyField(_("principal disbursed"))
    annual_rate = models.DecimalField(_("annual rate (%)"), max_digits=6, decimal_places=3)
    day_count = models.CharField(_("day count"), max_length=10, choices=DayCount.choices,
                                 default=DayCount.ACT_360)
    repayment_method = models.CharField(_("repayment method"), max_length=20,
                                        choices=ScheduleMethod.choices)
    payment_mode = models.CharField(_("payment mode"), max_length=12,
                                    choices=PaymentMode.choices)
    value_date = models.DateField(_("value date"))
    maturity_date = models.DateField(_("maturity date"))
    # The schedule in force (a restructuring writes a new version; old ones stay).
    schedule_version = models.PositiveSmallIntegerField(_("schedule version"), default=1)

    # Servicing figures: from the core feed (balances) and the DPD recomputation.
    outstanding_principal = MoneyField(_("outstanding principal"))
    overdue_principal = MoneyField(_("overdue principal"), default=0)
    overdue_interest = MoneyField(_("overdue interest"), default=0)
    balance_as_of = models.DateField(_("balances as of"), null=True, blank=True)
    dpd_principal = models.PositiveIntegerField(_("days past due, principal"), default=0)
    dpd_interest = models.PositiveIntegerField(_("days past due, interest"), default=0)
    dpd_as_of = models.DateField(_("days past due as of"), null=True, blank=True)
    closed_at = models.DateField(_("closed on"), null=True, blank=True)
    closed_reason = models.TextField(_("reason closed"), blank=True)

    class Meta:
        ordering = ["-value_date", "-id"]
        verbose_name = _("loan")
        verbose_name_plural = _("loans")
        indexes = [models.Index(fields=["branch", "state"]),
                   models.Index(fields=["officer", "state"]),
                   models.Index(fields=["enterprise", "state"]),
                   models.Index(fields=["state"], name="loans_loan_state_idx")]
        constraints = [
            models.UniqueConstraint(fields=["loan_number"], name="loans_loan_number_unique"),
            models.CheckConstraint(condition=models.Q(principal__gt=0),
                                   name="loans_loan_principal_positive"),
            models.CheckConstraint(condition=models.Q(outstanding_principal__gte=0),
                                   name="loans_loan_outstanding_not_negative"),
        ]

    def __str__(self) -> str:
        return self.loan_number

    @property
    def dpd(self) -> int:
        """Days past due on principal or interest, whichever is longer (§0.3)."""
        return max(self.dpd_principal, self.dpd_interest)

    # --- transitions: fields on self only; the services lock, check and audit ---------------

    @transition(field=state, source=LoanState.PENDING, target=LoanState.ACTIVE,
                permission=may.nobody, conditions=[may.value_date_reached])
    def activate(self) -> None:
        """The value date is reached: interest runs from today (the daily sweep does this)."""

    @transition(field=state, source=[LoanState.ACTIVE, LoanState.RESTRUCTURED],
                target=LoanState.SETTLED, permission=may.nobody,
                conditions=[may.nothing_outstanding])
    def settle(self, *, on, reason) -> None:
        """Repaid in full, as the core system reports (called by the servicing feed)."""
        self.closed_at, self.closed_reason = on, reason

    @transition(field=state, source=[LoanState.ACTIVE, LoanState.RESTRUCTURED],
                target=LoanState.RESTRUCTURED, permission=may.nobody)
    def restructure(self, *, schedule_version, rate, repayment_method, maturity_date) -> None:
        """New terms approved by a second officer; the new schedule version is in force."""
        self.schedule_version, self.annual_rate = schedule_version, rate
        self.repayment_method, self.maturity_date = repayment_method, maturity_date

    @transition(field=state, source=[LoanState.ACTIVE, LoanState.RESTRUCTURED],
                target=LoanState.WRITTEN_OFF, permission=may.nobody)
    def write_off(self, *, on, reason) -> None:
        """Written off (核销) after a second officer approved; recovery goes on outside."""
        self.closed_at, self.closed_reason = on, reason

    @transition(field=state, source=[LoanState.ACTIVE, LoanState.RESTRUCTURED],
                target=LoanState.TRANSFERRED, permission=may.nobody)
    def transfer(self, *, on, reason) -> None:
        """Sold or transferred out (e.g. to an asset-management company) after approval."""
        self.closed_at, self.closed_reason = on, reason


class ScheduleInstalment(models.Model):
    """One due date of a loan's repayment schedule, in the schedule version it belongs to."""

    loan = models.ForeignKey(Loan, on_delete=models.CASCADE, related_name="instalments",
                             verbose_name=_("loan"))
    version = models.PositiveSmallIntegerField(_("schedule version"), default=1)
    number = models.PositiveSmallIntegerField(_("instalment"))
    due_date = models.DateField(_("due date"))
    principal = MoneyField(_("principal due"))
    interest = MoneyField(_("interest due"))
    # The day the version comes into force (the same on all its rows): the loan's value date
    # for the first, the restructuring's business day for a later one. Days past due on a day
    # are counted against the version in force that day (apps.loans.dpd, "Restructuring").
    effective_from = models.DateField(_("in force from"))

    class Meta:
        ordering = ["loan", "version", "number"]
        verbose_name = _("schedule instalment")
        verbose_name_plural = _("schedule instalments")
        constraints = [
            models.UniqueConstraint(fields=["loan", "version", "number"],
                                    name="loans_instalment_unique_number"),
            models.CheckConstraint(condition=models.Q(principal__gte=0, interest__gte=0),
                                   name="loans_instalment_not_negative"),
        ]

    def __str__(self) -> str:
        return f"{self.loan_id} v{self.version} #{self.number} {self.due_date}"


class LoanChange(WorkflowModel):
    """A four-eyes request to restructure, write off or transfer a loan: one officer asks with
    a reason, a second officer (never the maker) approves or rejects; approval moves the loan.

    Restructuring carries the new terms (rate, term from today, method) in `terms`; the new
    schedule becomes the loan's next schedule version and the old rows are kept.
    """

    class Kind(models.TextChoices):
        RESTRUCTURE = "restructure", _("Restructure")
        WRITE_OFF = "write_off", _("Write off")
        TRANSFER = "transfer", _("Transfer")

    loan = models.ForeignKey(Loan, on_delete=models.PROTECT, related_name="changes",
                             verbose_name=_("loan"))
    # Copied for scoping and audit: the branch and application the loan belongs to.
    application = models.ForeignKey("applications.Application", on_delete=models.PROTECT,
                                    related_name="+", verbose_name=_("application"))
    branch = models.ForeignKey("org.Branch", on_delete=models.PROTECT, related_name="+",
                               verbose_name=_("branch"))
    kind = models.CharField(_("change"), max_length=12, choices=Kind.choices)
    state = FSMField(_("state"), default=LoanChangeState.REQUESTED,
                     choices=LoanChangeState.choices, protected=True, db_index=True)
    reason = models.TextField(_("reason"))
    # restructure: {"annual_rate": "4.350", "term_months": 12, "method": "equal_principal"}
    terms = models.JSONField(_("new terms"), default=dict, blank=True)
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                     related_name="+", verbose_name=_("requested by"))
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                   on_delete=models.PROTECT, related_name="+",
                                   verbose_name=_("approved or rejected by"))
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    decision_note = models.TextField(_("decision note"), blank=True)

    class Meta:
        ordering = ["loan", "-created_at", "-id"]
        verbose_name = _("loan change request")
        verbose_name_plural = _("loan change requests")
        constraints = [
            # One open request per loan: two makers cannot race different changes through.
            models.UniqueConstraint(fields=["loan"],
                                    condition=models.Q(state=LoanChangeState.REQUESTED),
                                    name="loans_one_open_change"),
        ]

    def __str__(self) -> str:
        return f"{self.loan_id} {self.kind} {self.state}"

    @transition(field=state, source=LoanChangeState.REQUESTED, target=LoanChangeState.APPROVED,
                permission=may.can_check_change)
    def approve(self, *, by, at, note) -> None:
        """A second officer approves; the service applies the change to the loan."""
        self.decided_by, self.decided_at, self.decision_note = by, at, note

    @transition(field=state, source=LoanChangeState.REQUESTED, target=LoanChangeState.REJECTED,
                permission=may.can_check_change)
    def reject(self, *, by, at, note) -> None:
        """A second officer refuses, saying why; the loan is unchanged."""
        self.decided_by, self.decided_at, self.decision_note = by, at, note


class FeedImport(TimeStampedModel):
    """One batch from the core system (a dropped file or one API call): accepted whole or
    refused whole, with every refused row named by line and reason."""

    class Source(models.TextChoices):
        FILE = "file", _("File drop")
        API = "api", _("API")

    class Outcome(models.TextChoices):
        ACCEPTED = "accepted", _("Accepted")
        REFUSED = "refused", _("Refused")

    source = models.CharField(_("source"), max_length=8, choices=Source.choices)
    filename = models.CharField(_("file name"), max_length=255, blank=True)
    sha256 = models.CharField(_("content hash"), max_length=64, db_index=True)
    outcome = models.CharField(_("outcome"), max_length=10, choices=Outcome.choices)
    rows_total = models.PositiveIntegerField(_("rows"), default=0)
    rows_new = models.PositiveIntegerField(_("new rows"), default=0)
    rows_duplicate = models.PositiveIntegerField(_("rows already imported"), default=0)
    # [{"line": 7, "field": "amount", "reason_en": "...", "reason_zh": "..."}]
    errors = models.JSONField(_("refused rows"), default=list, blank=True)
    imported_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                    on_delete=models.PROTECT, related_name="+",
                                    verbose_name=_("imported by"))

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("core-banking feed import")
        verbose_name_plural = _("core-banking feed imports")

    def __str__(self) -> str:
        return f"{self.get_source_display()} {self.filename} {self.outcome}"


class RepaymentEvent(models.Model):
    """A repayment or a reversal of one, as the core system booked it. Immutable: a correction
    arrives as a reversal naming the record it reverses. Idempotent by the core's record id."""

    class Kind(models.TextChoices):
        REPAYMENT = "repayment", _("Repayment")
        REVERSAL = "reversal", _("Reversal")

    # Indexed by (loan, value date) below: a second index on loan alone would only slow the
    # feed's inserts (migration 0005_feed_lean_indexes). The loan must exist: on PostgreSQL a
    # statement-level trigger checks every statement's rows at once and locks their loans as
    # a foreign key would, and refuses deleting a loan events name (migration
    # 0006_feed_set_based_keys: a per-row foreign-key check was a fifth of a 100,000-row
    # import); the feed refuses a row naming an unknown loan, with line and reason, before
    # that; the ORM's PROTECT refuses the delete everywhere.
    loan = models.ForeignKey(Loan, on_delete=models.PROTECT, related_name="repayments",
                             verbose_name=_("loan"), db_index=False, db_constraint=False)
    # Unique through a constraint, not `unique=True`: on PostgreSQL that also builds a second,
    # pattern-matching index nothing queries (the feed only looks ids up by equality).
    source_record_id = models.CharField(_("core record id"), max_length=64)
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    value_date = models.DateField(_("value date"))
    principal = MoneyField(_("principal"), default=0)
    interest = MoneyField(_("interest"), default=0)
    # A repayment is reversed at most once: unique where set (a partial index, so the
    # repayments, which reverse nothing, add no entry); existence checked with the loan's
    # (see `loan`).
    reverses = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT,
                                 related_name="reversed_by", verbose_name=_("reverses"),
                                 db_index=False, db_constraint=False)
    # The import that brought the row: written in the same transaction as the row, by the
    # feed only, and imports are never deleted (PROTECT). No database constraint and no index:
    # they cost a lookup per inserted row (a third of a 100,000-row import's foreign-key
    # checks) and nothing reads events by import.
    feed_import = models.ForeignKey(FeedImport, on_delete=models.PROTECT, related_name="+",
                                    verbose_name=_("import"), db_index=False,
                                    db_constraint=False)
    received_at = models.DateTimeField(_("received at"), auto_now_add=True)

    class Meta:
        ordering = ["loan", "value_date", "id"]
        verbose_name = _("repayment event")
        verbose_name_plural = _("repayment events")
        indexes = [models.Index(fields=["loan", "value_date"])]
        constraints = [
            models.CheckConstraint(condition=models.Q(principal__gte=0, interest__gte=0),
                                   name="loans_repayment_not_negative"),
            models.UniqueConstraint(fields=["source_record_id"],
                                    name="loans_repayment_record_unique"),
            models.UniqueConstraint(fields=["reverses"], condition=models.Q(reverses__isnull=False),
                                    name="loans_repayment_reversed_once"),
        ]

    def __str__(self) -> str:
        return self.source_record_id


class BalanceSnapshot(models.Model):
    """Balances and overdue amounts the core system reports for a loan on a day."""

    # Indexed by (loan, as of) below; the loan's existence checked as for events (see
    # RepaymentEvent.loan).
    loan = models.ForeignKey(Loan, on_delete=models.PROTECT, related_name="balances",
                             verbose_name=_("loan"), db_index=False, db_constraint=False)
    source_record_id = models.CharField(_("core record id"), max_length=64)
    as_of = models.DateField(_("as of"))
    outstanding_principal = MoneyField(_("outstanding principal"))
    overdue_principal = MoneyField(_("overdue principal"), default=0)
    overdue_interest = MoneyField(_("overdue interest"), default=0)
    # See RepaymentEvent.feed_import.
    feed_import = models.ForeignKey(FeedImport, on_delete=models.PROTECT, related_name="+",
                                    verbose_name=_("import"), db_index=False,
                                    db_constraint=False)

    class Meta:
        ordering = ["loan", "as_of", "id"]
        verbose_name = _("balance snapshot")
        verbose_name_plural = _("balance snapshots")
        indexes = [models.Index(fields=["loan", "as_of"])]
        constraints = [
            models.UniqueConstraint(fields=["source_record_id"],
                                    name="loans_balance_record_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.loan_id} {self.as_of}"


class LoanDpd(models.Model):
    """Days-past-due history as change points, written on the days the arrears start, end or
    their first unpaid due date moves: between two rows the first unpaid due date stays the
    same, so the count grows by one a day while positive (`apps.loans.dpd.dpd_on`). Rewritten
    from the first affected day when a back-dated repayment or reversal arrives, so the
    history always equals a recomputation from scratch."""

    # Indexed by the unique (loan, as of) below. No database foreign key: the history is
    # derived data, written only by the DPD engine for loans whose rows it holds locked and
    # recomputable from the events at any time, and the per-row check cost a 100,000-row
    # feed import ~0.2 s (~55,000 points, one check each, against loan rows the same
    # transaction had just updated). Deleting a loan through the ORM still deletes its history
    # (CASCADE is applied by Django); a raw SQL delete would leave orphans, which nothing reads.
    loan = models.ForeignKey(Loan, on_delete=models.CASCADE, related_name="dpd_history",
                             verbose_name=_("loan"), db_index=False, db_constraint=False)
    as_of = models.DateField(_("from"))
    dpd_principal = models.PositiveIntegerField(_("days past due, principal"))
    dpd_interest = models.PositiveIntegerField(_("days past due, interest"))

    class Meta:
        ordering = ["loan", "as_of"]
        verbose_name = _("days-past-due history")
        verbose_name_plural = _("days-past-due history")
        constraints = [
            models.UniqueConstraint(fields=["loan", "as_of"], name="loans_dpd_unique_day"),
        ]

    def __str__(self) -> str:
        return f"{self.loan_id} {self.as_of}: {self.dpd_principal}/{self.dpd_interest}"

"""Summaries the dashboards read instead of rescanning the audit trail on every view.

They are derived data, never a record: rebuilt from the audit trail at any time
(`manage.py insight_summaries --rebuild`), kept current incrementally from a watermark over the
trail's `seq` by a beat task (apps/insight/summaries.py). Nothing else writes them.
"""

from django.db import models
from django.utils.translation import gettext_lazy as _

from apps.parties.money import MoneyField


class SummaryWatermark(models.Model):
    """How far a summary has read the audit trail: every event with seq <= `seq` is in it.

    The row is also the summary's lock: a run holds it (SELECT … FOR UPDATE) while it reads
    past the watermark and moves it, so two concurrent runs never summarise the same events."""

    name = models.CharField(_("summary"), max_length=50, primary_key=True)
    seq = models.BigIntegerField(_("last audit event summarised"), default=0)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("summary watermark")
        verbose_name_plural = _("summary watermarks")
        default_permissions = ()

    def __str__(self) -> str:
        return f"{self.name} @ {self.seq}"


class StepClock(models.Model):
    """One move of an application out of a step: when it entered the step (the move before,
    by the trail's order; empty for the first move) and when it left it, with the application's
    branch and product (fixed at creation), so the pipeline's time in each step is a range scan
    of this table instead of a window over the trail."""

    seq = models.BigIntegerField(_("audit event of the move"), primary_key=True)
    application_id = models.BigIntegerField(_("application"))
    branch_id = models.BigIntegerField(_("branch"))
    product_id = models.BigIntegerField(_("product"))
    step = models.CharField(_("step left"), max_length=30, null=True, blank=True)
    entered_at = models.DateTimeField(_("entered the step"), null=True, blank=True)
    left_at = models.DateTimeField(_("left the step"))
    # Exactly what the trail gives (left_at - entered_at), in seconds; empty for the first move.
    seconds = models.DecimalField(_("seconds in the step"), max_digits=18, decimal_places=6,
                                  null=True, blank=True)

    class Meta:
        verbose_name = _("step clock")
        verbose_name_plural = _("step clocks")
        default_permissions = ()
        indexes = [
            # The move before a new one: the application's latest row.
            models.Index(fields=["application_id", "seq"], name="insight_clock_app_seq"),
            # The dashboard: moves out in a period, by branch (index-only on PostgreSQL).
            models.Index(fields=["left_at"], name="insight_clock_left",
                         include=["branch_id", "product_id", "step", "seconds", "seq"]),
        ]

    def __str__(self) -> str:
        return f"{self.application_id} left {self.step} (#{self.seq})"


class OpenFile(models.Model):
    """One open application (in a waiting state) and since when it has been in its state: the
    time of its latest move in the trail (its last update if it never moved), with its branch
    and product, so the pipeline's open files by state and age are a scan of this table
    instead of two index probes per open file. Kept by the same refresh as the step clock
    (same watermark, same lock); a file that closes is removed."""

    application_id = models.BigIntegerField(_("application"), primary_key=True)
    state = models.CharField(_("state"), max_length=30)
    since = models.DateTimeField(_("in this state since"))
    branch_id = models.BigIntegerField(_("branch"))
    product_id = models.BigIntegerField(_("product"))
    # The application's account manager (a reassignment is in the trail, so kept with it) and
    # the local date of `since` (settings.TIME_ZONE): the open cell the file is counted in.
    # Empty only in rows written before the open cells, until the next refresh fills them.
    manager_id = models.BigIntegerField(_("account manager"), null=True, blank=True)
    day = models.DateField(_("day in this state since"), null=True, blank=True)

    class Meta:
        verbose_name = _("open file")
        verbose_name_plural = _("open files")
        default_permissions = ()
        indexes = [
            # The dashboard: open files of some branches, by state (index-only on PostgreSQL).
            models.Index(fields=["branch_id", "state"], name="insight_open_branch_state",
                         include=["since", "product_id"]),
            # The open cells: the files of a state's deadline day, the days a refresh counts
            # again (with every waiting state).
            models.Index(fields=["state", "day"], name="insight_open_state_day"),
        ]

    def __str__(self) -> str:
        return f"{self.application_id} {self.state} since {self.since:%Y-%m-%d}"


class OpenCell(models.Model):
    """The open files added up by branch, product, state, account manager and day (the local
    date they entered their state): how many, and the earliest `since`, so the pipeline's open
    files by state, age and account manager add up a few rows a day instead of every open
    file. A page reads a state's cells of the day its deadline falls on, and the cells of the
    files moved since the watermark, file by file instead. Kept with the open files summary
    (same watermark, same lock, apps/insight/summaries.py): each refresh counts again the
    days of the files it moved, before and after the move."""

    branch_id = models.BigIntegerField(_("branch"))
    product_id = models.BigIntegerField(_("product"))
    state = models.CharField(_("state"), max_length=30)
    manager_id = models.BigIntegerField(_("account manager"))
    day = models.DateField(_("day in this state since"))
    files = models.IntegerField(_("open files"))
    oldest = models.DateTimeField(_("earliest in this state since"))

    class Meta:
        verbose_name = _("open cell")
        verbose_name_plural = _("open cells")
        default_permissions = ()
        constraints = [models.UniqueConstraint(
            fields=["day", "state", "branch_id", "product_id", "manager_id"],
            name="insight_opencell_unique")]

    def __str__(self) -> str:
        return f"{self.day} {self.branch_id}/{self.product_id} {self.state}: {self.files}"


class FactWatermark(models.Model):
    """How current a per-row summary (not one read from the audit trail) is: every change
    written before `as_of` is in it; rows changed since (by their `updated_at`) are the tail
    the page reads live. The row is also the summary's lock during a refresh."""

    name = models.CharField(_("summary"), max_length=50, primary_key=True)
    as_of = models.DateTimeField(_("changes summarised up to"))
    # The days-past-due floor of non-performing loans the cells were counted with (policy
    # data; the page reads the cells only while the policy in force says the same).
    npa_dpd_gt = models.IntegerField(_("NPL floor in days past due"), null=True, blank=True)

    class Meta:
        verbose_name = _("summary watermark (time)")
        verbose_name_plural = _("summary watermarks (time)")
        default_permissions = ()

    def __str__(self) -> str:
        return f"{self.name} @ {self.as_of:%Y-%m-%d %H:%M:%S}"


class LoanFact(models.Model):
    """One open loan as the portfolio dashboard groups it: its branch, product, borrower
    (industry, size class), officer, value date, grade and PD at approval (the latest
    decision score), category and rule floor in force, days past due and outstanding
    principal, so the page's breakdowns are one scan of this narrow table instead of a join
    of loans, borrowers and risk status with a score look-up per loan. Kept by
    apps/insight/portfolio_facts.py; closed loans are removed."""

    loan_id = models.BigIntegerField(_("loan"), primary_key=True)
    branch_id = models.BigIntegerField(_("branch"))
    product_id = models.BigIntegerField(_("product"))
    enterprise_id = models.BigIntegerField(_("borrower"))
    officer_id = models.BigIntegerField(_("responsible officer"))
    value_date = models.DateField(_("value date"))
    industry = models.CharField(_("industry section"), max_length=1)
    size_class = models.CharField(_("size class"), max_length=8, blank=True)
    grade = models.CharField(_("grade"), max_length=10, null=True, blank=True)
    probability = models.FloatField(_("probability of default"), null=True, blank=True)
    category = models.CharField(_("category in force"), max_length=20, null=True, blank=True)
    floor = models.CharField(_("rule floor"), max_length=20, null=True, blank=True)
    # The longer of days past due on principal and on interest (the NPL floor reads either).
    dpd = models.PositiveIntegerField(_("days past due"))
    outstanding = MoneyField(_("outstanding principal"))

    class Meta:
        verbose_name = _("loan fact")
        verbose_name_plural = _("loan facts")
        default_permissions = ()
        indexes = [models.Index(fields=["branch_id"], name="insight_fact_branch"),
                   # The borrower totals of the borrowers whose loans changed.
                   models.Index(fields=["enterprise_id"], name="insight_fact_firm")]

    def __str__(self) -> str:
        return f"loan {self.loan_id}"


class PortfolioCell(models.Model):
    """The loan facts added up by everything the portfolio page groups by except the borrower
    and the value date: branch, product, industry, size class, grade, category, floor and
    whether the days past due pass the NPL floor; loans and outstanding principal. Rebuilt
    from the facts by each refresh (a few hundred rows for a book of any size), so the page's
    breakdowns add up cells instead of loans. A page filtered by value date reads the facts."""

    branch_id = models.BigIntegerField(_("branch"))
    product_id = models.BigIntegerField(_("product"))
    industry = models.CharField(_("industry section"), max_length=1)
    size_class = models.CharField(_("size class"), max_length=8, blank=True)
    grade = models.CharField(_("grade"), max_length=10, null=True, blank=True)
    category = models.CharField(_("category in force"), max_length=20, null=True, blank=True)
    floor = models.CharField(_("rule floor"), max_length=20, null=True, blank=True)
    dpd_npa = models.BooleanField(_("past the NPL floor in days past due"))
    loans = models.IntegerField(_("loans"))
    outstanding = MoneyField(_("outstanding principal"))

    class Meta:
        verbose_name = _("portfolio cell")
        verbose_name_plural = _("portfolio cells")
        default_permissions = ()

    def __str__(self) -> str:
        return f"{self.branch_id}/{self.product_id}: {self.loans}"


class OfficerCell(models.Model):
    """The portfolio facts added up by what the officer scorecard groups by: branch,
    responsible officer, category, floor and whether the days past due pass the NPL floor;
    loans and outstanding principal. Rebuilt from the facts under their watermark's lock
    (apps/insight/officer_facts.py), a few rows per officer, so the scorecard's volume and
    NPL columns add up cells instead of grouping every open loan twice."""

    branch_id = models.BigIntegerField(_("branch"))
    officer_id = models.BigIntegerField(_("responsible officer"))
    category = models.CharField(_("category in force"), max_length=20, null=True, blank=True)
    floor = models.CharField(_("rule floor"), max_length=20, null=True, blank=True)
    dpd_npa = models.BooleanField(_("past the NPL floor in days past due"))
    loans = models.IntegerField(_("loans"))
    outstanding = MoneyField(_("outstanding principal"))

    class Meta:
        verbose_name = _("officer cell")
        verbose_name_plural = _("officer cells")
        default_permissions = ()

    def __str__(self) -> str:
        return f"{self.branch_id}/{self.officer_id}: {self.loans}"


class BorrowerScope(models.Model):
    """A set of branches the borrower totals are kept for: `scope` names the set (a hash of
    its sorted ids, apps/insight/portfolio_facts.py `scope_key`; "*" is every branch, with
    branch 0), one row per branch in it. Every branch's subtree is kept, as a page's scope is
    the viewer's subtree or a branch's; a page whose set is not here reads the facts."""

    scope = models.CharField(_("branch set"), max_length=16)
    branch_id = models.BigIntegerField(_("branch"))

    class Meta:
        verbose_name = _("borrower totals scope")
        verbose_name_plural = _("borrower totals scopes")
        default_permissions = ()
        constraints = [models.UniqueConstraint(fields=["scope", "branch_id"],
                                               name="insight_borrowerscope_unique")]

    def __str__(self) -> str:
        return f"{self.scope}: {self.branch_id}"


class BorrowerTotal(models.Model):
    """The loan facts of one borrower added up over a branch set (BorrowerScope) and one
    product (0: every product): loans and outstanding principal in cents (exact and ordered
    alike on both databases), so the portfolio page's largest borrowers are the first rows
    of an index instead of a GROUP BY of the book. Kept by the facts' refresh, in the same
    transaction (apps/insight/portfolio_facts.py)."""

    scope = models.CharField(_("branch set"), max_length=16)
    product_id = models.BigIntegerField(_("product (0: every product)"))
    enterprise_id = models.BigIntegerField(_("borrower"))
    loans = models.IntegerField(_("loans"))
    cents = models.BigIntegerField(_("outstanding principal in cents"))

    class Meta:
        verbose_name = _("borrower total")
        verbose_name_plural = _("borrower totals")
        default_permissions = ()
        constraints = [models.UniqueConstraint(fields=["scope", "product_id", "enterprise_id"],
                                               name="insight_borrowertotal_unique")]
        indexes = [
            # The largest borrowers of a scope: the first rows of this index.
            models.Index(fields=["scope", "product_id", "-cents"], name="insight_borrower_top"),
            # A refresh re-adds the borrowers whose loans changed.
            models.Index(fields=["enterprise_id"], name="insight_borrower_firm"),
        ]

    def __str__(self) -> str:
        return f"{self.enterprise_id} in {self.scope}/{self.product_id}: {self.cents}"


class StepDay(models.Model):
    """The step clock added up by day (the local date the moves left the step), branch,
    product and step: moves, seconds in all, the longest, and how many took longer than the
    step's deadline in force when counted (`deadline`, days; empty: none), so the pipeline's
    time in each step over a period adds up a few rows a day instead of every move. Kept with
    the step clock (same watermark, same lock, apps/insight/summaries.py); the page reads a
    step's moves from the step clock instead while its deadline differs from this one."""

    day = models.DateField(_("day left"))
    branch_id = models.BigIntegerField(_("branch"))
    product_id = models.BigIntegerField(_("product"))
    step = models.CharField(_("step left"), max_length=30)
    moves = models.IntegerField(_("moves out"))
    seconds = models.DecimalField(_("seconds in the step"), max_digits=24, decimal_places=6)
    longest = models.DecimalField(_("longest, in seconds"), max_digits=18, decimal_places=6)
    late = models.IntegerField(_("moves past the deadline"))
    deadline = models.DecimalField(_("deadline counted against (days)"), max_digits=12,
                                   decimal_places=6, null=True, blank=True)

    class Meta:
        verbose_name = _("step day")
        verbose_name_plural = _("step days")
        default_permissions = ()
        constraints = [models.UniqueConstraint(fields=["day", "branch_id", "product_id", "step"],
                                               name="insight_stepday_unique")]

    def __str__(self) -> str:
        return f"{self.day} {self.branch_id}/{self.product_id} {self.step}: {self.moves}"

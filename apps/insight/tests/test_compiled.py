"""The SQL a page keeps per shape of viewer (apps/insight/compiled.py) is, for every viewer,
exactly what building the page's querysets for that viewer compiles to: same text, same
parameters. Two viewers of one shape (the north and south heads, say) take the second's from
what the first built, so a value of the first leaking into the second's would show here."""

import datetime as dt
from collections import Counter

import pytest
from django.core.exceptions import EmptyResultSet
from django.utils import timezone

from apps.accounts.models import User
from apps.accounts.selectors import visible_branch_ids
from apps.accounts.services import user_create
from apps.insight import compiled as kept_sql
from apps.insight import notifications


def _fresh(reads: dict) -> dict:
    out = {}
    for part, query in reads.items():
        query = getattr(query, "queryset", query)  # a Converted part: its queryset
        try:
            sql, params = query.query.sql_with_params()
        except EmptyResultSet:  # a part that can match no row
            out[part] = None
            continue
        out[part] = (sql, params)
    return out


def _same(kept, fresh) -> None:
    assert kept.keys() == fresh.keys()
    for part in kept:
        if fresh[part] is None:
            assert kept[part] is None, part
            continue
        assert kept[part][0] == fresh[part][0], part
        # A branch list is a set: its order in IN (...) may differ, its members may not.
        assert Counter(map(repr, kept[part][1])) == Counter(map(repr, fresh[part][1])), part
        assert len(kept[part][1]) == len(fresh[part][1])


@pytest.fixture
def viewers(world):
    from apps.approvals.tests.factories import approvals_ready

    approvals_ready(steps=None)  # the approval staff and committees too
    users = list(User.objects.filter(is_active=True).order_by("username"))
    users.append(user_create(username="root.insight", password="x" * 16, branch=None,
                             roles=[]))
    root = users[-1]
    root.is_superuser = True
    root.save()
    users.append(user_create(username="nobranch.insight", password="x" * 16, branch=None,
                             roles=[]))
    return users


def _kept_notifications(viewer, today, until, now):
    return kept_sql.compiled(
        "notifications", viewer, lambda s: notifications._reads(
            s.viewer, today=s.day(0), until=s.day(1), at=s.at),
        days=[today, until], at=now, extra=(notifications.LIST_LIMIT,))


def test_kept_notification_sql_is_what_the_selectors_compile_to(world, viewers, on_postgresql):
    kept_sql._kept.clear()
    today = timezone.localdate()
    until = today + dt.timedelta(days=14)
    now = timezone.now()
    for viewer in viewers:
        kept = _kept_notifications(viewer, today, until, now)
        _same(kept, _fresh(notifications._reads(viewer, today=today, until=until, at=now)))
    # Far fewer shapes than viewers: the kept SQL is shared, so the comparison above tested
    # the swap of one viewer's values for another's.
    assert len(kept_sql._kept) < len(viewers) / 2, (len(kept_sql._kept), len(viewers))


def test_off_postgresql_the_page_builds_as_before(world, monkeypatch):
    """The fallback (SQLite under `make run`): the same notices from the querysets."""
    from apps.insight.tests.test_notifications import _file, _sections, _signal

    _file(world, "returned")
    _signal(world.loan(), 3)
    viewer = world.user("lead.north")
    kept = _sections(notifications.notification_centre(viewer=viewer))
    monkeypatch.setattr(notifications, "compiled", lambda *args, **kwargs: None)
    built = _sections(notifications.notification_centre(viewer=viewer))
    assert kept == built
    assert built["signal"]["total"] == 1


def test_kept_officer_sql_is_what_the_selectors_compile_to(world, viewers, on_postgresql):
    from apps.insight import officer_quality, scorecard
    from apps.insight.officer_facts import _changed
    from apps.insight.tests.test_scorecard import _inspection

    _inspection(world.loan(dpd=95), due_days_ago=3)
    kept_sql._kept.clear()
    today = timezone.localdate()
    for viewer in viewers:
        for everyone in (True, False):
            kept = kept_sql.compiled("officers", viewer, lambda s, e=everyone: scorecard._reads(
                s.viewer, today=s.day(0), everyone=e), days=[today], extra=(everyone,))
            _same(kept, _fresh(scorecard._reads(viewer, today=today, everyone=everyone)))

            unions = kept_sql.compiled(
                "officer_quality", viewer, lambda s, e=everyone: officer_quality._split(
                    officer_quality._parts(s.viewer, e)), days=[], extra=(everyone,))
            fresh_unions = officer_quality._split(officer_quality._parts(viewer, everyone))
            assert unions.keys() == fresh_unions.keys() == {"free", "fixed"}
            for kind, union in unions.items():
                fresh = fresh_unions[kind]
                assert union[0] == fresh[0]
                assert Counter(map(repr, union[1])) == Counter(map(repr, fresh[1]))

            branches = visible_branch_ids(viewer=viewer)
            if branches == set():
                continue  # no branch: the scorecard reads no cells (EmptyResultSet)
            officer = None if everyone else viewer.pk
            changed = kept_sql.compiled(
                "officer_volume", viewer, lambda s, b=branches, o=officer: {"changed": _changed(
                    None if b is None else visible_branch_ids(viewer=s.viewer),
                    None if o is None else s.viewer.pk)},
                days=[], extra=(branches is None, officer is None))["changed"]
            fresh = _changed(branches, officer)
            assert changed[0] == fresh[0]
            assert Counter(map(repr, changed[1])) == Counter(map(repr, fresh[1]))
    assert len(kept_sql._kept) < len(viewers) * 3


def test_off_postgresql_the_officer_pages_build_as_before(world, monkeypatch):
    """The fallback (SQLite under `make run`): the same rows from the querysets."""
    from apps.insight import officer_facts, officer_quality, scorecard
    from apps.insight.tests.test_scorecard import _inspection

    late = world.loan(dpd=95, outstanding="100000")
    world.loan(outstanding="300000")
    _inspection(late, due_days_ago=10, submitted_days_ago=12)
    _inspection(late, due_days_ago=3)
    for viewer in (world.user("lead.north"), world.user("postloan.north")):
        everyone = viewer.has_role(*scorecard.ALL_OFFICER_ROLES)
        kept = (scorecard.officer_scorecard(viewer=viewer).rows,
                officer_quality.officer_quality(viewer=viewer, everyone=everyone).rows)
        with monkeypatch.context() as patch:
            for module in (scorecard, officer_quality, officer_facts):
                patch.setattr(module, "compiled", lambda *args, **kwargs: None)
            built = (scorecard.officer_scorecard(viewer=viewer).rows,
                     officer_quality.officer_quality(viewer=viewer, everyone=everyone).rows)
        assert kept == built
        assert kept[0] and kept[0][0]["inspections_due"] == 2


def test_kept_portrait_sql_is_what_the_selectors_compile_to(world, viewers, on_postgresql):
    """The enterprise portrait's nine reads, kept per shape of viewer with the enterprise's
    id swapped in: for every viewer and two enterprises, the SQL the selectors compile to."""
    from apps.insight import portrait

    kept_sql._kept.clear()
    firms = [world.enterprise(world.north), world.enterprise(world.south)]
    for viewer in viewers:
        for firm in firms:
            kept = kept_sql.compiled("portrait", viewer, lambda s: portrait._reads(
                s.viewer, s.id(0)), days=[], ids=(firm.pk,))
            _same(kept, _fresh(portrait._reads(viewer, firm.pk)))
    assert len(kept_sql._kept) < len(viewers) / 2, (len(kept_sql._kept), len(viewers))


def test_off_postgresql_the_portrait_reads_the_same(world, monkeypatch):
    """The fallback (SQLite under `make run`): the same portrait from the querysets."""
    from apps.insight import portrait

    loan = world.loan(outstanding="1000", dpd=40)
    viewer = world.user("lead.north")
    kept = portrait.enterprise_portrait(viewer=viewer, enterprise_id=loan.enterprise_id)
    monkeypatch.setattr(portrait, "compiled", lambda *args, **kwargs: None)
    built = portrait.enterprise_portrait(viewer=viewer, enterprise_id=loan.enterprise_id)
    for part in ("applications", "loans", "signals", "actions", "documents"):
        assert [vars(r) for r in kept[part]] == [vars(r) for r in built[part]], part
    assert kept["exposure"] == built["exposure"] and kept["red_flags"] == built["red_flags"]
    assert [c.rows for c in kept["charts"]] == [c.rows for c in built["charts"]]
    assert kept["relations"].rows == built["relations"].rows
    assert len(kept["loans"]) == 1


def test_kept_portfolio_first_reads_are_what_the_selectors_compile_to(world, viewers,
                                                                      on_postgresql):
    """The portfolio's first batch (policy values, products, run dates, the filter form's
    branches): for every viewer, the SQL its querysets compile to."""
    from apps.insight import selectors

    kept_sql._kept.clear()
    today = timezone.localdate()
    for viewer in viewers:
        kept = kept_sql.compiled("portfolio.first", viewer,
                                 lambda s: selectors._first_queries(s.viewer, s.day(0)),
                                 days=[today])
        _same(kept, _fresh(selectors._first_queries(viewer, today)))
    assert len(kept_sql._kept) < len(viewers) / 2, (len(kept_sql._kept), len(viewers))


def test_off_postgresql_the_portfolio_reads_the_same(world, monkeypatch):
    """The fallback (SQLite under `make run`): the same dashboard and filter form from the
    reads sent one by one, for a branch head (their subtree's branches only) and an auditor."""
    from apps.insight import selectors
    from apps.insight.portfolio_facts import refresh_portfolio_facts

    world.loan(outstanding="1000", dpd=40)
    world.loan(branch=world.south, outstanding="5000")
    refresh_portfolio_facts()
    world.loan(outstanding="700")  # in the tail

    def page(viewer):
        found = selectors.portfolio_dashboard(viewer=viewer,
                                              filters=selectors.PortfolioFilters())
        choices = selectors.filter_choices(viewer=viewer, products=found["products"],
                                           branches=found["branches"])
        return ([(c.key, c.rows) for c in found["charts"]], found["facts"], found["runs"],
                choices)

    for username in ("lead.north", "auditor.north"):
        viewer = world.user(username)
        kept = page(viewer)
        with monkeypatch.context() as patch:
            patch.setattr(selectors, "compiled", lambda *args, **kwargs: None)
            built = page(viewer)
        assert kept == built, username
        assert kept[1]["loans"] == (2 if username == "lead.north" else 3), username
        names = {b["name"] for b in kept[3]["branches"]}
        assert (world.south.name in names) == (username == "auditor.north")


def test_kept_pipeline_first_reads_are_what_the_selectors_compile_to(world, viewers,
                                                                     on_postgresql):
    """The pipeline's first batch (deadlines, waiting steps, the period's decisions, the
    filter form): for every viewer, with and without a product filter, the SQL its querysets
    compile to, the period's bounds and `now` swapped in like the viewer's values."""
    from apps.insight import pipeline

    kept_sql._kept.clear()
    today = timezone.localdate()
    now = timezone.now()
    start, end = pipeline._period(pipeline.PipelineFilters())
    moments = {"today": today, "now": now, "start": start, "end": end}
    for viewer in viewers:
        for product in (None, world.version.product_id):
            kept = kept_sql.compiled(
                "pipeline.first", viewer, lambda s, p=product: pipeline._first_queries(
                    s.viewer, visible_branch_ids(viewer=s.viewer),
                    pipeline.PipelineFilters(product_id=None if p is None else s.id(0)),
                    today=s.day(0), now=s.at, start=s.moment(0), end=s.moment(1)),
                days=[today], at=now, moments=(start, end),
                ids=() if product is None else (product,), extra=(product is None,))
            filters = pipeline.PipelineFilters(product_id=product)
            _same(kept, _fresh(pipeline._first_queries(
                viewer, visible_branch_ids(viewer=viewer), filters, **moments)))
    assert len(kept_sql._kept) < len(viewers), (len(kept_sql._kept), len(viewers))


SETTINGS = ("SELECT current_setting('join_collapse_limit') AS j, "
            "current_setting('from_collapse_limit') AS f")


@pytest.mark.parametrize("in_transaction", [False, True])
def test_fixed_order_holds_for_its_statement_only(world, on_postgresql, in_transaction):
    """A part in `fixed_order` is planned with the join search off; the parts after it, and
    what the connection runs next (in the same transaction too), plan as before."""
    from django.db import connection, transaction

    def run() -> tuple[dict, list]:
        found = kept_sql.batch({"before": (SETTINGS, []), "fixed": (SETTINGS, []),
                                "after": (SETTINGS, [])}, fixed_order=("fixed",))
        with connection.cursor() as cursor:
            cursor.execute(SETTINGS)
            return found, cursor.fetchall()

    with connection.cursor() as cursor:
        cursor.execute(SETTINGS)
        default = cursor.fetchone()
    assert default != ("1", "1")
    if in_transaction:
        with transaction.atomic():
            found, next_read = run()
    else:
        found, next_read = run()
    plain = {"j": default[0], "f": default[1]}
    assert found == {"before": [plain], "fixed": [{"j": "1", "f": "1"}], "after": [plain]}
    assert next_read == [default]
    assert kept_sql.fixed_order_rows(SETTINGS, []) == [("1", "1")]
    with connection.cursor() as cursor:
        cursor.execute(SETTINGS)
        assert cursor.fetchone() == default


def test_fixed_order_reads_the_same_rows(world, viewers, on_postgresql):
    """The notification centre's reads with and without the inbox's fixed join order."""
    from apps.insight.tests.test_notifications import _file, _signal

    _file(world, "returned")
    _signal(world.loan(), 3)
    today = timezone.localdate()
    until = today + dt.timedelta(days=14)
    now = timezone.now()
    for viewer in viewers:
        kept = _kept_notifications(viewer, today, until, now)
        assert kept_sql.batch(kept, fixed_order=tuple(kept)) == kept_sql.batch(kept)


def test_kept_threshold_reads_are_what_the_report_compiles_to(world, viewers, on_postgresql):
    """The threshold dashboard's two batches (the products with the chosen product's versions
    and conditions; the population and its applications): for every viewer, with and without
    a product, for one version or two and either population, the SQL the report's querysets
    compile to."""
    from apps.insight import thresholds
    from apps.products.report import Population

    kept_sql._kept.clear()
    today = timezone.localdate()
    product = world.version.product_id
    for viewer in viewers:
        for chosen in (None, product):
            kept = kept_sql.compiled(
                "thresholds.first", viewer, lambda s, c=chosen: thresholds._first_queries(
                    None if c is None else s.id(0), s.day(0)),
                days=[today], ids=() if chosen is None else (chosen,), extra=(chosen is None,))
            _same(kept, _fresh(thresholds._first_queries(chosen, today)))
        for versions in ([world.version.pk], [world.version.pk, world.version.pk + 1000]):
            for population in Population.values:
                kept = kept_sql.compiled(
                    "thresholds.population", viewer, lambda s, v=versions, p=population:
                    thresholds._population_queries(
                        visible_branch_ids(viewer=s.viewer),
                        [s.id(i) for i in range(len(v))], p),
                    days=[], ids=tuple(versions), extra=(len(versions), population))
                _same(kept, _fresh(thresholds._population_queries(
                    visible_branch_ids(viewer=viewer), versions, population)))
    assert len(kept_sql._kept) < len(viewers) * 6, (len(kept_sql._kept), len(viewers))


def test_prepared_planned_executes_by_name_else_plans_as_written(world, on_postgresql,
                                                                 settings):
    """On PostgreSQL the statements are prepared once and then executed by name, in one
    round trip each time, with the same rows; with prepared reads off (a transaction-mode
    pooler), a fixed one is planned in its written order as `send_planned` does."""
    from django.db import connection

    statements = [((SETTINGS, []), True), (("SELECT %s::int + 1", [41]), False)]
    sent = []

    def record(execute, sql, params, many, context):
        sent.append(sql)
        return execute(sql, params, many, context)

    with connection.execute_wrapper(record):
        first = kept_sql.prepared_planned(statements)
        again = kept_sql.prepared_planned(statements)
    assert first == again and first[1] == [(42,)] and first[0] != [("1", "1")]
    assert len(sent) == 2 and "PREPARE" in sent[0] and "PREPARE" not in sent[1]
    assert sent[1].count("EXECUTE") == 2
    settings.DATABASE_PREPARED_READS = False
    assert kept_sql.prepared_planned(statements) == [[("1", "1")], [(42,)]]

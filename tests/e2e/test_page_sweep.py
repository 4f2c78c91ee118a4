"""Issue #18's sweep: every page, for every role, in both languages, at 360 px and 1280 px.

One test seeds the whole demo (what `make run` shows) and then, for each demo role and
language, walks every page that person can reach by following the links and htmx loads the site
shows them, plus the pages the demo's current state does not link (`EXTRA_PAGES`). Each page
fails the sweep when it shows Python's insides (`{'`, `Decimal(`, `None`, ...), when a 简体中文
page shows an English sentence the catalogue translates, or — in Chromium at 360 px and
1280 px — when it scrolls sideways.

The browser reads the same responses the test client got (served from memory through
Playwright's routing, static files from the finders), so the sweep runs inside the test's
transaction: no live server, no flush, and the demo is seeded once.

A page nobody can reach in the sweep fails `test_every_page_is_swept` until it is linked, added
to `EXTRA_PAGES`, or named in `NOT_PAGES` with the reason it is not a page.
"""

from __future__ import annotations

import mimetypes
import os
import re
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.staticfiles import finders
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import translation

from tests.pages.crawl import Page, crawl, raw_problems, route_of, untranslated, zh_catalogue

CHROMIUM = "/usr/bin/chromium"
ORIGIN = "http://credence.test"
WIDTHS = (360, 1280)
LANGUAGES = ("en", "zh-hans")
# None: someone not signed in (the sign-in page).
ROLE_USERS = (None, "am.north", "assistant.north", "lead.north", "reviewer.north", "approver.north",
              "head.north", "committee.north", "postloan.north", "ops.north", "exempt.north",
              "auditor.north", "policy.north", "admin.north")

# Routes that are not pages a person reads: actions a form POSTs to, files, machine interfaces.
NOT_PAGES = {
    "livez", "readyz", "healthz", "accounts:logout", "set_language",
    # Files: exports, PDFs, downloads (their own tests check their content).
    "products:threshold-report-csv", "products:workbench-export",
    "investigations:policy-values-export", "documents:download", "loans:contract-pdf",
    "oversight:events-csv", "oversight:events-json", "oversight:events-xlsx",
    "oversight:job-download", "oversight:pdf", "oversight:exemption-pdf",
    "insight:portfolio-export", "insight:enterprise-export", "insight:officers-export",
    # Actions behind a button (POST only: GET answers 405).
    "products:workbench-draft", "products:workbench-condition-add",
    "products:workbench-condition", "products:workbench-condition-remove",
    "products:workbench-publish", "products:workbench-retire", "products:workbench-import",
    "applications:reassign", "applications:action",
    "investigations:start", "investigations:check-in", "investigations:check-out",
    "investigations:submit", "investigations:accept", "investigations:return",
    "investigations:assign", "investigations:request-reverification",
    "investigations:policy-value-new",
    "investigations:policy-values-import", "investigations:policy-value-next",
    "investigations:policy-value-publish", "investigations:policy-value-retire",
    "documents:requirement-waive", "documents:recheck", "documents:waive",
    "scoring:model-action", "scoring:training-start", "scoring:score-failure-rerun",
    "scoring:rescoring-start", "scoring:score-now",
    "approvals:review-send", "approvals:review-return", "approvals:exception-declare",
    "approvals:step-sign", "approvals:vote-cast", "approvals:vote-close",
    "approvals:condition-satisfy",
    "loans:change-request", "loans:change-decide", "loans:contract-create",
    "loans:disbursement-request", "loans:disbursement-decide",
    "monitoring:loan-propose", "monitoring:classification-act", "monitoring:signal-act",
    "monitoring:action-act", "monitoring:inspection_start", "monitoring:inspection_submit",
    "monitoring:inspection_review_confirm", "monitoring:inspection_return",
    "monitoring:covenant_check_act", "monitoring:annual_review_act",
    "monitoring:covenant_change_propose", "monitoring:covenant_change_act",
    "oversight:exemption-batch", "oversight:exemption-command",
    "web:task-probe-create",
    # The policy workbench's buttons and files (publish, retire, next draft, rows, import/export).
    "approvals:matrix-export", "approvals:matrix-import", "approvals:matrix-next",
    "approvals:matrix-publish", "approvals:matrix-retire", "approvals:matrix-rule-add",
    "approvals:matrix-rule-remove", "documents:requirements-export",
    "documents:requirements-import", "documents:requirements-next",
    "documents:requirements-publish", "documents:requirements-retire",
    "insight:pipeline-export", "insight:thresholds-export", "investigations:template-check",
    "investigations:template-export", "investigations:template-import",
    "investigations:template-next", "investigations:template-publish",
    "investigations:template-retire", "oversight:duty-rule-add", "oversight:duty-rule-remove",
    "oversight:duty-rules-export", "oversight:duty-rules-import", "oversight:duty-rules-next",
    "oversight:duty-rules-publish", "oversight:duty-rules-retire", "scoring:policy-export",
    "scoring:policy-import", "scoring:policy-next", "scoring:policy-publish",
    "scoring:policy-retire", "monitoring:signal-rule-draft", "monitoring:signal-rule-publish",
    "monitoring:signal-rule-retire", "monitoring:signal-rules-export",
    "monitoring:signal-rules-import", "monitoring:level-actions-next",
    "monitoring:level-actions-import", "monitoring:level-action-add",
    "monitoring:level-action-remove", "monitoring:level-actions-publish",
    "monitoring:level-actions-retire", "monitoring:level-actions-export",
}

# Pages whose object the demo book cannot have on purpose. The sweep cannot read them; the check
# below fails as soon as the demo gains one, so this list only ever shrinks.
NO_DEMO_OBJECT: dict[str, str] = {}


def _extra_pages() -> list[str]:
    """Pages the demo's state does not link (a polling checklist that has stopped polling, the
    score history only a reviewer's menu opens, ...), built from the demo's own rows."""
    from django.apps import apps

    from apps.applications.models import Application
    from apps.documents.models import Document
    from apps.investigations.models import ReVerification
    from apps.monitoring.inspection_models import Inspection
    from apps.parties.models import Enterprise

    urls = [reverse("oversight:home"), reverse("oversight:jobs")]
    reverification = ReVerification.objects.order_by("pk").first()
    if reverification is not None:
        urls.append(reverse("investigations:reverification", args=[reverification.pk]))
    application = Application.objects.filter(branch__code="north").order_by("pk").first()
    if application is not None:
        urls += [reverse("documents:checklist", args=[application.pk]),
                 reverse("scoring:application-scores", args=[application.pk]),
                 reverse("applications:edit", args=[application.pk])]
    # A statement's column confirmation is linked only while its columns are unconfirmed.
    statement = Document.objects.filter(application__branch__code="north",
                                        document_type__code="bank_statement").order_by("pk").first()
    if statement is not None:
        urls.append(reverse("documents:column-mapping", args=[statement.pk]))
    # The data pulls of an enterprise that has some (the demo's court-list import), which
    # link each pull's page.
    enterprise = Enterprise.objects.filter(branch__code="north").order_by("pk").first()
    if enterprise is not None:
        urls.append(reverse("datahub:enterprise-pulls", args=[enterprise.pk]))
    inspection = Inspection.objects.filter(loan__branch__code="north").order_by("pk").first()
    if inspection is not None:
        urls.append(reverse("monitoring:inspection_review", args=[inspection.pk]))
    # Pages reached from a list of their own kind (a job's page after its button, a pull from
    # the enterprise's pulls, a draft's row from the draft): one of each from the demo's rows.
    for route, model, filters in _ONE_OF_EACH:
        row = apps.get_model(model).objects.filter(**filters).order_by("pk").first()
        if row is not None:
            urls.append(reverse(route, args=[row.pk]))
    return urls


# (route, model, filters) for `_extra_pages`: the north branch's where the row has a branch.
_ONE_OF_EACH = (
    ("datahub:pull", "datahub.Pull", {"branch__code": "north"}),
    ("oversight:job", "oversight.ExportJob", {}),
    ("scoring:training-job", "scoring.TrainingJob", {}),
    ("scoring:rescoring-job", "scoring.RescoringJob", {}),
    ("approvals:session-detail", "approvals.CommitteeSession",
     {"committee__code": "north-credit-committee"}),
    ("approvals:matrix-rule", "approvals.AuthorityRule", {"matrix__state": "draft"}),
    ("oversight:duty-rule", "oversight.DutyRule", {"rule_set__state": "draft"}),
    ("monitoring:level-action", "monitoring.LevelActionRule", {}),
)


def _all_routes() -> dict[str, str]:
    """view name → route of every URL a person could open (the API and Django's admin apart)."""
    found: dict[str, str] = {}

    def walk(patterns, prefix="", namespace=""):
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                inner = f"{namespace}:{pattern.namespace}" if namespace and pattern.namespace \
                    else (pattern.namespace or namespace)
                walk(pattern.url_patterns, prefix + str(pattern.pattern), inner)
            elif isinstance(pattern, URLPattern) and pattern.name:
                route = prefix + str(pattern.pattern)
                if route.startswith(("api/", "admin/")):
                    continue
                found[f"{namespace}:{pattern.name}" if namespace else pattern.name] = route

    walk(get_resolver().url_patterns)
    return found


@pytest.fixture(scope="module")
def _demo_seeded(django_db_setup, django_db_blocker):
    """The demo book, seeded once for this module's tests (the seed is most of their time) in
    a transaction rolled back after the last one; each test runs in a savepoint inside it."""
    from django.core.management import call_command
    from django.db import connection, transaction

    from apps.demo.seed import seed_demo
    from apps.demo.tests.ids import ids_moved_on

    outer = transaction.atomic()
    with django_db_blocker.unblock():
        outer.__enter__()
        try:
            # Start from the freshly migrated database, as `make run` does. A transactional test
            # that ran earlier on this worker flushed the rows the data migrations wrote (duty
            # rules v1, policy values), and a live-server test's request may have written rows
            # after its flush: without this, the demo's drafts and imports that build on the
            # migrated rows, or are skipped when their kind exists, go missing.
            serialized = getattr(connection, "_test_serialized_contents", None)
            if serialized:
                call_command("flush", verbosity=0, interactive=False, inhibit_post_migrate=True,
                             reset_sequences=False)
                connection.creation.deserialize_db_from_string(serialized)
            # With the ids the rest of the suite leaves (the demo's files must not follow them).
            ids_moved_on(1913)
            with translation.override("en"):
                seed_demo(with_business_data=True)
        except BaseException:
            transaction.set_rollback(True)
            outer.__exit__(None, None, None)
            raise
    yield
    with django_db_blocker.unblock():
        transaction.set_rollback(True)
        outer.__exit__(None, None, None)


@pytest.fixture
def demo_book(_demo_seeded, db):
    """The seeded demo, as it is after `make run`'s seed (what each test changes is undone)."""


def _client(username: str | None, language: str) -> Client:
    from django.contrib.auth import get_user_model

    client = Client()
    if username:
        client.force_login(get_user_model().objects.get(username=username))
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    return client


def _read(client: Client, url: str) -> Page:
    from tests.pages.crawl import _PageReader

    response = client.get(url)
    page = Page(url=url, route=route_of(url) or url, status=response.status_code)
    if response.status_code == 200 and "text/html" in response.get("Content-Type", ""):
        reader = _PageReader()
        reader.feed(response.content.decode(response.charset or "utf-8"))
        page.texts = reader.texts
    return page


class _Recorder:
    """The test client's responses, kept for the browser to read back."""

    def __init__(self, client: Client):
        self.client, self.bodies = client, {}

    def get(self, path, *args, **kwargs):
        response = self.client.get(path, *args, **kwargs)
        if response.status_code == 200:
            self.bodies[path] = (response.content, response.get("Content-Type", "text/html"))
        return response


def _sweep_role(username: str, language: str, catalogue: dict[str, str],
                messages: set[str]) -> tuple[list[Page], dict, list[str]]:
    recorder = _Recorder(_client(username, language))
    if username is None:
        return _anonymous(recorder, language, catalogue, messages)
    pages = crawl(recorder)
    seen = {page.route for page in pages}
    for url in _extra_pages():
        if route_of(url) not in seen:
            pages.append(_read(recorder, url))
            seen.add(route_of(url))
    problems = []
    for page in pages:
        if page.status >= 500:
            problems.append(f"{username} {language} {page.url}: answered {page.status}")
            continue
        if page.status in (403, 404) and page.came_from:
            problems.append(f"{username} {language} {page.came_from} links to {page.url}, "
                            f"which answers {page.status} to this person")
        found = raw_problems(page.texts, messages if language == "en" else set())
        if language != "en":
            found += untranslated(page.texts, catalogue)
        problems += [f"{username} {language} {page.url}: {item}" for item in sorted(set(found))]
    return pages, recorder.bodies, problems


def _anonymous(recorder, language, catalogue, messages):
    """Someone not signed in sees the sign-in page, whatever they open."""
    page = _read(recorder, reverse("accounts:login"))
    found = raw_problems(page.texts, messages if language == "en" else set())
    if language != "en":
        found += untranslated(page.texts, catalogue)
    return [page], recorder.bodies, [f"signed out {language} {page.url}: {item}"
                                     for item in sorted(set(found))]


def _serve(bodies: dict):
    def handler(route):
        path = route.request.url.removeprefix(ORIGIN).split("?", 1)[0].split("#", 1)[0]
        if path in bodies:
            body, content_type = bodies[path]
            return route.fulfill(status=200, body=body, content_type=content_type)
        if path.startswith(settings.STATIC_URL):
            found = finders.find(path.removeprefix(settings.STATIC_URL))
            if found:
                content_type = mimetypes.guess_type(found)[0] or "application/octet-stream"
                return route.fulfill(status=200, body=Path(found).read_bytes(),
                                     content_type=content_type)
        # Anything else (a later htmx poll, an image from storage) is not part of the layout.
        return route.fulfill(status=204, body=b"")
    return handler


def _overflow(browser, layouts: list[tuple[str, str, dict]]) -> list[str]:
    """Each (label, url, the responses that person got) loaded afresh at each width, as a
    phone or a desktop opens it (the page's script lays tables out for the width it loads at)."""
    problems, current = [], {}
    for width in WIDTHS:
        context = browser.new_context(viewport={"width": width, "height": 900})
        page = context.new_page()
        page.route("**/*", lambda route: _serve(current["bodies"])(route))
        try:
            for label, url, bodies in layouts:
                current["bodies"] = bodies
                page.goto(ORIGIN + url, wait_until="load")
                scroll = page.evaluate("document.documentElement.scrollWidth")
                if scroll > width:
                    culprit = page.evaluate(_WIDEST, width)
                    problems.append(f"{label} {url}: {scroll} px wide at {width} px ({culprit})")
        finally:
            context.close()
    return problems


# The innermost elements sticking out past the viewport, to say where to look.
_WIDEST = """(width) => {
  const out = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node && out.length < 3; node = walker.nextNode()) {
    const range = document.createRange();
    range.selectNodeContents(node);
    if (range.getBoundingClientRect().right > width + 1 && node.textContent.trim()) {
      out.push(node.parentElement.tagName.toLowerCase() + ' "' +
               node.textContent.trim().slice(0, 60) + '"');
    }
  }
  for (const el of document.body.querySelectorAll('*')) {
    if (out.length >= 3) break;
    const box = el.getBoundingClientRect();
    if (box.right <= width + 1 || box.width === 0) continue;
    if ([...el.children].some(c => c.getBoundingClientRect().right > width + 1)) continue;
    const classes = typeof el.className === 'string' && el.className
      ? '.' + el.className.split(' ').join('.') : '';
    out.push(el.tagName.toLowerCase() + (el.id ? '#' + el.id : '') + classes);
  }
  return out.join(', ') || 'unknown';
}"""


@pytest.mark.e2e
def test_every_page_for_every_role_reads_as_sentences_and_fits(demo_book, browser):
    """Every role's pages are read in both languages. Layout depends on the page, not on who
    reads it, so the browser loads each kind of page once per language at both widths (with the
    first role that reached it) plus every role's home page, where the menu differs;
    CREDENCE_PAGE_SWEEP=full loads every role's every page (`make page-sweep`)."""
    full = os.environ.get("CREDENCE_PAGE_SWEEP") == "full"
    catalogue = zh_catalogue()
    messages = set(catalogue)
    problems, reached, layouts = [], set(), {}
    for username in ROLE_USERS:
        for language in LANGUAGES:
            pages, bodies, found = _sweep_role(username, language, catalogue, messages)
            problems += found
            reached |= {page.route for page in pages if page.status == 200}
            for page in pages:
                if page.status != 200 or page.url not in bodies \
                        or b"<html" not in bodies[page.url][0][:400]:
                    continue
                key = (page.route, language)
                if full or page.url == "/":
                    key = (username, *key)
                layouts.setdefault(key, (f"{username or 'signed out'} {language}", page.url,
                                         bodies))
    problems += _overflow(browser, list(layouts.values()))
    assert not problems, "\n".join(problems)
    # The sweep reached pages of every part of the product, not only the home page.
    assert len(reached) >= 40, sorted(reached)


# serialized_rollback: the test database keeps its freshly migrated contents, which
# `_demo_seeded` restores after another test's flush.
@pytest.mark.django_db(serialized_rollback=True)
def test_every_page_is_swept(demo_book):
    """A new page must be reachable by someone in the demo, or say why it is not a page."""
    from django.apps import apps

    reached = {route_of(reverse("accounts:login"))}
    for username in ROLE_USERS[1:]:
        pages = crawl(_client(username, "en"))
        reached |= {page.route for page in pages if page.status in (200, 302)}
    reached |= {route_of(url) for url in _extra_pages()}
    unswept = []
    for name, route in sorted(_all_routes().items()):
        if route in reached or name in reached or name in NOT_PAGES:
            continue
        if name in NO_DEMO_OBJECT:
            model = apps.get_model(NO_DEMO_OBJECT[name])
            assert not model.objects.exists(), (
                f"the demo now has a {model.__name__}: sweep {name} (add it to EXTRA pages)")
            continue
        unswept.append(f"{name} ({route})")
    # What the demo made of the kinds the seed skips when one exists (to tell a page nobody
    # links from a seed that found leftovers).
    made = {name: apps.get_model(name).objects.count()
            for name in ("datahub.Pull", "oversight.DutyRuleSet", "oversight.DutyRule")}
    assert not unswept, f"pages nobody reaches in the sweep ({made}):\n" + "\n".join(unswept)


def test_the_language_switch_is_the_only_foreign_text():
    """The reader skips text marked with its own language (a language's own name), and nothing
    else: a Chinese page with an English sentence is still caught."""
    from tests.pages.crawl import _PageReader

    reader = _PageReader()
    reader.feed('<html lang="zh-hans"><body><select><option lang="en">English</option></select>'
                "<p>Changes saved.</p><p>{'a': 1}</p><code>R2</code></body></html>")
    assert reader.texts == ["Changes saved.", "{'a': 1}"]
    assert untranslated(reader.texts, {"Changes saved.": "已保存更改。"}) == [
        "untranslated: 'Changes saved.'"]
    assert raw_problems(reader.texts) == ["a Python dict: \"{'a': 1}\""]
    assert re.search("None", "None.") and raw_problems(["None."], {"None."}) == []

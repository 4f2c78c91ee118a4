"""Walk every page a signed-in person can reach by following the links the site shows them, and
read each page the way the issue #18 sweep reads it: what a person sees, not the markup.

Pages are told apart by their URL pattern (one application's page stands for all of them), so
the walk is bounded by the number of page kinds, not by the size of the demo book. Only links
are followed: forms are never submitted, downloads and exports are not fetched.
"""

from __future__ import annotations

import re
from collections import deque
from dataclasses import dataclass, field
from html.parser import HTMLParser
from urllib.parse import urldefrag, urlsplit

from django.urls import Resolver404, resolve

# Never followed: leaving the site, signing out, the language switch (a POST), the machine
# interfaces, Django's admin (its own product, not ours) and files.
SKIP_PREFIXES = ("/api/", "/admin/", "/i18n/", "/static/", "/media/", "/accounts/logout",
                 "/livez", "/readyz", "/healthz")
SKIP_SUFFIXES = (".pdf", ".csv", ".xlsx", ".json", ".yaml", ".zip", ".png", ".jpg", ".svg")
DOWNLOAD_WORDS = ("download", "export", "/file/", "/pdf", "/raw", "evidence-pack", "thumbnail")

# What a person must never read on a page: Python's insides (issue #18's list).
RAW = [
    (re.compile(r"\{'"), "a Python dict"),
    (re.compile(r"\['"), "a Python list"),
    (re.compile(r"Decimal\("), "a Python Decimal"),
    (re.compile(r"(?<![\w-])None(?![\w-])"), "Python's None"),
    (re.compile(r"<bound method|object at 0x|<QuerySet"), "a Python object"),
    (re.compile(r"\b(?:True|False)\b"), "a Python boolean"),
]

INVISIBLE_TAGS = {"script", "style", "template", "noscript", "head", "title"}
VOID_TAGS = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta",
             "source", "track", "wbr"}


class _PageReader(HTMLParser):
    """Visible text nodes (what a person reads), links, and text marked as a code on purpose
    (`<code>`, `<kbd>`, `data-code`): codes stay searchable, so those are not judged."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.texts: list[str] = []
        self.links: list[str] = []
        self._stack: list[tuple[str, bool]] = []

    def _hidden(self) -> bool:
        return any(hidden for _tag, hidden in self._stack)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "a" and attrs.get("href") and "download" not in attrs:
            self.links.append(attrs["href"])
        # A part of the page htmx loads after it (a checklist, a progress bar) is read too.
        if attrs.get("hx-get"):
            self.links.append(attrs["hx-get"])
        if tag in VOID_TAGS:
            if tag == "input" and attrs.get("type") in ("submit", "button") and attrs.get("value"):
                self._text(attrs["value"])
            return
        # An element with its own `lang` (a language's own name in the switch) is written in
        # that language on purpose.
        hidden = (tag in INVISIBLE_TAGS or tag in ("code", "kbd") or "hidden" in attrs
                  or "data-code" in attrs or attrs.get("aria-hidden") == "true"
                  or (tag != "html" and "lang" in attrs))
        self._stack.append((tag, hidden))

    def handle_endtag(self, tag):
        for index in range(len(self._stack) - 1, -1, -1):
            if self._stack[index][0] == tag:
                del self._stack[index:]
                return

    def handle_data(self, data):
        if not self._hidden():
            self._text(data)

    def _text(self, data):
        text = " ".join(data.split())
        if text:
            self.texts.append(text)


@dataclass
class Page:
    url: str
    route: str
    status: int
    came_from: str = ""
    texts: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


def route_of(path: str) -> str | None:
    try:
        match = resolve(path)
    except Resolver404:
        return None
    return match.route or match.view_name


def _followable(href: str) -> str | None:
    href, _fragment = urldefrag(href)
    parts = urlsplit(href)
    if parts.scheme or parts.netloc or not parts.path.startswith("/"):
        return None
    path = parts.path
    if path.startswith(SKIP_PREFIXES) or path.lower().endswith(SKIP_SUFFIXES):
        return None
    if any(word in path.lower() for word in DOWNLOAD_WORDS):
        return None
    # Filters and paging show the same page kind; the bare page stands for them.
    return path


def raw_problems(texts: list[str], messages: set[str] = frozenset()) -> list[str]:
    """Python's insides on the page. A text that is itself one of our messages ("None.", "None
    scheduled.") is a sentence someone wrote, not a leaked value."""
    found = []
    for text in texts:
        if text in messages:
            continue
        for pattern, what in RAW:
            if pattern.search(text):
                found.append(f"{what}: {text[:120]!r}")
    return found


def untranslated(texts: list[str], catalogue: dict[str, str]) -> list[str]:
    """English sentences on a Chinese page: a text node that is, word for word, a message the
    catalogue translates."""
    return [f"untranslated: {text[:120]!r}" for text in texts
            if text in catalogue and catalogue[text] != text]


def crawl(client, *, start: str = "/", limit: int = 400) -> list[Page]:
    """Every page kind reachable from `start` by following links, read once each."""
    queue, seen_routes, pages = deque([(start, "")]), set(), []
    while queue and len(pages) < limit:
        path, came_from = queue.popleft()
        route = route_of(path)
        if route is None or route in seen_routes:
            continue
        seen_routes.add(route)
        response = client.get(path)
        page = Page(url=path, route=route, status=response.status_code, came_from=came_from)
        pages.append(page)
        if response.status_code != 200:
            continue
        if "text/html" not in response.get("Content-Type", ""):
            continue
        reader = _PageReader()
        reader.feed(response.content.decode(response.charset or "utf-8"))
        page.texts = reader.texts
        for href in reader.links:
            followable = _followable(href)
            if followable and route_of(followable) not in seen_routes:
                queue.append((followable, path))
    return pages


def zh_catalogue() -> dict[str, str]:
    """msgid → msgstr of the 简体中文 catalogue, only messages without placeholders (those can be
    matched word for word against a page)."""
    from django.utils import translation
    from django.utils.translation import trans_real

    with translation.override("zh-hans"):
        catalog = trans_real.translation("zh-hans")._catalog
        return {key: value for key, value in catalog.items()
                if isinstance(key, str) and key and "%" not in key and "{" not in key
                and isinstance(value, str)}

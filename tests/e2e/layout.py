"""Layout checks and the phone sign-in shared by the browser tests."""

from contextlib import contextmanager


def assert_fits(page, width: int | None = None, *, context=None) -> None:
    """The page in view has no sideways scrolling (its document is no wider than `width`,
    by default the window).

    A check straight after a click can land between two documents, when there is no
    documentElement yet: wait for a loaded document (state), never for a length of time."""
    page.wait_for_load_state("load")
    page.wait_for_function("document.documentElement !== null"
                           " && document.readyState === 'complete'")
    scroll, window = page.evaluate(
        "[document.documentElement.scrollWidth, window.innerWidth]")
    limit = width if width is not None else window + 1
    assert scroll <= limit, (f"{page.url} scrolls sideways: {scroll} px wide in {limit} px",
                             context)


@contextmanager
def phone_signed_in(browser, site: str, username: str, language: str, errors: list):
    """A 360 px phone signed in as `username` with `language` chosen, its console errors and
    page errors appended to `errors`; yields the page and closes its context afterwards."""
    context = browser.new_context(viewport={"width": 360, "height": 740})
    context.add_cookies([{"name": "django_language", "value": language, "url": site}])
    page = context.new_page()
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    try:
        page.goto(f"{site}/accounts/login/")
        page.locator("#id_username").fill(username)
        page.locator("#id_password").fill("credence-demo")
        page.locator("form button[type=submit]").last.click()
        page.wait_for_url(lambda url: "/accounts/login" not in url)
        yield page
    finally:
        context.close()

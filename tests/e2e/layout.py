"""Layout checks shared by the browser tests."""


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

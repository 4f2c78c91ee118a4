import os
import re
from pathlib import Path

import pytest
from playwright.sync_api import expect

from apps.demo.seed import DEMO_PASSWORD

pytestmark = pytest.mark.e2e

# Set to a folder to keep screenshots of the phone layout (they are not committed).
SCREENSHOT_DIR = os.environ.get("CREDENCE_SCREENSHOT_DIR")


def _sign_in(page, username):
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Sign in").click()


def test_sign_in_switch_to_chinese_and_sign_out(demo_site, page, page_errors):
    page.goto(f"{demo_site}/")

    expect(page).to_have_url(re.compile(r"/accounts/login/\?next=/$"))
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    # The stylesheet and htmx came through the live server.
    assert page.evaluate("getComputedStyle(document.body).backgroundColor") == "rgb(246, 247, 249)"
    assert page.evaluate("typeof window.htmx") == "object"

    _sign_in(page, "am.north")

    expect(page).to_have_url(f"{demo_site}/")
    expect(page.get_by_role("heading", name="Welcome, Account manager North")).to_be_visible()
    expect(page.locator('[data-role="account_manager"]')).to_be_visible()

    page.get_by_label("Language").select_option(label="简体中文")
    page.get_by_role("button", name="Switch").click()

    expect(page.locator("html")).to_have_attribute("lang", "zh-hans")
    expect(page.get_by_role("heading", name="客户经理")).to_be_visible()
    expect(page.get_by_role("link", name="首页")).to_have_attribute("aria-current", "page")

    page.get_by_role("button", name="退出登录").click()

    expect(page).to_have_url(re.compile(r"/accounts/login/$"))
    expect(page.get_by_role("heading", name="登录")).to_be_visible()
    assert page_errors == []


def test_wrong_password_is_reported_in_place(demo_site, page, page_errors):
    page.goto(f"{demo_site}/accounts/login/")
    page.get_by_label("Username").fill("am.north")
    page.get_by_label("Password").fill("not-the-password")
    page.get_by_role("button", name="Sign in").click()

    expect(page.get_by_role("alert")).to_contain_text("did not match")
    expect(page.get_by_label("Username")).to_have_value("am.north")
    expect(page.get_by_label("Password")).to_be_focused()
    assert page_errors == []


def test_phone_layout_folds_the_menu(demo_site, browser, page_errors):
    context = browser.new_context(viewport={"width": 360, "height": 740}, device_scale_factor=2)
    page = context.new_page()
    try:
        page.goto(f"{demo_site}/accounts/login/")
        assert page.evaluate("document.documentElement.scrollWidth") <= 360
        if SCREENSHOT_DIR:
            page.screenshot(path=str(Path(SCREENSHOT_DIR) / "login-360.png"), full_page=True)
        _sign_in(page, "admin.north")
        expect(page.get_by_role("heading", name=re.compile("Welcome"))).to_be_visible()

        menu = page.get_by_role("button", name="Menu")
        expect(menu).to_be_visible()
        expect(menu).to_have_attribute("aria-expanded", "false")
        expect(page.get_by_role("link", name="System status")).to_be_hidden()
        # Nothing wider than the screen: no sideways scrolling on a phone.
        assert page.evaluate("document.documentElement.scrollWidth") <= 360
        if SCREENSHOT_DIR:
            page.screenshot(path=str(Path(SCREENSHOT_DIR) / "home-360-closed.png"), full_page=True)

        menu.click()
        expect(menu).to_have_attribute("aria-expanded", "true")
        expect(page.get_by_role("link", name="System status")).to_be_visible()
        expect(page.get_by_role("button", name="Sign out")).to_be_visible()
        assert page.evaluate("document.documentElement.scrollWidth") <= 360
        if SCREENSHOT_DIR:
            page.screenshot(path=str(Path(SCREENSHOT_DIR) / "home-360-open.png"), full_page=True)

        page.keyboard.press("Escape")
        expect(menu).to_have_attribute("aria-expanded", "false")
        expect(menu).to_be_focused()

        page.goto(f"{demo_site}/system/")
        expect(page.get_by_role("heading", name="System status")).to_be_visible()
        assert page.evaluate("document.documentElement.scrollWidth") <= 360
        if SCREENSHOT_DIR:
            page.screenshot(path=str(Path(SCREENSHOT_DIR) / "status-360.png"), full_page=True)
    finally:
        context.close()


def test_desktop_layout_shows_the_menu_inline(demo_site, page):
    page.set_viewport_size({"width": 1280, "height": 800})
    page.goto(f"{demo_site}/accounts/login/")
    _sign_in(page, "admin.north")

    expect(page.get_by_role("button", name="Menu")).to_be_hidden()
    expect(page.get_by_role("link", name="System status")).to_be_visible()
    if SCREENSHOT_DIR:
        page.screenshot(path=str(Path(SCREENSHOT_DIR) / "home-1280.png"))

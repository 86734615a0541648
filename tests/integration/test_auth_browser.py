"""Sign-in and sign-out in a real Chromium (security review, item 1)."""
from __future__ import annotations

import pytest

from tests.conftest import PASSWORD
from tests.integration.test_quiz_browser import browser, live  # noqa: F401 - fixtures

pytestmark = pytest.mark.browser


def test_keep_me_signed_in_then_sign_out_then_reopen_shows_the_sign_in_page(live, browser):  # noqa: F811
    base, _ids = live
    context = browser.new_context()
    page = context.new_page()
    page.goto(f"{base}/login")
    page.fill("#employee_no", "WEB1")
    page.fill("#password", PASSWORD)
    page.check("#remember")
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}/my")
    assert any(c["name"] == "remember_token" for c in context.cookies())
    page.click("nav form[action$='/logout'] button")
    page.wait_for_url(f"{base}/login")
    # Reopen the browser: only what it keeps across restarts (persistent cookies) remains.
    kept = [c for c in context.cookies() if c.get("expires", -1) > 0]
    context.close()
    reopened = browser.new_context()
    reopened.add_cookies(kept)
    page = reopened.new_page()
    page.goto(f"{base}/my")
    assert page.url.startswith(f"{base}/login")
    assert page.locator("#employee_no").is_visible()
    reopened.close()

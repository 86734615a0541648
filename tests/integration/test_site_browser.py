"""Every page in a real browser (Playwright driving Debian's Chromium): axe-core's WCAG 2.1 AA
rules pass on each, opened in Chinese by someone who may open it, and the navigation bar fits a
1024-pixel laptop screen in both languages and a 390-pixel phone, for each role. Nothing is
fetched from another host while it runs: axe-core comes inside axe-playwright-python."""
from __future__ import annotations

from collections import defaultdict

import pytest

from tests.conftest import PASSWORD, skip_or_fail
from tests.integration.site_pages import ANONYMOUS, seed_site, site_pages
from tests.integration.test_quiz_browser import browser, live  # noqa: F401 (fixtures)
from trainer.core.db import db, write_intent
from trainer.core.permissions import ROLES

pytestmark = pytest.mark.browser

# WCAG 2.1 A and AA; and empty table headers, a best practice in axe-core rather than a WCAG
# rule, but a header cell that says nothing leaves a screen reader's user guessing.
AXE_OPTIONS = {"runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]},
               "rules": {"empty-table-header": {"enabled": True}},
               "resultTypes": ["violations"]}
# Who opens a page that several may open: the least powerful first (their pages were where the
# defects hid); the navigation test below checks each role's own bar.
PREFERENCE = ("learner", "hr", "trainer", "admin", ANONYMOUS)
LAPTOP = {"width": 1024, "height": 768}
PHONE = {"width": 390, "height": 844}


@pytest.fixture
def site(app, live):
    """The live server with the whole site's objects committed (live deletes them after)."""
    base, _ = live
    with app.app_context():
        with write_intent():
            built = seed_site(app.secret_key)
            db.session.commit()
        db.session.remove()
    return base, built


def axe_script() -> str:
    """axe-core's own script, as axe-playwright-python ships it (nothing is downloaded)."""
    try:
        from axe_playwright_python.sync_playwright import Axe
    except ImportError:
        skip_or_fail("axe-playwright-python is not installed (pip install -e '.[test]')")
    return Axe().axe_script


def open_as(browser, base: str, employee_no: str | None):  # noqa: F811
    """A browser context signed in as this person (or nobody) with axe-core in every page,
    recording every host it asks anything of. No animations: nothing to wait for."""
    context = browser.new_context(viewport=LAPTOP, locale="zh-CN", reduced_motion="reduce")
    context.add_init_script(axe_script())
    context.hosts = set()
    context.on("request", lambda request: context.hosts.add(request.url.split("/")[2]
                                                            if "://" in request.url else "data:"))
    page = context.new_page()
    if employee_no:
        page.goto(f"{base}/login")
        page.fill("#employee_no", employee_no)
        page.fill("#password", PASSWORD)
        page.click("main button[type=submit]")
        page.wait_for_selector("[data-signout]")
    return context, page


def axe_problems(page, where: str, scope: str = "html") -> list[str]:
    results = page.evaluate("([scope, options]) => axe.run(scope, options)", [scope, AXE_OPTIONS])
    return [f"{where}: {violation['id']} {node['target']} {node['html'][:120]}\n"
            f"    {node['failureSummary']}"
            for violation in results["violations"] for node in violation["nodes"]]


def test_every_page_passes_axe_core(app, site, browser):  # noqa: F811
    base, built = site
    by_visitor: dict[str, list] = defaultdict(list)
    for page_ in site_pages(app, built):
        by_visitor[next(v for v in PREFERENCE if v in page_.visitors)].append(page_)
    failures, checked = [], 0
    for visitor, pages in by_visitor.items():
        context, page = open_as(browser, base, built.people.get(visitor))
        for target in pages:
            url = f"{base}{target.url}"
            # Files and JSON are downloads, not pages (the browser would save them).
            kind = context.request.get(url).headers.get("content-type", "")
            if not kind.startswith("text/html"):
                continue
            page.goto(url)
            assert page.evaluate("document.documentElement.lang") == "zh-CN", url
            failures += axe_problems(page, f"{visitor} {target.url}")
            checked += 1
        hosts = context.hosts - {base.split("/")[2], "data:"}
        assert not hosts, f"fetched from elsewhere: {hosts}"
        context.close()
    assert checked > 30
    assert not failures, f"{len(failures)} problems:\n" + "\n".join(failures[:40])


# For each element of the bar: whether its text's line boxes sit on more than one line.
LINES = """els => els.filter(el => el.offsetParent !== null).map(el => {
  const range = document.createRange();
  range.selectNodeContents(el);
  const tops = [...range.getClientRects()].map(r => r.top);
  const line = parseFloat(getComputedStyle(el).lineHeight) || 24;
  return [el.textContent.trim(), (Math.max(...tops) - Math.min(...tops)) > line / 2];
})"""
BAR_TEXT = ".navbar .nav-link, .navbar .btn, .navbar .navbar-brand, .navbar a"
OFF_SCREEN = """els => els.filter(el => el.offsetParent !== null
    && el.getBoundingClientRect().right > innerWidth).map(el => el.outerHTML.slice(0, 80))"""


def bar_problems(page, where: str) -> list[str]:
    # Colours are measured at rest: no pointer over a button, Bootstrap's 0.15 s colour
    # transitions over (a button caught mid-transition read as low contrast now and then).
    page.mouse.move(0, page.viewport_size["height"] - 1)
    page.wait_for_timeout(300)
    problems = [f"{where}: {p}" for p in axe_problems(page, where, ".navbar")]
    wrapped = [text for text, wraps in page.eval_on_selector_all(BAR_TEXT, LINES) if wraps]
    if wrapped:
        problems.append(f"{where}: words wrapped: {wrapped}")
    off_screen = page.eval_on_selector_all(".navbar *", OFF_SCREEN)
    if off_screen:
        problems.append(f"{where}: off the right edge: {off_screen}")
    if not page.is_visible("[data-signout] button"):
        problems.append(f"{where}: no sign-out button in sight")
    return problems


def test_the_navigation_bar_fits_laptops_and_phones(app, site, browser):  # noqa: F811
    """For each role (and someone holding all four, the longest bar), in Chinese and then in
    English: at 1024 px every entry is whole and sign-out is on screen; at 390 px too, and the
    menu button opens the links, each whole."""
    base, built = site
    failures = []
    for person in (*ROLES, "everyone"):
        context, page = open_as(browser, base, built.people[person])
        for language in ("zh", "en"):
            page.set_viewport_size(LAPTOP)
            if language == "en":
                page.click("button[name=locale][value=en]")
                page.wait_for_selector("html[lang=en]")
            failures += bar_problems(page, f"{person} {language} 1024 px")
            page.set_viewport_size(PHONE)
            failures += bar_problems(page, f"{person} {language} 390 px")
            page.click(".navbar-toggler")
            page.wait_for_selector("#nav.collapse.show")
            failures += bar_problems(page, f"{person} {language} 390 px, menu open")
            links = page.locator("#nav .nav-link")
            if not all(links.nth(i).is_visible() for i in range(links.count())):
                failures.append(f"{person} {language} 390 px: a link is hidden in the menu")
            page.click(".navbar-toggler")
        context.close()
    assert not failures, "\n".join(failures)


def test_an_agent_reads_their_own_record_on_a_phone(app, site, browser):  # noqa: F811
    """我的档案 at 390 px: the page itself does not scroll sideways (a wide table scrolls in its
    own box), and its sections are all there."""
    base, built = site
    context, page = open_as(browser, base, built.people["learner"])
    page.set_viewport_size(PHONE)
    page.goto(f"{base}/records/me")
    assert page.is_visible("[data-identity]") and page.is_visible("[data-enrolments]")
    width = page.evaluate("document.documentElement.scrollWidth")
    context.close()
    assert width <= PHONE["width"], f"the page is {width} px wide on a {PHONE['width']} px phone"


def test_a_stood_down_agent_reads_and_acknowledges_the_plan_on_a_phone(app, site, browser):  # noqa: F811
    """待岗 at 390 px: from 我的培训 to the case, whose plan and acknowledgement form are on the
    page, which does not scroll sideways."""
    base, built = site
    context, page = open_as(browser, base, built.people["learner"])
    page.set_viewport_size(PHONE)
    page.goto(f"{base}/my")
    page.click("[data-remedial-case] a")
    page.wait_for_url(f"**/remedial/{built.ids['case']}")
    assert page.is_visible("[data-plan-goals]") and page.is_visible("[data-acknowledge-plan]")
    assert page.is_visible("[data-talks]") and not page.is_visible("text=查看记录")
    width = page.evaluate("document.documentElement.scrollWidth")
    context.close()
    assert width <= PHONE["width"], f"the page is {width} px wide on a {PHONE['width']} px phone"

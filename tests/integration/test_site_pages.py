"""Every page, as each person who may open it (the list read from the URL map, as the browser
checks read it): no link leads to a refusal, and no English is left in the Chinese interface."""
from __future__ import annotations

import re
from html.parser import HTMLParser
from urllib.parse import urljoin, urlsplit

import pytest

from tests.integration.site_pages import ANONYMOUS, USER_AGENT, seed_site, site_pages
from trainer.core.permissions import ROLES


@pytest.fixture
def site(app, db_session):
    built = seed_site(app.secret_key)
    db_session.commit()
    return built


class Links(HTMLParser):
    """The same-site links of a page (what a person can click), without their fragments."""

    def __init__(self, page_url: str) -> None:
        super().__init__(convert_charrefs=True)
        self.page_url, self.found = page_url, []

    def handle_starttag(self, tag, attrs):
        href = dict(attrs).get("href")
        if tag != "a" or not href or href.startswith("#"):
            return
        url = urlsplit(urljoin(f"http://site{self.page_url}", href))
        if url.netloc == "site":
            self.found.append(url.path + (f"?{url.query}" if url.query else ""))


def links_in(page_url: str, html: str) -> list[str]:
    parser = Links(page_url)
    parser.feed(html)
    return parser.found


def is_page(response) -> bool:
    return response.mimetype == "text/html"


@pytest.mark.parametrize("role", ROLES)
def test_no_link_on_any_page_leads_to_a_refusal(app, client, site, role):
    """A link is shown only to those who may follow it: each page this role may open is read,
    and every same-site link on it followed (redirects too)."""
    assert client.login(site.people[role]).status_code == 302
    followed: dict[str, int] = {}
    refused = []
    pages = [p.url for p in site_pages(app, site) if role in p.visitors]
    if role == "hr":  # an administrator's record: HR may read it, not change it
        pages.append(f"/staff/{site.staff_ids['admin']}")
    for url in pages:
        response = client.get(url, follow_redirects=True)
        assert response.status_code < 400, f"{role} may open {url}: {response.status_code}"
        if not is_page(response):
            continue
        for link in links_in(url, response.get_data(as_text=True)):
            if link not in followed:
                followed[link] = client.get(link, follow_redirects=True).status_code
            if followed[link] == 403:
                refused.append(f"{url} → {link}")
    assert len(pages) >= 8 and len(followed) >= 10
    assert not refused, f"{role} is shown {len(refused)} links it may not follow:\n" + \
        "\n".join(refused)


# An English word: three letters or more (employee numbers such as L0001 are not words).
ENGLISH_WORD = re.compile(r"[A-Za-z]{3,}")
# What stays in Latin letters in a Chinese interface: names of formats, products and standards,
# and the browsers and systems a device names itself by.
PRODUCT_TERMS = {"GIFT", "Aiken", "Moodle", "XML", "XLSX", "CSV", "Excel", "Word", "PDF", "URL",
                 "UTF", "GBK", "Markdown", "HTML", "Chrome", "Chromium", "Firefox", "Safari",
                 "Edge", "Opera", "WeChat", "DingTalk", "Windows", "Android", "iPhone", "iPad",
                 "macOS", "ChromeOS", "Linux", "JPEG", "PNG", "ZIP", "SHA"}
# Attributes a person reads (or hears from a screen reader), and the messages the page's
# scripts show (kept in data-msg-* attributes).
READ_ATTRIBUTES = {"aria-label", "title", "placeholder", "alt"}


class ReadText(HTMLParser):
    """The text a person reads on a page: its text (not scripts or styles) and the attributes
    above; a part marked as being in another language (lang="en") is left out."""

    VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source",
            "track", "wbr"}

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.stack: list[tuple[str, bool]] = []  # (tag, skipped)

    def _skipping(self) -> bool:
        return any(skipped for _, skipped in self.stack)

    def handle_starttag(self, tag, attrs):
        values = dict(attrs)
        lang = values.get("lang")
        skipped = tag in ("script", "style") or (lang is not None and not lang.startswith("zh"))
        if not skipped and not self._skipping():
            self.parts += [value for name, value in attrs if value and (
                name in READ_ATTRIBUTES or name.startswith("data-msg-"))]
        if tag not in self.VOID:
            self.stack.append((tag, skipped))

    def handle_endtag(self, tag):
        while self.stack:
            if self.stack.pop()[0] == tag:
                break

    def handle_data(self, data):
        if data.strip() and not self._skipping():
            self.parts.append(data.strip())


def english_in(html: str, content: tuple[str, ...]) -> set[str]:
    parser = ReadText()
    parser.feed(html)
    text = "\n".join(parser.parts)
    for entered in content:  # data shown as it was entered is not the interface's to translate
        text = text.replace(entered, " ")
    return {word for word in ENGLISH_WORD.findall(text) if word not in PRODUCT_TERMS}


def test_every_page_speaks_chinese(app, client, site):
    """Each page, opened in zh_CN by each person who may open it (and signed out: the sign-in
    page, a missing page), shows no English word outside the product terms above. The site's
    own content is Chinese, so what English there is comes from the interface."""
    found: dict[str, set[str]] = {}
    client.raw.environ_base["HTTP_USER_AGENT"] = USER_AGENT  # a browser's, as people have
    for visitor in (ANONYMOUS, *ROLES):
        if visitor != ANONYMOUS:
            client.login(site.people[visitor])
        urls = [p.url for p in site_pages(app, site) if visitor in p.visitors]
        if visitor == ANONYMOUS:
            urls.append("/no-such-page")
        for url in urls:
            response = client.get(url, follow_redirects=True,
                                  headers={"Accept-Language": "zh-CN,zh;q=0.9"})
            if not is_page(response):
                continue
            words = english_in(response.get_data(as_text=True), site.content)
            if words:
                found[f"{visitor} {url}"] = words
        if visitor != ANONYMOUS:
            client.post("/logout")
    assert not found, "English in the Chinese interface:\n" + "\n".join(
        f"{where}: {sorted(words)}" for where, words in sorted(found.items()))


def test_a_lessons_checklist_shows_boxes_not_brackets(client, site):
    client.login(site.people["learner"])
    enrolment, lesson = site.ids["enrolment"], site.ids["lesson"]
    page = client.get(f"/learn/{enrolment}/lessons/{lesson}").get_data(as_text=True)
    lesson_html = page[page.index('<article'):page.index('</article>')]
    assert "[ ]" not in lesson_html and "[x]" not in lesson_html
    boxes = re.findall(r'<input[^>]*type="checkbox"[^>]*>', lesson_html)
    assert len(boxes) == 2 and all("disabled" in box for box in boxes)

"""Every page, as each person who may open it (the list read from the URL map, as the browser
checks read it): no link leads to a refusal."""
from __future__ import annotations

from html.parser import HTMLParser
from urllib.parse import urljoin, urlsplit

import pytest

from tests.integration.site_pages import seed_site, site_pages
from trainer.core.permissions import ROLES


@pytest.fixture
def site(db_session):
    built = seed_site()
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

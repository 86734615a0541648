"""The site has an icon: linked from every page, and at /favicon.ico for the browsers, feed
readers and bookmarks that ask there by themselves."""
from __future__ import annotations

import re

from tests.integration.test_security_headers import assert_secured


def test_every_page_links_an_icon_that_is_served(client, users):
    icons = re.findall(r'<link rel="icon"[^>]*href="([^"]+)"', client.get("/login").get_data(
        as_text=True))
    assert icons, "no icon linked"
    for href in icons:
        response = client.get(href)
        assert response.status_code == 200 and response.mimetype.startswith("image/"), href
    client.login(users["learner"].employee_no)
    assert '<link rel="icon"' in client.get("/me").get_data(as_text=True)


def test_favicon_ico_answers_with_an_icon_and_the_security_headers(client):
    response = client.get("/favicon.ico")
    assert response.status_code == 200
    assert response.mimetype in ("image/vnd.microsoft.icon", "image/x-icon")
    assert response.data[:4] == b"\x00\x00\x01\x00"  # an ICO file's header
    assert_secured(response)

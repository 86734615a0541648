"""Resources a browser would load by itself from another site, in trainer-written HTML and
Markdown (an image on an exam page is a beacon telling its site who opens the exam): found by
one pure checker that saves and imports refuse with, and dropped by the renderer from older
text. Hyperlinks are not resources: they stay, opened without a referrer."""
from __future__ import annotations

import pytest

from trainer.core.markdown import external_resources, loads_from_elsewhere, render_text

EVIL = "https://tracker.example/pixel.gif"


@pytest.mark.parametrize("url", [
    EVIL, "http://tracker.example/a.png", "//tracker.example/a.png", "HTTPS://T.EXAMPLE/a",
    "  https://tracker.example/a", "ht\ttps://tracker.example/a", "https:\n//tracker.example/a",
    "/\\tracker.example/a.png", "\\\\tracker.example\\a.png", "\x01https://tracker.example/a",
    "ftp://files.example/a.png", "file:///C:/Users/a/Pictures/a.png", "javascript:alert(1)",
])
def test_addresses_that_leave_the_site(url: str) -> None:
    assert loads_from_elsewhere(url)


@pytest.mark.parametrize("url", [
    "a.png", "/static/img/a.png", "../a.png", "?x=1", "#top", "", "data:image/png;base64,iVBOR",
    "DATA:image/gif;base64,R0lG", "@@PLUGINFILE@@/a.png", "图片/标志.png",
])
def test_addresses_on_this_site_and_data_urls(url: str) -> None:
    assert not loads_from_elsewhere(url)


@pytest.mark.parametrize("html", [
    f'<p>看图<img src="{EVIL}"></p>',
    f"<IMG SRC='{EVIL}' alt=x>",
    f"<img src={EVIL}>",
    '<img src="https&#58;//tracker.example/pixel.gif">',
    f'<img src="a.png" srcset="b.png 1x, {EVIL} 2x">',
    f'<picture><source srcset="{EVIL}"><img src="a.png"></picture>',
    f'<audio src="{EVIL}"></audio>',
    f'<video src="a.mp4" poster="{EVIL}"></video>',
    f'<video><source src="{EVIL}"><track src="{EVIL}"></video>',
    f'<iframe src="{EVIL}"></iframe>',
    f'<embed src="{EVIL}">',
    f'<object data="{EVIL}"></object>',
    f'<input type="image" src="{EVIL}">',
    f'<table background="{EVIL}"><tr><td>x</td></tr></table>',
    f'<link rel="stylesheet" href="{EVIL}">',
    f'<svg><image href="{EVIL}"/></svg>',
    f'<svg><use xlink:href="{EVIL}#a"/></svg>',
    f'<p style="background: url({EVIL})">x</p>',
    f'<p style="background-image:URL( \'{EVIL}\' )">x</p>',
    '<p style="background: u\\72l(https://tracker.example/pixel.gif)">x</p>',
    f'<style>p {{ background: url("{EVIL}") }}</style>',
    f'<style>@import "{EVIL}";</style>',
    f'<iframe srcdoc="&lt;img src=&quot;{EVIL}&quot;&gt;"></iframe>',
])
def test_html_resources_from_elsewhere_are_found(html: str) -> None:
    found = external_resources(html, "html")
    assert found and all(url.startswith(EVIL) for url in found), found


@pytest.mark.parametrize("markdown", [
    f"看图：![标志]({EVIL})",
    f'![标志]({EVIL} "标题")',
    f"![标志][logo]\n\n[logo]: {EVIL}",
    f'段落 <img src="{EVIL}"> 段落',          # raw HTML: shown as text here, not elsewhere
    f"[![徽章]({EVIL})](https://example.com/)",
])
def test_markdown_resources_from_elsewhere_are_found(markdown: str) -> None:
    assert external_resources(markdown, "markdown") == [EVIL]


@pytest.mark.parametrize("text,text_format", [
    ("[服务规范](https://example.com/standard) 与 <https://example.com/>", "markdown"),
    ('<a href="https://example.com/">服务规范</a>', "html"),
    ('<area href="https://example.com/">', "html"),
    ("![本站的图](/static/img/a.png) ![](data:image/png;base64,iVBORw0KGgo=)", "markdown"),
    ('<img src="a.png" srcset="a.png 1x, b.png 2x"><p style="color: red">x</p>', "html"),
    (f"`![代码里的图]({EVIL})`\n\n    <img src=\"{EVIL}\">", "markdown"),
    (f'<img src="{EVIL}">', "plain"),   # plain text is shown as text, never as markup
    ("客户离开时应当说再见。", "markdown"),
])
def test_links_local_images_code_and_plain_text_are_not_resources(text: str,
                                                                   text_format: str) -> None:
    assert external_resources(text, text_format) == []


def test_each_address_is_named_once_in_order() -> None:
    other = "https://other.example/a.png"
    text = f'<img src="{EVIL}"><img src="{other}"><img src="{EVIL}">'
    assert external_resources(text, "html") == [EVIL, other]


@pytest.mark.parametrize("text,text_format", [
    (f'<p><img src="{EVIL}" alt="标志"><img src="//tracker.example/b.png"></p>', "html"),
    ('<p><img src="ht&#x09;tps://tracker.example/pixel.gif"></p>', "html"),
    (f"![标志]({EVIL})", "markdown"),
])
def test_the_renderer_drops_images_from_elsewhere_that_older_text_still_has(
        text: str, text_format: str) -> None:
    html = str(render_text(text, text_format))
    assert "<img" in html and "tracker.example" not in html


def test_the_renderer_keeps_local_images_and_links_without_a_referrer() -> None:
    html = str(render_text("![标志](/static/a.png) [规范](https://example.com/)", "markdown"))
    assert '<img src="/static/a.png" alt="标志">' in html
    assert '<a href="https://example.com/" rel="noopener noreferrer">规范</a>' in html

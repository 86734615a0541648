"""Safe rendering of trainer-written text (stems, choices, feedback, lessons)."""
from __future__ import annotations

from functools import lru_cache

import nh3
from markdown_it import MarkdownIt
from markupsafe import Markup

_ALLOWED_TAGS = {
    "p", "br", "strong", "em", "b", "i", "u", "s", "code", "pre", "blockquote", "ul", "ol", "li",
    "h1", "h2", "h3", "h4", "h5", "h6", "hr", "table", "thead", "tbody", "tr", "th", "td",
    "a", "span", "sub", "sup", "img", "input", "del",
}
_ALLOWED_ATTRIBUTES = {
    "a": {"href", "title"},
    "img": {"src", "alt", "title"},
    "th": {"align"},
    "td": {"align"},
    "input": {"type", "checked", "disabled"},
}


@lru_cache(maxsize=1)
def _parser() -> MarkdownIt:
    # Raw HTML in Markdown is not passed through; tables and strikethrough are on.
    return MarkdownIt("commonmark", {"html": False, "linkify": False, "breaks": True}).enable(
        ["table", "strikethrough"]
    )


def sanitise_html(html: str) -> str:
    return nh3.clean(
        html,
        tags=_ALLOWED_TAGS,
        attributes=_ALLOWED_ATTRIBUTES,
        url_schemes={"http", "https", "mailto"},
        link_rel="noopener noreferrer",
    )


# Stems and choices are short and the same for everyone sitting an exam: a question page renders
# ~150 of them, and rendering them again for each candidate was half the page's time (bench/
# exam_day.py). The result depends on nothing but the text and its format.
_CACHED_LENGTH = 2000


def render_text(text: str, text_format: str = "markdown") -> Markup:
    """Render text in its format to sanitised HTML: no scripts, handlers or javascript: links."""
    if not text:
        return Markup("")
    if len(text) <= _CACHED_LENGTH:
        return Markup(_render_cached(text, text_format))
    return Markup(_render(text, text_format))


@lru_cache(maxsize=8192)
def _render_cached(text: str, text_format: str) -> str:
    return _render(text, text_format)


def _render(text: str, text_format: str) -> str:
    if text_format == "html":
        html = text
    elif text_format == "plain":
        html = "<p>" + Markup.escape(text).replace("\n", Markup("<br>")) + "</p>"
    else:
        html = _parser().render(text)
    return sanitise_html(str(html))

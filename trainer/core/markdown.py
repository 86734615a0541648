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


def render_text(text: str, text_format: str = "markdown") -> Markup:
    """Render text in its format to sanitised HTML: no scripts, handlers or javascript: links."""
    if not text:
        return Markup("")
    if text_format == "html":
        html = text
    elif text_format == "plain":
        html = "<p>" + Markup.escape(text).replace("\n", Markup("<br>")) + "</p>"
    else:
        html = _parser().render(text)
    return Markup(sanitise_html(str(html)))

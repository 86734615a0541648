"""Safe rendering of trainer-written text (stems, choices, feedback, lessons), and the check
that such text makes no browser fetch anything from another site by itself."""
from __future__ import annotations

import re
from functools import lru_cache
from html import unescape
from html.parser import HTMLParser

import nh3
import tinycss2
from markdown_it import MarkdownIt
from markupsafe import Markup
from mdit_py_plugins.tasklists import tasklists_plugin

_ALLOWED_TAGS = {
    "p", "br", "strong", "em", "b", "i", "u", "s", "code", "pre", "blockquote", "ul", "ol", "li",
    "h1", "h2", "h3", "h4", "h5", "h6", "hr", "table", "thead", "tbody", "tr", "th", "td",
    "a", "span", "sub", "sup", "img", "input", "del", "label",
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
    # Raw HTML in Markdown is not passed through; tables and strikethrough are on, and lessons'
    # checklists ("- [ ] …") become boxes nobody can tick, each inside a label with its text.
    return MarkdownIt("commonmark", {"html": False, "linkify": False, "breaks": True}).enable(
        ["table", "strikethrough"]
    ).use(tasklists_plugin, label=True)


def _drop_resources_from_elsewhere(tag: str, attribute: str, value: str) -> str | None:
    # Saves and imports refuse them (external_resources); this catches text stored before.
    if attribute == "src" and loads_from_elsewhere(value):
        return None
    return value


def sanitise_html(html: str) -> str:
    return nh3.clean(
        html,
        tags=_ALLOWED_TAGS,
        attributes=_ALLOWED_ATTRIBUTES,
        attribute_filter=_drop_resources_from_elsewhere,
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


def words_of(text: str, text_format: str = "markdown") -> str:
    """The text without its HTML markup (to name a question by its first words)."""
    if text_format != "html":
        return text
    return unescape(nh3.clean(text, tags=set()))


# -- resources from elsewhere -------------------------------------------------------------------
# An image (or frame, sound, style sheet…) from another site in a question or a lesson is
# fetched by each learner's browser as it opens the page: a beacon telling that site who sits
# which exam, and when. Hyperlinks are fetched only when followed, so they stay.

# Browsers drop tabs and newlines anywhere in a URL, leading and trailing controls and spaces,
# and read a backslash as a slash.
_URL_IGNORED = re.compile(r"[\t\n\r]")
_URL_TRIMMED = "".join(map(chr, range(0x21)))
_SCHEME = re.compile(r"[a-zA-Z][a-zA-Z0-9+.\-]*:")


def loads_from_elsewhere(url: str) -> bool:
    """Whether a browser would take this URL off the site: an address with a scheme (other than
    a data: URL, which holds its content itself) or one starting with // (another host)."""
    url = _URL_IGNORED.sub("", url).strip(_URL_TRIMMED)
    if url.replace("\\", "/").startswith("//"):
        return True
    scheme = _SCHEME.match(url)
    return scheme is not None and scheme.group(0).lower() != "data:"


# Attributes whose URL the browser fetches by itself, on any element (href only off <a>/<area>,
# where it is a link; data only on <object>).
_FETCHED = frozenset({"src", "poster", "background", "lowsrc", "dynsrc", "codebase",
                      "manifest", "xlink:href"})
_FETCHED_LISTS = frozenset({"srcset", "imagesrcset"})
_LINKS = frozenset({"a", "area"})


def _css_urls(css: str) -> list[str]:
    """URLs in a style sheet or a style attribute: url(…) and every string (url("…"),
    @import "…", image-set("…")), as CSS reads them (comments, escapes)."""
    urls: list[str] = []

    def walk(tokens) -> None:
        for token in tokens:
            if token.type in ("url", "string"):
                urls.append(token.value)
            for nested in (getattr(token, "arguments", None), getattr(token, "content", None)):
                if nested:
                    walk(nested)

    walk(tinycss2.parse_component_value_list(css))
    return urls


class _FetchedURLs(HTMLParser):
    """Every URL in an HTML fragment that a browser would fetch without a click."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.urls: list[str] = []
        self._in_style = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._in_style = tag == "style"
        for name, value in attrs:
            if value is None:
                continue
            if name in _FETCHED or (name == "href" and tag not in _LINKS) \
                    or (name == "data" and tag == "object"):
                self.urls.append(value)
            elif name in _FETCHED_LISTS:
                # Every piece between spaces and commas: each candidate's URL and descriptor, and
                # a URL holding a comma cut in two; a piece from elsewhere is never missed.
                self.urls.extend(part for part in re.split(r"[\s,]+", value) if part)
            elif name == "style":
                self.urls.extend(_css_urls(value))
            elif name == "srcdoc":
                self.urls.extend(_fetched_urls(value))

    def handle_endtag(self, tag: str) -> None:
        if tag == "style":
            self._in_style = False

    def handle_data(self, data: str) -> None:
        if self._in_style:
            self.urls.extend(_css_urls(data))


def _fetched_urls(html: str) -> list[str]:
    parser = _FetchedURLs()
    parser.feed(html)
    parser.close()
    return parser.urls


@lru_cache(maxsize=1)
def _markdown_with_html() -> MarkdownIt:
    # As the renderer reads Markdown, but with raw HTML kept: it is shown as text here, yet the
    # text also leaves in exports, where other systems render it.
    return MarkdownIt("commonmark", {"html": True, "linkify": False, "breaks": True}).enable(
        ["table", "strikethrough"]
    )


def external_resources(text: str, text_format: str = "markdown") -> list[str]:
    """The URLs from other sites that showing this text would make a browser fetch by itself
    (images, sound, video, frames, style sheets, CSS url()), each once, in order. Links and
    same-site or data: URLs are not among them; plain text shows no markup at all."""
    if text_format == "plain":
        return []
    if text_format == "markdown":
        if "<" not in text and "![" not in text:  # (most texts: no parse needed)
            return []
        html = _markdown_with_html().render(text)
    else:
        if "<" not in text:
            return []
        html = text
    return list(dict.fromkeys(url.strip() for url in _fetched_urls(html)
                              if loads_from_elsewhere(url)))

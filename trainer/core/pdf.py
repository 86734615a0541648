"""PDFs from HTML with WeasyPrint: the classroom's sign-in sheet and a closed class's evidence
today, certificates tomorrow.

- WeasyPrint is imported on the first rendering, not with the app: the import alone takes about
  a second, which no page and no worker start should pay for.
- One FontConfiguration per process: it keeps the fonts Pango has loaded, so a warm Chinese page
  renders in tens of milliseconds. Chinese text needs a CJK font (Debian's fonts-wqy-microhei,
  named first in static/css/pdf.css) and HarfBuzz's subsetter (libharfbuzz-subset0; without it
  a Chinese page takes seconds): `make system-deps` installs both.
- The cycle collector pauses while WeasyPrint renders (see `_collector_paused`).
- The HTML is parsed by lxml (libxml2, in C), not by WeasyPrint's own pure-Python HTML5
  parser, which took 20 to 30 ms of a long record's rendering (lxml: under 2 ms with the copy
  into ElementTree). Our templates are well-formed HTML whose tree both parsers build alike
  (tests/unit/test_pdf_parse.py compares them on every PDF template); `_Parsed` hands WeasyPrint
  the tree as its own `HTML` would hold it, which ties us to its attributes: weasyprint is
  pinned to one major version in pyproject.toml, and the tests render through this path.
- A rendering reads nothing from the network and nothing from the disk but the app's own static
  files: `data:` URLs (QR codes, charts) and files under static/ are fetched, anything else is
  refused (WeasyPrint logs it and leaves the resource out). Names and notes people typed end up
  in these documents; escaped as they are, a mistake in a template still cannot make the server
  fetch a URL or read /etc.
"""
from __future__ import annotations

import gc
import mimetypes
import os
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from trainer import PROJECT_ROOT

__all__ = ["STATIC_ROOT", "render"]

STATIC_ROOT = PROJECT_ROOT / "static"
# Every document starts from this: page size, the CJK font, tables.
BASE_STYLESHEET = "css/pdf.css"

_lock = threading.Lock()
_state: dict[str, Any] = {}
_sheets: dict[tuple, Any] = {}     # (name, mtime, size) → parsed CSS, this process's


def render(html: str, *, stylesheets: Sequence[str] = ()) -> bytes:
    """The PDF of `html`, styled by static/css/pdf.css and then `stylesheets` (paths under
    static/). Relative URLs in the document name static files too."""
    weasyprint, fonts, fetcher = _weasyprint()
    base_url = STATIC_ROOT.as_uri() + "/"
    sheets = [_stylesheet(name) for name in (BASE_STYLESHEET, *stylesheets)]
    # Pango's font map is not meant to be shared by threads rendering at once (the development
    # server and threaded workers); a page renders in tens of milliseconds, so they take turns.
    with _lock, _collector_paused():
        document = _parsed(weasyprint)(parse(html), base_url=base_url, url_fetcher=fetcher)
        return document.write_pdf(stylesheets=sheets, font_config=fonts)


def parse(html: str):
    """The document's tree as xml.etree elements (what WeasyPrint lays out), parsed by lxml:
    elements, attributes and text; comments and processing instructions left out (their tail
    text kept), as WeasyPrint leaves them out of the layout. As an HTML5 parser does, a
    document without <head> gets an empty one and rows written straight into a table get a
    <tbody>."""
    from xml.etree.ElementTree import Element, SubElement

    import lxml.html

    source = lxml.html.document_fromstring(html)
    root = Element(source.tag, dict(source.attrib))
    root.text = source.text
    stack = [(source, root)]
    while stack:
        src, dst = stack.pop()
        last = implied_body = None
        for child in src:
            if isinstance(child.tag, str):
                parent = dst
                if child.tag == "tr" and dst.tag == "table":
                    if implied_body is None or last is not implied_body[-1]:
                        implied_body = SubElement(dst, "tbody")
                    parent = implied_body
                last = SubElement(parent, child.tag, dict(child.attrib))
                last.text, last.tail = child.text, child.tail
                stack.append((child, last))
            elif child.tail:
                if last is None:
                    dst.text = (dst.text or "") + child.tail
                else:
                    last.tail = (last.tail or "") + child.tail
    if not len(root) or root[0].tag != "head":
        root.insert(0, Element("head"))
    return root


def _parsed(weasyprint):
    """weasyprint.HTML made from a parsed tree rather than a string (see the module's note)."""
    if "parsed" not in _state:
        import cssselect2

        class _Parsed(weasyprint.HTML):
            def __init__(self, root, *, base_url: str, url_fetcher) -> None:
                # What weasyprint.HTML.__init__ keeps once it has parsed (our documents have
                # no <base>, so the base URL is the one given).
                self.base_url = base_url
                self.url_fetcher = url_fetcher
                self.media_type = "print"
                self.wrapper_element = cssselect2.ElementWrapper.from_html_root(
                    root, content_language=None)
                self.etree_element = self.wrapper_element.etree_element

        _state["parsed"] = _Parsed
    return _state["parsed"]


class _collector_paused:
    """Python's cycle collector off while WeasyPrint renders. A rendering allocates hundreds of
    thousands of small objects (boxes, styles), each few hundred of which start a collection
    that walks the worker's whole heap: about a sixth of a long record's time. What the
    rendering leaves in cycles is collected once the collector is back on."""

    def __enter__(self) -> None:
        self.was_enabled = gc.isenabled()
        gc.disable()

    def __exit__(self, *exc) -> None:
        if self.was_enabled:
            gc.enable()


def _weasyprint():
    """(the module, this process's FontConfiguration, the fetcher), made on first use; a
    forked worker makes its own rather than sharing its parent's font map."""
    if _state.get("pid") != os.getpid():
        with _lock:
            if _state.get("pid") != os.getpid():
                import weasyprint
                from weasyprint.text.fonts import FontConfiguration

                _sheets.clear()     # (parsed with the parent's font configuration)
                _state.update(module=weasyprint, fonts=FontConfiguration(),
                              fetcher=local_fetcher(), pid=os.getpid())
    return _state["module"], _state["fonts"], _state["fetcher"]


def _stylesheet(name: str):
    """The parsed stylesheet static/<name>, parsed once per process and again when the file
    changes (parsing the record's two took 6 to 8 ms a document). WeasyPrint reads a CSS
    object without changing it, as it shares its own user-agent stylesheet between documents."""
    weasyprint, fonts, fetcher = _weasyprint()
    path = _static_file(name)
    stat = path.stat()
    key = (name, stat.st_mtime_ns, stat.st_size)
    sheet = _sheets.get(key)
    if sheet is None:
        sheet = weasyprint.CSS(string=path.read_text(encoding="utf-8"),
                               base_url=STATIC_ROOT.as_uri() + "/", url_fetcher=fetcher,
                               font_config=fonts)
        with _lock:
            for old in [k for k in _sheets if k[0] == name]:
                del _sheets[old]
            _sheets[key] = sheet
    return sheet


def _static_file(name: str) -> Path:
    path = (STATIC_ROOT / name).resolve()
    if not path.is_relative_to(STATIC_ROOT.resolve()) or not path.is_file():
        raise ValueError(f"not a static file: {name}")
    return path


def local_fetcher():
    """WeasyPrint's URL fetcher, allowed only `data:` URLs and the app's static files."""
    from weasyprint.urls import URLFetcher, URLFetcherResponse

    class LocalFetcher(URLFetcher):
        def __init__(self) -> None:
            # The parent's own check, should a URL reach it: data: only.
            super().__init__(allowed_protocols=("data",), allow_redirects=False)

        def fetch(self, url: str, headers: dict | None = None) -> URLFetcherResponse:
            parts = urlsplit(url)
            scheme = parts.scheme.lower()
            if scheme == "data":
                return super().fetch(url, headers)
            if scheme == "file" and parts.netloc in ("", "localhost"):
                path = Path(unquote(parts.path)).resolve()
                root = STATIC_ROOT.resolve()
                if path.is_relative_to(root) and path.is_file():
                    kind = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
                    return URLFetcherResponse(url, path.read_bytes(), {"Content-Type": kind})
            raise ValueError(f"a PDF fetches only data: URLs and static files, not {url}")

    return LocalFetcher()

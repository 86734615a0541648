"""Server-side SVG charts (pygal), with nothing in them that runs or loads.

pygal writes an inline ``<script>`` with its configuration even with ``js=[]`` (and, by default,
a tooltip script from a CDN): both are stripped here, with its credits comment. Pages show a chart
as an ``<img>`` whose source is a ``data:`` URI (``img-src 'self' data:`` in our policy): the SVG
runs in an image context, where its inline ``<style>`` applies and no script could run anyway, and
the page's stricter ``style-src 'self'`` is not weakened. WeasyPrint draws the same ``<img>`` in a
PDF. An image has no tooltips, so the values are printed on the chart. Every chart has a text
alternative; pages put the figures beside it in a table. A chart under a heading of its own
(on its page or in a PDF) is drawn without a title: pass "".
"""
from __future__ import annotations

import base64
import re
from collections.abc import Callable, Mapping, Sequence

from markupsafe import Markup, escape

_SCRIPT = re.compile(r"<script\b.*?</script>", re.S | re.I)
_COMMENT = re.compile(r"<!--.*?-->", re.S)
# Fonts that carry Chinese on our machines first (Debian's fonts-wqy-microhei), then the usual.
FONT = "'WenQuanYi Micro Hei', 'Noto Sans CJK SC', 'Microsoft YaHei', 'PingFang SC', sans-serif"
COLOURS = ("#0d6efd", "#dc3545", "#198754", "#fd7e14", "#6f42c1", "#20c997", "#6c757d",
           "#d63384", "#0dcaf0", "#ffc107")


def _style():
    from pygal.style import Style
    return Style(
        background="#ffffff", plot_background="#ffffff", foreground="#212529",
        foreground_strong="#212529", foreground_subtle="#6c757d", opacity=".85",
        opacity_hover=".95", colors=COLOURS, font_family=FONT, label_font_family=FONT,
        major_label_font_family=FONT, value_font_family=FONT, value_label_font_family=FONT,
        tooltip_font_family=FONT, title_font_family=FONT, legend_font_family=FONT,
        no_data_font_family=FONT, guide_stroke_color="#dee2e6",
        major_guide_stroke_color="#ced4da", guide_stroke_dasharray="0", title_font_size=15, label_font_size=11,
        major_label_font_size=11, legend_font_size=12, value_font_size=11, no_data_font_size=16)


def _config(title: str, width: int, height: int, no_data: str, **extra) -> dict:
    return dict(title=title or None, width=width, height=height, style=_style(), js=[],
                disable_xml_declaration=True, explicit_size=True, no_data_text=no_data,
                print_values=extra.pop("print_values", True), show_legend=extra.pop("show_legend", False),
                legend_at_bottom=True, print_zeroes=False, max_scale=6, truncate_label=-1, truncate_legend=-1, **extra)


def clean(svg: str) -> str:
    """The SVG without scripts or comments (pygal's configuration script, its credits)."""
    return _COMMENT.sub("", _SCRIPT.sub("", svg)).strip()


def _render(chart) -> str:
    return clean(chart.render(is_unicode=True))


def bar(title: str, labels: Sequence[str], values: Sequence[float | None], *,
        horizontal: bool = False, width: int = 720, height: int = 320, no_data: str = "—",
        formatter: Callable[[float], str] | None = None, series: str = "",
        range_: tuple[float, float] | None = None) -> str:
    """One series of bars, one per label."""
    import pygal
    kind = pygal.HorizontalBar if horizontal else pygal.Bar
    options = {"x_label_rotation": 0 if horizontal or len(labels) <= 8 else 30}
    if range_ is not None:
        options["range"] = range_
    chart = kind(**_config(title, width, height, no_data, **options))
    if formatter is not None:
        chart.value_formatter = formatter
    chart.x_labels = list(labels)
    if any(v is not None for v in values):
        chart.add(series or title, list(values))
    return _render(chart)


def grouped_bar(title: str, labels: Sequence[str], series: Mapping[str, Sequence[float | None]],
                *, width: int = 720, height: int = 320, no_data: str = "—",
                formatter: Callable[[float], str] | None = None,
                range_: tuple[float, float] | None = None) -> str:
    """Several series side by side on each label, on one scale (e.g. each question's facility
    and discrimination, both out of 100); None leaves a bar out."""
    import pygal
    return _series_chart(pygal.Bar, title, labels, series, width, height, no_data, formatter,
                         range_, show_legend=True,
                         x_label_rotation=0 if len(labels) <= 20 else 30)


def stacked_bar(title: str, labels: Sequence[str], series: Mapping[str, Sequence[float]], *,
                horizontal: bool = False, width: int = 720, height: int = 320,
                no_data: str = "—") -> str:
    """Several series stacked on each label (e.g. overdue tracks by kind, per department)."""
    import pygal
    kind = pygal.StackedBar if not horizontal else pygal.HorizontalStackedBar
    chart = kind(**_config(title, width, height, no_data, show_legend=True,
                           x_label_rotation=0 if horizontal or len(labels) <= 8 else 30))
    chart.x_labels = list(labels)
    for name, values in series.items():
        if any(values):
            chart.add(name, list(values))
    return _render(chart)


def line(title: str, labels: Sequence[str], series: Mapping[str, Sequence[float | None]], *,
         width: int = 720, height: int = 320, no_data: str = "—",
         formatter: Callable[[float], str] | None = None,
         range_: tuple[float, float] | None = None) -> str:
    """Lines over time (e.g. a pass rate by month); None leaves a gap."""
    import pygal
    return _series_chart(pygal.Line, title, labels, series, width, height, no_data, formatter,
                         range_, show_legend=len(series) > 1,
                         x_label_rotation=0 if len(labels) <= 12 else 30)


def _series_chart(kind, title: str, labels: Sequence[str],
                  series: Mapping[str, Sequence[float | None]], width: int, height: int,
                  no_data: str, formatter: Callable[[float], str] | None,
                  range_: tuple[float, float] | None, **options) -> str:
    """A chart of named series over the labels, on one scale; a series of only None is left
    out."""
    if range_ is not None:
        options["range"] = range_
    chart = kind(**_config(title, width, height, no_data, **options))
    if formatter is not None:
        chart.value_formatter = formatter
    chart.x_labels = list(labels)
    for name, values in series.items():
        if any(v is not None for v in values):
            chart.add(name, list(values))
    return _render(chart)


def data_uri(svg: str) -> str:
    return "data:image/svg+xml;base64," + base64.b64encode(svg.encode("utf-8")).decode("ascii")


def img(svg: str, alt: str, *, css_class: str = "img-fluid") -> Markup:
    """The chart as an <img> for a page or a PDF (see the module's docstring)."""
    return Markup('<img class="{}" src="{}" alt="{}">').format(
        css_class, data_uri(svg), escape(alt))

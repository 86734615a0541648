"""Charts are SVG with nothing that runs or loads: no script (pygal's inline configuration
included), no reference to anything outside the document, and the figures given drawn in it."""
from __future__ import annotations

import base64
import re
import xml.etree.ElementTree as ET

from trainer.core import charts

SVG = "{http://www.w3.org/2000/svg}"
XLINK = "{http://www.w3.org/1999/xlink}href"


def _assert_inert(svg: str) -> ET.Element:
    assert "<script" not in svg.lower() and "javascript:" not in svg.lower()
    root = ET.fromstring(svg)                     # well-formed, one document
    assert root.tag == f"{SVG}svg"
    for element in root.iter():
        for name, value in element.attrib.items():
            if name in (XLINK, "href", "src") or name.endswith("}href"):
                assert value.startswith("#"), (element.tag, name, value)
            assert not name.lower().startswith("on"), (element.tag, name)
    # The namespaces are names, not addresses to load; nothing else looks like one.
    others = set(re.findall(r"https?://[^\s\"'<>)]+", svg)) - {
        "http://www.w3.org/2000/svg", "http://www.w3.org/1999/xlink"}
    assert not others, others
    return root


def _texts(root: ET.Element) -> list[str]:
    return ["".join(e.itertext()) for e in root.iter(f"{SVG}text")]


def test_a_bar_chart_is_inert_and_draws_each_label_and_value():
    svg = charts.bar("各部门学时", ["客服一部", "客服二部", "投诉处理组"], [12.5, 30, 7],
                     formatter=lambda v: f"{v:g} 学时")
    texts = _texts(_assert_inert(svg))
    assert "各部门学时" in texts
    for label in ("客服一部", "客服二部", "投诉处理组"):
        assert label in texts
    assert {"12.5 学时", "30 学时", "7 学时"} <= set(texts)   # the tooltips' values
    # Three bars, one per department.
    assert len(re.findall(r'class="rect reactive tooltip-trigger"', svg)) == 3


def test_stacked_and_line_charts_are_inert_and_keep_every_series():
    stacked = charts.stacked_bar("逾期培训", ["一部", "二部"],
                                 {"入职": [2, 0], "在岗": [1, 3], "复岗": [0, 0]})
    texts = _texts(_assert_inert(stacked))
    assert "入职" in texts and "在岗" in texts and "复岗" not in texts   # an empty series left out
    line = charts.line("合格率", ["2026-10", "2026-11", "2026-12"],
                       {"客服一部": [0.8, None, 0.9]}, formatter=lambda v: f"{v:.0%}")
    texts = _texts(_assert_inert(line))
    assert "80%" in texts and "90%" in texts and "2026-11" in texts


def test_a_chart_without_figures_says_so():
    svg = charts.bar("学时", [], [], no_data="暂无数据")
    assert "暂无数据" in _texts(_assert_inert(svg))


def test_the_img_tag_carries_the_svg_as_a_data_uri_and_an_escaped_text_alternative():
    svg = charts.bar("学时", ["一部"], [3])
    tag = str(charts.img(svg, 'a "quoted" <alt>'))
    src = re.search(r'src="data:image/svg\+xml;base64,([^"]+)"', tag).group(1)
    assert base64.b64decode(src).decode("utf-8") == svg
    assert 'alt="a &#34;quoted&#34; &lt;alt&gt;"' in tag


def test_a_chart_under_a_heading_of_its_own_draws_no_title():
    svg = charts.bar("", ["一部"], [3], series="学时")
    root = _assert_inert(svg)
    assert not [e for e in root.iter(f"{SVG}text") if "title" in (e.get("class") or "")]
    assert "一部" in _texts(root)

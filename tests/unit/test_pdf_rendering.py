"""core.pdf: WeasyPrint renders with the cycle collector paused, and puts it back as it was,
whether the rendering succeeds or fails; the HTML is parsed by lxml into the tree WeasyPrint's
own parser would build."""
import gc
import io
import re

import pypdf
import pytest

from trainer.core import pdf


def _text(data: bytes) -> str:
    return "".join(page.extract_text() for page in pypdf.PdfReader(io.BytesIO(data)).pages)


def test_the_collector_is_paused_during_a_rendering_and_back_on_after(monkeypatch):
    seen = []
    weasyprint, fonts, fetcher = pdf._weasyprint()
    real = weasyprint.HTML.write_pdf

    def spy(self, *args, **kwargs):
        seen.append(gc.isenabled())
        return real(self, *args, **kwargs)

    monkeypatch.setattr(weasyprint.HTML, "write_pdf", spy)
    assert gc.isenabled()
    data = pdf.render("<html lang='zh-CN'><body><p>培训档案 王伟</p></body></html>")
    assert seen == [False]
    assert gc.isenabled()
    assert "培训档案" in _text(data)


def test_a_failed_rendering_turns_the_collector_back_on(monkeypatch):
    weasyprint, _fonts, _fetcher = pdf._weasyprint()

    def broken(self, *args, **kwargs):
        raise RuntimeError("layout failed")

    monkeypatch.setattr(weasyprint.HTML, "write_pdf", broken)
    with pytest.raises(RuntimeError):
        pdf.render("<p>x</p>")
    assert gc.isenabled()


def test_a_collector_that_was_off_stays_off():
    gc.disable()
    try:
        pdf.render("<p>x</p>")
        assert not gc.isenabled()
    finally:
        gc.enable()


# A document with what our templates hold and what trips parsers up: a doctype, a head, boolean
# and data- attributes, entities, comments between text, void elements, a table without tbody,
# inline elements side by side (the space between them is text), text that keeps its line breaks.
TRICKY = """<!doctype html>
<html lang="zh-CN">
<head><meta charset="utf-8"><title>培训档案 &amp; 证书</title></head>
<body class="record">
<!-- a comment before the heading -->
<h1>王伟伟 的培训档案</h1>
<p class="muted" data-behind>截至 2026年12月4日<!-- inside -->，仍有效&nbsp;·&lt;说明&gt;</p>
<p><span class="fw-bold">入职培训 · 已完成</span> <span class="small">原因: 新员工入职</span><br>下一行</p>
<table data-tracks><thead><tr><th scope="col">课程</th><th>学习</th></tr></thead>
<tr data-course="服务规范"><td>服务规范</td><td data-lessons>已读 4/4 · 测验 第 1 次：70.00%</td></tr>
</table>
<div class="pre-wrap">第一行
第二行

第四行</div>
<dl><dt>姓名</dt><dd data-name>王伟伟</dd> <dt>工号</dt><dd>A000001</dd></dl>
<img alt="图" src="data:image/gif;base64,R0lGODlhAQABAAAAACw=">
</body>
</html>"""


def signature(root) -> list:
    """Each element's tag, attributes, text and tail as they render: a comment's tail joined
    to the text before it, runs of white space as one space, the white space around <head> and
    <body> left out (it is outside what is laid out)."""
    out = []

    def text_of(chunks) -> str:
        return re.sub(r"\s+", " ", "".join(c or "" for c in chunks))

    def walk(element, tail_chunks) -> None:
        children = list(element)
        leading = [element.text]
        while children and not isinstance(children[0].tag, str):
            leading.append(children.pop(0).tail)
        text, tail = text_of(leading), text_of(tail_chunks)
        if element.tag == "html":
            text = text.strip()
        if element.tag in ("head", "body"):
            tail = tail.strip()
        out.append((element.tag, sorted(element.attrib.items()), text, tail))
        for i, child in enumerate(children):
            if not isinstance(child.tag, str):
                continue
            chunks = [child.tail]
            for after in children[i + 1:]:
                if isinstance(after.tag, str):
                    break
                chunks.append(after.tail)
            walk(child, chunks)

    walk(root, [root.tail])
    return out


def weasyprints_own_tree(html: str):
    import tinyhtml5

    return tinyhtml5.parse(html, namespace_html_elements=False)


def test_lxml_builds_the_tree_weasyprints_own_parser_builds():
    ours, theirs = pdf.parse(TRICKY), weasyprints_own_tree(TRICKY)
    assert signature(ours) == signature(theirs)
    # What the comparison rests on, checked directly: the space between two inline elements,
    # the text after a comment, a boolean attribute, entities, line breaks kept for pre-wrap.
    paragraphs = {p.get("class"): p for p in ours.iter("p")}
    assert "".join(paragraphs["muted"].itertext()) == "截至 2026年12月4日，仍有效\xa0·<说明>"
    assert paragraphs["muted"].get("data-behind") == ""
    first = [s for s in ours.iter("span")][0]
    assert first.tail == " "
    assert [d for d in ours.iter("div")][0].text == "第一行\n第二行\n\n第四行"
    assert [t.text for t in ours.iter("title")] == ["培训档案 & 证书"]


def test_the_parsed_document_renders_all_its_text():
    text = re.sub(r"\s+", "", _text(pdf.render(TRICKY)))
    for expected in ("王伟伟的培训档案", "仍有效", "<说明>", "入职培训·已完成原因:新员工入职",
                     "下一行", "已读4/4·测验第1次：70.00%", "第四行", "A000001"):
        assert expected in text, expected


def test_a_stylesheet_is_parsed_once_and_again_when_it_changes(tmp_path, monkeypatch):
    (tmp_path / "css").mkdir()
    for name in ("pdf.css",):
        (tmp_path / "css" / name).write_text((pdf.STATIC_ROOT / "css" / name).read_text())
    extra = tmp_path / "css" / "extra.css"
    extra.write_text(".aside { color: #333; }")
    monkeypatch.setattr(pdf, "STATIC_ROOT", tmp_path)
    document = "<html><body><p>正文</p><p class='aside'>附注</p></body></html>"

    first = pdf._stylesheet("css/extra.css")
    assert pdf._stylesheet("css/extra.css") is first          # parsed once
    assert "附注" in _text(pdf.render(document, stylesheets=("css/extra.css",)))
    extra.write_text(".aside { display: none; }")              # edited: parsed again
    assert pdf._stylesheet("css/extra.css") is not first
    text = _text(pdf.render(document, stylesheets=("css/extra.css",)))
    assert "正文" in text and "附注" not in text

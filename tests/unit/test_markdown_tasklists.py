"""Checklists in lessons ("- [ ] …"): rendered as ticked or empty boxes nobody can change, each
with its text as its label, through the same sanitiser as everything trainers write."""
from __future__ import annotations

import re

from trainer.core.markdown import render_text

CHECKLIST = "上岗前自查：\n\n- [ ] 微笑问候客户\n- [x] 复述客户的**需求**\n- 普通条目 [ ] 不是复选框\n"


def boxes(html: str) -> list[str]:
    return re.findall(r"<input[^>]*>", html)


def test_a_checklist_renders_as_disabled_checkboxes_labelled_by_their_text():
    html = str(render_text(CHECKLIST))
    assert "[ ]" not in html.split("普通条目")[0] and "[x]" not in html
    found = boxes(html)
    assert len(found) == 2
    assert all('type="checkbox"' in box and "disabled" in box for box in found)
    assert ["checked" in box for box in found] == [False, True]
    # The box and its text share a label: a screen reader names the box by the text.
    assert re.search(r"<label><input[^>]*>\s*微笑问候客户</label>", html)
    assert re.search(r"<label><input[^>]*>\s*复述客户的<strong>需求</strong></label>", html)
    assert "普通条目 [ ] 不是复选框" in html  # only a list item that starts with one is a task


def test_the_sanitiser_still_decides_what_a_checklist_may_carry():
    html = str(render_text('- [ ] <input type="text" onfocus="alert(1)"> 自查\n'
                           "- [x] [链接](javascript:alert(1))\n"))
    # Raw HTML in Markdown stays text; a javascript: link is no link.
    assert not re.search(r"<[^>]*onfocus", html) and 'href="javascript' not in html
    assert len(boxes(html)) == 2 and all('type="checkbox"' in box for box in boxes(html))


def test_plain_text_and_html_are_not_read_as_checklists():
    assert "<input" not in str(render_text("- [ ] 不是清单", "plain"))
    assert 'type="checkbox"' not in str(render_text("<p>- [ ] 原样</p>", "html"))

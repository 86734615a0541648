"""The taking page's markup of one question (quizzes.views.item_html): built in Python for
speed, so what a template would have guaranteed is pinned here."""
from __future__ import annotations

import re
from decimal import Decimal

from markupsafe import Markup

from trainer.quizzes.views import ChoiceView, ItemView, item_html

LABELS = {"question": "第 %(n)d 题", "points": "%(p)s 分", "multiple": "多选",
          "lock": "锁定<并核对>"}


def view(qtype: str = "single", *, locked: bool = False, checked: tuple[int, ...] = ()):
    item = ItemView(position=4, qtype=qtype, stem="题干", text_format="markdown", version=3,
                    locked=locked, points=Decimal("1.50"),
                    stem_html=Markup("<p>题干 &amp; 说明</p>"))
    for shown, text in enumerate(["甲", "乙<script>", "丙"]):
        item.choices.append(ChoiceView(shown=shown, letter="ABC"[shown], text=text,
                                       checked=shown in checked,
                                       html=Markup.escape(text)))
    return item


def inputs(html: str) -> list[str]:
    return re.findall(r"<input class=\"form-check-input\"[^>]*>", html)


def test_a_single_choice_question_has_radios_named_by_position_and_only_the_saved_one_checked():
    html = item_html(view(checked=(1,)), LABELS)
    found = inputs(html)
    assert len(found) == 3
    assert all('type="radio"' in i and 'name="q4"' in i for i in found)
    assert ["checked" in i for i in found] == [False, True, False]
    assert 'id="q4c2" value="2"' in found[2] and 'for="q4c2"' in html
    assert '<input type="hidden" name="v4" value="3">' in html
    assert 'data-position="4" data-version="3" data-qtype="single"' in html
    assert "第 5 题" in html and "(1.5 分)" in html


def test_multiple_choice_uses_checkboxes_and_says_so():
    html = item_html(view("multiple", checked=(0, 2)), LABELS)
    assert all('type="checkbox"' in i for i in inputs(html))
    assert ["checked" in i for i in inputs(html)] == [True, False, True]
    assert "(1.5 分, 多选)" in html


def test_a_locked_question_is_marked_and_every_choice_disabled():
    html = item_html(view(locked=True), LABELS)
    assert 'data-locked="1"' in html
    assert all(i.endswith(" disabled>") for i in inputs(html))
    assert 'data-locked' not in item_html(view(), LABELS)
    assert "disabled" not in item_html(view(), LABELS)


def test_text_is_escaped_and_sanitised_markup_kept():
    html = item_html(view(), LABELS, practice=True)
    assert "<p>题干 &amp; 说明</p>" in html          # the stem's sanitised HTML, as is
    assert "乙&lt;script&gt;" in html and "<script>" not in html
    assert "锁定&lt;并核对&gt;" in html               # a translated label is text, not markup


def test_only_an_unlocked_practice_question_has_a_lock_button():
    button = ('<button class="btn btn-sm btn-outline-secondary mt-2" name="lock" value="4" '
              'data-lock>')
    assert button in item_html(view(), LABELS, practice=True)
    assert button not in item_html(view(), LABELS)

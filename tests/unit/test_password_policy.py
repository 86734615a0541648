"""The rule for a password a person chooses (ASVS V2.1): length, common passwords, guessability
with the person's own details. Pure: no app, no database."""
from __future__ import annotations


import pytest

from trainer.accounts.rules import (
    PASSWORD_MIN_LENGTH,
    TOO_COMMON,
    TOO_SHORT,
    WITH_DATE,
    WITH_DEPARTMENT,
    WITH_EMPLOYEE_NO,
    WITH_KEYBOARD_PATTERN,
    WITH_NAME,
    WITH_REPEATS,
    WITH_SEQUENCE,
    common_passwords,
    one_time_password,
    password_problems,
)

ZHANG = {"name": "张伟", "employee_no": "K10001", "department": "客服一部"}


def problems(password: str, **person: str) -> list[str]:
    return password_problems(password, **{**ZHANG, **person})


@pytest.mark.parametrize("password", ["12345678", "password", "a123456", "short", "",
                                      "correct-hor"])
def test_fewer_than_twelve_characters_are_refused(password):
    assert PASSWORD_MIN_LENGTH == 12
    assert problems(password)[0] == TOO_SHORT


@pytest.mark.parametrize("password", [
    "correct-horse-7", "a-good-pass-7", "my-own-pass-9",  # the tests' own passwords
    "correct horse battery staple", "lamp river seven grapes",
    "我家门口有两棵枣树另一棵也是", "窗外 下雨 小猫 在沙发上睡觉",
])
def test_passphrases_pass_without_composition_rules(password):
    assert problems(password) == []


@pytest.mark.parametrize("password", [
    "woaini1314520", "WoAiNi1314520", "qwertyuiop123", "1qaz2wsx3edc", "Password1234",
    "iloveyou1314", "aaaaaaaaaaaa", "123456789012", "qq1234567890",
    # a list entry with digits or symbols added at the end, or typed full width by an IME
    "woaini1314!!!!", "ｗｏａｉｎｉ１３１４５２０", "dragon12345678",
])
def test_common_passwords_and_chinese_patterns_are_refused(password):
    assert TOO_COMMON in problems(password)


@pytest.mark.parametrize("password", ["woaini1314", "qq123456", "a123456", "5201314",
                                      "1qaz2wsx", "88888888", "zxcvbnm"])
def test_the_list_holds_chinese_patterns(password):
    assert password in common_passwords()
    assert TOO_COMMON in problems(password)


def test_the_list_is_a_few_hundred_lowercase_entries():
    listed = common_passwords()
    assert 300 <= len(listed) <= 3000
    assert all(entry == entry.strip().casefold() and entry for entry in listed)


@pytest.mark.parametrize("password, reason, person", [
    ("zhangweikefu1", WITH_NAME, {}),                    # name in pinyin, full
    ("weizhang88888", WITH_NAME, {}),                    # given name first
    ("zwzw19900101", WITH_NAME, {}),                     # initials
    ("Zhangwei!Kefu", WITH_NAME, {}),
    ("张伟张伟19900101", WITH_NAME, {}),                  # the characters themselves
    ("K10001zhangwei", WITH_NAME, {}),                   # both: the name is said first
    ("K10001K10001ab", WITH_EMPLOYEE_NO, {}),
    ("kefuyibu19900101", WITH_DEPARTMENT, {}),
    ("Q70213Q70213ab", WITH_EMPLOYEE_NO, {"employee_no": "Q70213"}),
])
def test_the_persons_own_details_make_a_password_guessable(password, reason, person):
    found = problems(password, **person)
    assert found and found[0] == reason, found


def test_the_same_password_is_fine_for_someone_else():
    assert problems("zwzw19900101", name="李娜", employee_no="K2", department="培训部") == [
        WITH_DATE]
    assert problems("Zhangwei!Kefu", name="李娜", employee_no="K2", department="培训部") == []
    assert problems("kefuyibu-zhang", name="李娜", employee_no="K2", department="培训部") == []


@pytest.mark.parametrize("password, reason", [
    ("asdfghjkl;'zx", WITH_KEYBOARD_PATTERN),
    ("abcabcabcabcabc", WITH_REPEATS),
    ("dragondragon1", WITH_REPEATS),
    ("abcdefghijklm", WITH_SEQUENCE),
    ("2024-10-01!!", WITH_DATE),
])
def test_the_message_says_why(password, reason):
    assert reason in problems(password), problems(password)


def test_every_reason_is_given_at_once():
    found = problems("K10001")
    assert found[0] == TOO_SHORT and WITH_EMPLOYEE_NO in found
    # A listed password is not also explained by its pattern: the list says enough.
    assert problems("12345678") == [TOO_SHORT, TOO_COMMON]


def test_long_passwords_give_zxcvbn_only_a_prefix(monkeypatch):
    # zxcvbn's matching is super-linear in the length: only a prefix is given to it.
    import zxcvbn as module

    lengths = []
    real = module.zxcvbn

    def measured(password, user_inputs=None):
        lengths.append(len(password))
        return real(password, user_inputs=user_inputs)

    monkeypatch.setattr(module, "zxcvbn", measured)
    problems("x7#Qm" * 40)
    assert problems("a" * 200) != []
    words = ("lamp river seven grapes under a quiet orange moon while the kettle hums "
             "about tea cups stacked beside twelve blue notebooks and one tired bicycle "
             "leaning on the gate of the old library where pigeons argue")
    assert len(words) > 200 and problems(words) == []
    assert lengths and max(lengths) <= 72


def test_one_time_passwords_meet_the_rule_and_can_be_read_aloud():
    seen = {one_time_password(**ZHANG) for _ in range(500)}
    assert len(seen) == 500
    for otp in seen:
        assert len(otp) >= PASSWORD_MIN_LENGTH and not set(otp) & set("0O1lI")
        assert problems(otp) == [], otp
    assert password_problems(one_time_password(), name="", employee_no="", department="") == []


def test_the_demo_password_meets_the_rule_people_meet():
    from trainer.accounts.demo import DEMO_PASSWORD, DEMO_STAFF

    for person in DEMO_STAFF:
        assert password_problems(DEMO_PASSWORD, name=person.name,
                                 employee_no=person.employee_no,
                                 department=person.department) == [], person

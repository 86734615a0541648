"""Every action name written to the audit log anywhere in trainer/ has a label in the audit-log
viewer (records.auditlog.ACTION_LABELS), and no label names an action nobody writes.

The names are collected from the code itself: the second argument of every `record_event(...)`
call (a literal, either branch of a conditional, or an f-string whose variable parts are listed
below with the values they take), and the (action, details) pairs the sign-in throttle hands to
`record_sign_in_alarm`. A call the collector cannot read fails the test, so a new way of naming
an action is decided here, not missed."""
from __future__ import annotations

import ast
from pathlib import Path

import trainer
from trainer.accounts import services as accounts_services
from trainer.accounts.rules import RECORDABLE_KINDS
from trainer.quizzes.services.grades import FINISHED_STATES
from trainer.records.auditlog import ACTION_LABELS

ROOT = Path(trainer.__file__).parent

# The variable parts of f-string action names: (file, the expression) -> the values it takes.
DYNAMIC = {
    ("quizzes/services/finishing.py", "state"): FINISHED_STATES,
    ("certificates/services.py", "external.state"): ("approved", "declined"),
    ("attendance/services.py", "request.state"): ("approved", "declined"),
    ("records/compliance.py", "what"): ("dashboard", "people"),
}
# accounts names two kinds of thing `kind`: a list entry's, and a working-life event's.
BY_TEMPLATE = {
    "staff_event.{kind}": RECORDABLE_KINDS,
}
LIST_KINDS = tuple(accounts_services._KIND.values())
# Functions that pass an action they were given on to record_event, and where their callers'
# actions come from.
PASSED_ON = {("accounts/services.py", "record_sign_in_alarm")}


def _expand(node: ast.expr, path: str) -> list[str]:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return [node.value]
    if isinstance(node, ast.IfExp):
        return _expand(node.body, path) + _expand(node.orelse, path)
    if isinstance(node, ast.JoinedStr):
        names = [""]
        template = "".join(v.value if isinstance(v, ast.Constant)
                           else "{" + ast.unparse(v.value) + "}" for v in node.values)
        for part in node.values:
            if isinstance(part, ast.Constant):
                names = [n + part.value for n in names]
                continue
            expr = part.value
            if isinstance(expr, ast.IfExp):
                options = _expand(expr, path)
            elif template in BY_TEMPLATE:
                options = list(BY_TEMPLATE[template])
            elif path == "accounts/services.py" and ast.unparse(expr) == "kind":
                options = list(LIST_KINDS)
            else:
                key = (path, ast.unparse(expr))
                assert key in DYNAMIC, \
                    f"{path}: an action name from {ast.unparse(expr)!r}: list its values here"
                options = list(DYNAMIC[key])
            names = [n + o for n in names for o in options]
        return names
    raise AssertionError(f"{path}: an action name this test cannot read: {ast.unparse(node)}")


def _function_of(tree: ast.AST, call: ast.Call) -> str | None:
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef) and any(c is call for c in ast.walk(node)):
            return node.name
    return None


def written_actions() -> dict[str, str]:
    """{action: where it is written} over trainer/."""
    found: dict[str, str] = {}
    for file in sorted(ROOT.rglob("*.py")):
        path = file.relative_to(ROOT).as_posix()
        tree = ast.parse(file.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Call):
                name = node.func.attr if isinstance(node.func, ast.Attribute) else \
                    getattr(node.func, "id", None)
                if name != "record_event":
                    continue
                assert len(node.args) >= 2, f"{path}:{node.lineno}: record_event's action?"
                action = node.args[1]
                if isinstance(action, ast.Name):
                    assert (path, _function_of(tree, node)) in PASSED_ON, \
                        f"{path}:{node.lineno}: an action passed in as {action.id}"
                    continue
                for value in _expand(action, path):
                    found.setdefault(value, f"{path}:{node.lineno}")
            # The throttle's alarms: `audit = ("login.…", {...})`.
            if isinstance(node, ast.Assign) and any(
                    isinstance(t, ast.Name) and t.id == "audit" for t in node.targets) and \
                    isinstance(node.value, ast.Tuple) and node.value.elts:
                for value in _expand(node.value.elts[0], path):
                    found.setdefault(value, f"{path}:{node.lineno}")
    return found


def test_the_collector_finds_every_kind_of_name():
    actions = written_actions()
    # A literal, a conditional, the f-strings of each area, the throttle's alarms, records' own.
    for expected in ("certificate.issued", "class.created", "class.updated", "attempt.expired",
                     "staff_event.leave_start", "department.deactivated", "position.deleted",
                     "leave.declined", "external_certificate.approved",
                     "login.password_spraying", "record.exported", "results.exported",
                     "audit.exported", "survey.answered"):
        assert expected in actions, expected
    assert len(actions) > 80


def test_every_action_written_has_a_label():
    missing = {name: where for name, where in written_actions().items()
               if name not in ACTION_LABELS}
    assert not missing, "actions with no label in records.auditlog.ACTION_LABELS:\n" + \
        "\n".join(f"{name} ({where})" for name, where in sorted(missing.items()))


def test_no_label_for_an_action_nobody_writes():
    stale = set(ACTION_LABELS) - set(written_actions())
    assert not stale, f"labels of actions no code writes: {sorted(stale)}"


def test_labels_are_translated_and_distinct():
    from babel.support import Translations

    translations = Translations.load(str(ROOT / "translations"), ["zh_Hans_CN"])
    labels = {name: translations.gettext(label._args[0]) for name, label in
              ACTION_LABELS.items()}
    untranslated = {name for name, text in labels.items() if text == ACTION_LABELS[name]._args[0]}
    assert not untranslated, sorted(untranslated)
    assert len(set(labels.values())) == len(labels), "two actions read the same"

"""`pip install -e '.[test]'` is enough to run the suite: every package a test imports comes
with the project's dependencies or its test extra (the bench extra is for `make bench-…`)."""
from __future__ import annotations

import ast
import sys
import tomllib
from importlib import metadata
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[2]
# Our own code: the app, the tests and the benchmark modules some tests reuse.
FIRST_PARTY = {"trainer", "tests", *(p.stem for p in (ROOT / "bench").glob("*.py"))}


def _installed_with(requirements: list[str]) -> set[str]:
    """The distributions these requirements install (as the installed packages declare them)."""
    seen: set[tuple[str, frozenset[str]]] = set()
    todo = [Requirement(r) for r in requirements]
    while todo:
        requirement = todo.pop()
        key = (canonicalize_name(requirement.name), frozenset(requirement.extras))
        if key in seen:
            continue
        seen.add(key)
        try:
            declared = metadata.distribution(requirement.name).requires or []
        except metadata.PackageNotFoundError:
            continue
        for line in declared:
            dependency = Requirement(line)
            extras = requirement.extras or {""}
            if dependency.marker is None or any(dependency.marker.evaluate({"extra": e})
                                                for e in extras):
                todo.append(dependency)
    return {name for name, _ in seen}


def _imports(nodes) -> list[str]:
    names = []
    for node in nodes:
        if isinstance(node, ast.Import):
            names += [alias.name.split(".")[0] for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.append(node.module.split(".")[0])
    return names


def _imported_by_tests() -> dict[str, Path]:
    """Top-level module → one file importing it: every absolute import in tests/, and what the
    benchmark modules the tests reuse import when loaded (their functions' imports are theirs)."""
    modules: dict[str, Path] = {}
    for path in sorted((ROOT / "tests").rglob("*.py")):
        for name in _imports(ast.walk(ast.parse(path.read_text(encoding="utf-8")))):
            modules.setdefault(name, path.relative_to(ROOT))
    for path in sorted((ROOT / "bench").glob("*.py")):
        if path.stem in modules:
            for name in _imports(ast.parse(path.read_text(encoding="utf-8")).body):
                modules.setdefault(name, path.relative_to(ROOT))
    return modules


def test_the_test_extra_brings_every_package_the_tests_import():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    allowed = _installed_with([*project["dependencies"],
                               *project["optional-dependencies"]["test"]])
    providers = metadata.packages_distributions()
    missing = {}
    for module, where in _imported_by_tests().items():
        if module in sys.stdlib_module_names or module in FIRST_PARTY:
            continue
        distributions = {canonicalize_name(d) for d in providers.get(module, [])}
        assert distributions, f"{module} (imported by {where}) is not installed at all"
        if not distributions & allowed:
            missing[module] = str(where)
    assert missing == {}, f"imported by tests, brought only by another extra: {missing}"

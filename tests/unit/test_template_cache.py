"""Compiled templates are kept on disk (core.templates): `trainer setup` compiles every template
once, and a new worker process loads them instead of compiling on its first requests."""
from __future__ import annotations

from tests.conftest import make_app
from trainer.core.templates import compile_templates


def _app(tmp_path_factory, cache_dir):
    url = f"sqlite:///{tmp_path_factory.mktemp('db') / 't.db'}"
    return make_app(url, tmp_path_factory, TEMPLATE_CACHE_DIR=str(cache_dir))


def test_a_new_process_loads_the_compiled_templates_instead_of_compiling(tmp_path_factory):
    cache = tmp_path_factory.mktemp("template-cache")
    first = _app(tmp_path_factory, cache)
    count = compile_templates(first)
    assert count >= 40   # the app's templates and bootstrap-flask's
    assert len(list(cache.iterdir())) == count

    worker = _app(tmp_path_factory, cache)   # as a freshly started worker

    def no_compiling(*_args, **_kwargs):
        raise AssertionError("compiled although the cache holds the template")

    worker.jinja_env.compile = no_compiling
    for name in ("base.html", "quizzes/take.html", "accounts/login.html"):
        assert worker.jinja_env.get_template(name).name == name


def test_an_edited_template_is_compiled_afresh_not_served_stale(tmp_path_factory):
    cache = tmp_path_factory.mktemp("template-cache")
    templates = tmp_path_factory.mktemp("templates")
    (templates / "page.html").write_text("old {{ x }}")
    app = _app(tmp_path_factory, cache)
    app.jinja_loader.searchpath = [str(templates)]
    assert app.jinja_env.get_template("page.html").render(x=1) == "old 1"

    (templates / "page.html").write_text("new {{ x }}")
    worker = _app(tmp_path_factory, cache)
    worker.jinja_loader.searchpath = [str(templates)]
    assert worker.jinja_env.get_template("page.html").render(x=1) == "new 1"


def test_an_empty_directory_setting_turns_the_cache_off(tmp_path_factory):
    assert _app(tmp_path_factory, "").jinja_env.bytecode_cache is None

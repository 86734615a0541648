"""Compiled templates on disk, shared by every worker process (Jinja's bytecode cache).

A fresh gunicorn worker compiled each template on its first request: the question page's
(base.html, take.html and their macros) took ~140 ms of CPU, ~1 s at the start of an exam when
every worker was new and the sign-ins held the CPU (bench/exam_day.py: the question page's p95
was those first pages). With the cache a worker loads the compiled code instead, and
`trainer setup` fills the cache for every template before the workers start.
"""
from __future__ import annotations

from pathlib import Path

from flask import Flask, request
from jinja2 import FileSystemBytecodeCache
from markupsafe import Markup

TEMPLATE_EXTENSIONS = ("html", "txt")


def install_bytecode_cache(app: Flask) -> None:
    """Keep compiled templates in TEMPLATE_CACHE_DIR (off when it is empty). Jinja checks each
    entry against the template's source and the Python version, so an edited template or a new
    interpreter is compiled afresh, never served stale."""
    directory = app.config["TEMPLATE_CACHE_DIR"]
    if not directory:
        return
    Path(directory).mkdir(parents=True, exist_ok=True)
    app.jinja_env.bytecode_cache = FileSystemBytecodeCache(str(directory))


def compile_templates(app: Flask) -> int:
    """Compile every template (the app's and its extensions') into the cache; returns how many."""
    names = app.jinja_env.list_templates(extensions=TEMPLATE_EXTENSIONS)
    for name in names:
        app.jinja_env.get_template(name)
    return len(names)


def install_asset_tags(app: Flask) -> None:
    """`bootstrap_assets("css" | "js")`: Bootstrap-Flask's tags, built once per script root (they
    are the same on every page; building them through url_for cost every page ~0.2 ms)."""
    tags: dict[tuple[str, str], Markup] = {}

    def bootstrap_assets(kind: str) -> Markup:
        key = (request.script_root, kind)
        tag = tags.get(key)
        if tag is None:
            bootstrap = app.extensions["bootstrap"]
            tag = tags[key] = bootstrap.load_css() if kind == "css" else bootstrap.load_js()
        return tag

    app.jinja_env.globals["bootstrap_assets"] = bootstrap_assets

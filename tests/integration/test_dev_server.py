"""The development server (`trainer run`, and the servers the browser tests start) does not
announce Werkzeug's or Python's version in its Server header."""
from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[2]
VERSION = re.compile(r"\d+\.\d+|Python")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _get(url: str, seconds: float = 30) -> requests.Response:
    deadline = time.time() + seconds
    while True:
        try:
            return requests.get(url, timeout=2)
        except requests.ConnectionError:
            if time.time() > deadline:
                raise
            time.sleep(0.1)


def test_trainer_run_hides_the_versions(tmp_path):
    port = _free_port()
    env = {**os.environ, "PYTHONPATH": str(ROOT), "TRAINER_SECRET_KEY": "dev-server-test-key-0123",
           "TRAINER_DATABASE_URL": f"sqlite:///{tmp_path / 'dev.db'}",
           "TRAINER_TEMPLATE_CACHE_DIR": ""}
    server = subprocess.Popen(
        [sys.executable, "-c", "from trainer.cli import main; main()", "run", "--port", str(port)],
        cwd=tmp_path, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        response = _get(f"http://127.0.0.1:{port}/healthz")
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=20)
    assert response.status_code == 200
    assert response.headers["Server"] == "Werkzeug"
    assert not VERSION.search(response.headers["Server"])


def test_the_request_handler_the_tests_serve_with_hides_the_versions(app):
    from werkzeug.serving import make_server

    from trainer.core.security import DevRequestHandler

    server = make_server("127.0.0.1", 0, app, threaded=True, request_handler=DevRequestHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        response = requests.get(f"http://127.0.0.1:{server.server_port}/healthz", timeout=5)
    finally:
        server.shutdown()
    assert response.headers["Server"] == "Werkzeug"

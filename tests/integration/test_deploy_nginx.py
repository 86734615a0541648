"""deploy/nginx-site.conf, rendered as the benchmark and the README render it, run by a real nginx
in front of two real gunicorn pools: everything under /attempts/ and a check-in (/s/…, /checkin…)
reach the exam pool, the rest the front pool, static files come from disk, and the app learns the client's address and scheme."""
from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

import pytest
import requests

from tests.conftest import skip_or_fail
from trainer.core.security import security_headers

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "bench"))

from production_stack import NGINX_MAIN, gunicorn_command, render_nginx_site  # noqa: E402

# Each pool answers with its name, the path and the forwarded headers it was given, and the
# security headers the app sets on every response.
POOL_APP = '''
import os

from trainer.core.security import security_headers

def app(environ, start_response):
    body = " ".join([os.environ["POOL"], environ["PATH_INFO"],
                     environ.get("HTTP_X_FORWARDED_FOR", "-"),
                     environ.get("HTTP_X_FORWARDED_PROTO", "-"), environ.get("HTTP_HOST", "-")])
    start_response("200 OK", [("Content-Type", "text/plain"), *security_headers(False)])
    return [body.encode()]
'''


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait(url: str) -> None:
    deadline = time.time() + 20
    while time.time() < deadline:
        try:
            if requests.get(url, timeout=1).status_code == 200:
                return
        except requests.RequestException:
            pass
        time.sleep(0.1)
    raise AssertionError(f"{url} did not answer")


@contextmanager
def _running_stack(static: Path, access_log: Path | None = None):
    """nginx with the deploy site in front of the two pools, serving *static* as /static/;
    with `access_log`, nginx logs requests there (nginx's own combined format) as a stock
    nginx.conf does."""
    nginx = shutil.which("nginx") or ("/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists()
                                      else None)
    if nginx is None:
        skip_or_fail("nginx is not installed (make test-deps installs it)")
    # nginx's workers run as nobody and must reach the sockets: not under pytest's 0700 tmp.
    tmp_path = Path(tempfile.mkdtemp(prefix="trainer-nginx-test-"))
    os.chmod(tmp_path, 0o711)
    (tmp_path / "pool.py").write_text(POOL_APP)
    processes = []
    for pool in ("front", "exam"):
        command = gunicorn_command(1, 1, f"unix:{tmp_path / pool}.sock")
        command[-1] = "pool:app"
        processes.append(subprocess.Popen(command, cwd=tmp_path,
                                          env={**os.environ, "POOL": pool, "PYTHONPATH": str(ROOT)},
                                          stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
    # …nor read a checkout inside a folder only its owner may open: they serve a readable copy
    # of static/, as production's nginx serves a checkout its user can read.
    served = tmp_path / "static"
    shutil.copytree(static, served)
    for path in [served, *served.rglob("*")]:
        path.chmod(0o755 if path.is_dir() else 0o644)
    port = _free_port()
    (tmp_path / "site.conf").write_text(render_nginx_site(
        f"unix:{tmp_path / 'front.sock'}", f"unix:{tmp_path / 'exam.sock'}", f"127.0.0.1:{port}",
        static=served))
    main = NGINX_MAIN.format(run=tmp_path)
    if access_log is not None:
        main = main.replace("access_log off;", f"access_log {access_log};")
    (tmp_path / "nginx.conf").write_text(main)
    processes.append(subprocess.Popen(
        [nginx, "-p", f"{tmp_path}/", "-c", str(tmp_path / "nginx.conf"), "-g", "daemon off;"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
    base = f"http://127.0.0.1:{port}"
    try:
        _wait(f"{base}/healthz")
        _wait(f"{base}/attempts/1")
        yield base
    finally:
        for process in reversed(processes):
            process.send_signal(signal.SIGTERM)
        for process in processes:
            process.wait(timeout=20)
        shutil.rmtree(tmp_path, ignore_errors=True)


@pytest.fixture
def stack():
    with _running_stack(ROOT / "static") as base:
        yield base


def test_exam_requests_reach_the_exam_pool_and_the_rest_the_front_pool(stack):
    def pool(path: str, **kwargs) -> str:
        r = requests.request(kwargs.pop("method", "GET"), stack + path, timeout=5, **kwargs)
        assert r.status_code == 200
        return r.text.split()[0]

    for path in ("/attempts/12", "/attempts/12/save", "/attempts/12/submit",
                 "/attempts/12/result", "/attempts/12/state"):
        assert pool(path) == "exam", path
    assert pool("/attempts/12/save", method="POST", json={"position": 0}) == "exam"
    # A classroom check-in: the QR code's link, the typed code, the confirmation, the done page.
    for path in ("/s/7/123/abcdef", "/checkin/confirm?t=x", "/checkin/done/7"):
        assert pool(path) == "exam", path
    for path in ("/checkin", "/checkin/confirm"):
        assert pool(path, method="POST", data={"code": "123456"}) == "exam", path
    for path in ("/login", "/quizzes/3", "/quizzes/3/start", "/healthz", "/",
                 "/records/staff", "/quizzes/3/attempts", "/static-page", "/sessions/7",
                 "/checkins", "/classes"):
        assert pool(path) == "front", path


def test_a_calendar_feeds_secret_address_stays_out_of_the_access_log():
    log_dir = Path(tempfile.mkdtemp(prefix="trainer-nginx-log-"))
    os.chmod(log_dir, 0o777)
    log = log_dir / "access.log"
    try:
        with _running_stack(ROOT / "static", access_log=log) as base:
            secret = "s3cret-feed-token-0123456789abcdef"
            assert requests.get(f"{base}/calendar/{secret}.ics", timeout=5).text.split()[0] \
                == "front"
            requests.get(f"{base}/login?from=feed-test", timeout=5)
            deadline = time.time() + 5
            while "feed-test" not in (log.read_text() if log.exists() else "") and \
                    time.time() < deadline:
                time.sleep(0.05)
        written = log.read_text()
        assert "/login?from=feed-test" in written          # the log is on
        assert secret not in written and "/calendar/" not in written
    finally:
        shutil.rmtree(log_dir, ignore_errors=True)


def test_the_app_is_told_the_client_address_scheme_and_host(stack):
    _pool, path, forwarded_for, proto, host = requests.get(
        f"{stack}/login", timeout=5).text.split()
    assert (path, forwarded_for, proto) == ("/login", "127.0.0.1", "http")
    assert host == stack.removeprefix("http://")   # the port kept: redirects stay on it


def test_static_files_come_from_disk_not_from_the_app(stack):
    r = requests.get(f"{stack}/static/js/quiz.js", timeout=5)
    assert r.status_code == 200
    assert r.content == (ROOT / "static" / "js" / "quiz.js").read_bytes()
    assert "javascript" in r.headers["Content-Type"]


def test_static_files_are_served_from_a_checkout_only_its_owner_can_open():
    """A clone in a 0700 folder (a home directory) is closed to nginx's workers, which run as
    nobody when the tests run as root: static files must still be served, not refused with 403."""
    private = Path(tempfile.mkdtemp(prefix="trainer-private-checkout-"))
    try:
        assert private.stat().st_mode & 0o777 == 0o700
        shutil.copytree(ROOT / "static", private / "static")
        with _running_stack(private / "static") as base:
            r = requests.get(f"{base}/static/js/quiz.js", timeout=5)
            assert r.status_code == 200
            assert r.content == (ROOT / "static" / "js" / "quiz.js").read_bytes()
    finally:
        shutil.rmtree(private, ignore_errors=True)


def test_static_files_carry_the_apps_security_headers_and_stay_cacheable(stack):
    """nginx serves /static/ itself, so it adds what the app adds to everything it serves,
    except no-store: static files are cached."""
    expected = security_headers(production=False, static=True)
    for path in ("/static/js/quiz.js", "/static/no-such-file.css"):
        headers = requests.get(f"{stack}{path}", timeout=5).raw.headers
        assert [(name, headers.getlist(name)) for name, _ in expected] \
            == [(name, [value]) for name, value in expected], path
        assert "Strict-Transport-Security" not in headers   # plain HTTP here
    response = requests.get(f"{stack}/static/js/quiz.js", timeout=5)
    assert response.headers["Cache-Control"] == "max-age=3600"


def test_proxied_pages_carry_the_apps_one_policy_and_no_nginx_version(stack):
    policy = dict(security_headers(production=False))["Content-Security-Policy"]
    for path in ("/login", "/attempts/12"):
        response = requests.get(f"{stack}{path}", timeout=5)
        assert response.raw.headers.getlist("Content-Security-Policy") == [policy], path
        assert response.raw.headers.getlist("Cache-Control") == ["no-store"], path
        assert response.headers["Server"] == "nginx", path


def test_the_readmes_sed_line_renders_the_site_as_the_benchmark_does():
    """The README's Production block fills the placeholders with sed; run that very command and
    compare with what the benchmark (and the test above) gives nginx."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    start = readme.index("sed -e 's|@FRONT@|")
    command = readme[start:readme.index("\n", readme.index("> /etc/nginx/", start))]
    command = command[:command.index("> /etc/nginx/")].replace("\\\n", " ")
    rendered = subprocess.run(["bash", "-c", command], cwd=ROOT, capture_output=True, text=True,
                              check=True).stdout
    assert "@" not in "".join(line for line in rendered.splitlines()
                              if not line.lstrip().startswith("#"))
    assert rendered == render_nginx_site("unix:/run/trainer/front.sock",
                                         "unix:/run/trainer/exam.sock", "443 ssl")

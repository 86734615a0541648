"""Locust users for the check-in benchmark (run by bench/checkin_day.py in its own process:
`locust -f bench/checkin_locustfile.py --headless ...`, EXAM_BENCH_CONFIG naming a JSON file).

Three kinds of users share one run:

- the exam's candidates (`Candidate` of bench/exam_locustfile.py, unchanged: sign in, start, an
  autosave per answer, submit), who sit their exam on the same server throughout;
- the classroom screen (`Kiosk`): the classroom PC opens the session's kiosk link when the class
  begins, shows the code, and asks `/kiosk/<token>/code` for the next one when the step ends, as
  static/js/kiosk.js does;
- the agents (`Agent`), each with a phone of their own (its own cookies, so its own device
  cookie), who check in to the session within 30 s of the code appearing, with the code on the
  screen at that moment:
  - `signin`: scans while signed out; the scan's token travels through sign-in (the login page,
    some seconds of typing, POST /login), then the confirmation page, whose form checkin.js
    sends at once, then the page that says 已签到;
  - `scan`: already signed in on the phone, scans: the confirmation, its POST, the done page;
  - `code`: already signed in, opens 我的课程, types the 6 digits (a few seconds), sends them.

Every request is logged with its latency (the exam's log: one list for the whole run); every
check-in the server acknowledged (the 302 to /checkin/done/<session>?kind=check_in) is written
down with the moments of its scan, so the orchestrator can compare them with the database.
"""
from __future__ import annotations

import json
import random
import re
import time
import traceback
from http.cookiejar import Cookie

import gevent
from gevent.event import Event
from locust import events, task
from locust.contrib.fasthttp import FastHttpUser
from locust.exception import StopUser

import exam_locustfile
from exam_locustfile import CONFIG, CSRF_RE, ERRORS, Candidate

Candidate.fixed_count = len(CONFIG["candidates"])

AGENTS = CONFIG["agents"]
SESSION_ID = CONFIG["session_id"]
KIOSK_PATH = CONFIG["kiosk_path"]

DONE_RE = re.compile(r"/checkin/done/(\d+)\?kind=(\w+)$")
KIOSK_RE = re.compile(r'data-refresh-in="(\d+)".*?id="kiosk-code" data-step="(\d+)">(\d{6})<',
                      re.S)

SHOWN = Event()                  # the classroom screen shows its first code
SCREEN: dict = {}                # what the screen shows now: step, code, path (the QR's target)
KIOSK_LOG: list[dict] = []       # every code the screen showed, and when
CHECKINS: list[dict] = []        # check-ins the server acknowledged
AGENT_EVENTS: list[dict] = []    # per agent: the journey's moments
_next_agent = iter(range(len(AGENTS)))
_agents_done = 0


def _busy() -> bool:
    return _agents_done < len(AGENTS)


exam_locustfile.STILL_BUSY.append(_busy)


@events.quitting.add_listener
def _on_quitting(environment, **_kw):
    with open(CONFIG["checkin_output"], "w", encoding="utf-8") as out:
        json.dump({"checkins": CHECKINS, "agents": AGENT_EVENTS, "kiosk": KIOSK_LOG,
                   "shown_at": SCREEN.get("shown_at"), "finished_agents": _agents_done}, out)


def _location(response) -> str:
    return response.headers.get("Location", "") or ""


class Kiosk(FastHttpUser):
    """The classroom PC: opens the kiosk link at the moment the code is due, then follows the
    code from step to step until every agent is done."""

    fixed_count = 1
    wait_time = staticmethod(lambda: 3600)
    network_timeout = connection_timeout = 60.0
    default_headers = {"Connection": "close", "User-Agent": "Mozilla/5.0 (Windows NT 10.0; "
                                                            "Win64; x64) classroom-pc"}

    @task
    def show_the_code(self):
        try:
            self.screen()
        except StopUser:
            raise
        except Exception as exc:
            ERRORS.append({"kiosk": True, "what": "kiosk crashed", "exc": repr(exc),
                           "where": traceback.format_exc(limit=-3)[-600:]})
        raise StopUser()

    def screen(self):
        gevent.sleep(max(0.0, CONFIG["code_at"] - time.time()))
        with self.client.get(KIOSK_PATH, name="GET /kiosk/[token] (classroom screen)",
                             catch_response=True) as r:
            match = KIOSK_RE.search(r.text or "") if r.status_code == 200 else None
            if match is None:
                r.failure(f"kiosk page: {r.status_code}")
                ERRORS.append({"kiosk": True, "what": "kiosk page without a code",
                               "status": r.status_code})
                return
        refresh_in, step, code = int(match.group(1)), int(match.group(2)), match.group(3)
        self.show(step, code, f"/s/{SESSION_ID}/{step}/{code}")
        SCREEN["shown_at"] = time.time()
        SHOWN.set()
        while _busy():
            # kiosk.js: the next code a little after this one's step ends.
            gevent.sleep(max(1, refresh_in) + 0.2)
            with self.client.get(f"{KIOSK_PATH}/code", name="GET /kiosk/[token]/code",
                                 catch_response=True) as r:
                if r.status_code != 200:
                    r.failure(f"kiosk code: {r.status_code}")
                    ERRORS.append({"kiosk": True, "what": "kiosk code refused",
                                   "status": r.status_code})
                    refresh_in = 5
                    continue
                view = r.json()
            refresh_in = int(view["refresh_in"])
            if int(view["step"]) != SCREEN["step"]:
                path = re.sub(r"^https?://[^/]+", "", view["url"])
                self.show(int(view["step"]), view["code"], path)
        exam_locustfile.quit_when_done()

    @staticmethod
    def show(step: int, code: str, path: str) -> None:
        SCREEN.update(step=step, code=code, path=path)
        KIOSK_LOG.append({"step": step, "code": code, "at": time.time()})


class Agent(FastHttpUser):
    fixed_count = len(AGENTS)
    wait_time = staticmethod(lambda: 3600)
    network_timeout = connection_timeout = 60.0
    # As exam_locustfile's candidates: a new connection per request (no idle keep-alive
    # connection for the server to close under a phone that then does not retry).
    default_headers = {"Connection": "close", "User-Agent": CONFIG["agent_user_agent"]}

    def on_start(self):
        self.index = next(_next_agent, None)

    def error(self, what: str, **details):
        ERRORS.append({"agent": self.plan["employee_no"], "what": what, **details})

    @task
    def check_in(self):
        global _agents_done
        if self.index is None:
            raise StopUser()
        self.plan = plan = AGENTS[self.index]
        self.record = {"employee_no": plan["employee_no"], "path": plan["path"]}
        AGENT_EVENTS.append(self.record)
        self.waited_ms = 0.0
        try:
            for cookie in plan.get("cookies", []):   # signed in on this phone before the class
                self.client.cookiejar.set_cookie(Cookie(
                    0, cookie["name"], cookie["value"], None, False, cookie["domain"],
                    True, False, cookie["path"], True, False, None, False, None, None, {}))
            SHOWN.wait()
            gevent.sleep(max(0.0, SCREEN["shown_at"] + plan["at"] - time.time()))
            {"signin": self.scan_signed_out, "scan": self.scan_signed_in,
             "code": self.type_the_code}[plan["path"]](random.Random(plan["seed"]))
        except StopUser:
            raise
        except Exception as exc:
            self.error("journey crashed", exc=repr(exc),
                       where=traceback.format_exc(limit=-3)[-600:])
        finally:
            self.record["waited_ms"] = round(self.waited_ms, 1)
            _agents_done += 1
            exam_locustfile.quit_when_done()
        raise StopUser()

    # -- the three ways in ---------------------------------------------------------------------

    def scan_signed_out(self, rng: random.Random) -> None:
        location = self.scan("GET /s/[session]/[step]/[code] (scan, signed out)", "/login?next=")
        if location is None:
            return
        page = self.page(location, "GET /login?next=… (after a scan)")
        if page is None:
            return
        gevent.sleep(self.plan["think_s"])   # typing the employee number and the password
        with self.timed_post(location, "POST /login (after a scan)", {
                "employee_no": self.plan["employee_no"], "password": self.plan["password"],
                "csrf_token": CSRF_RE.search(page).group(1)}) as r:
            landing = _location(r)
            if r.status_code != 302 or "/checkin/confirm?t=" not in landing:
                r.failure(f"sign-in after a scan: {r.status_code} {landing}")
                self.error("sign-in did not lead to the confirmation", status=r.status_code,
                           location=landing)
                return
        self.record["signed_in"] = time.time()
        self.confirm(landing)

    def scan_signed_in(self, rng: random.Random) -> None:
        location = self.scan("GET /s/[session]/[step]/[code] (scan, signed in)",
                             "/checkin/confirm?t=")
        if location is not None:
            self.confirm(location)

    def type_the_code(self, rng: random.Random) -> None:
        page = self.page("/classes", "GET /classes (我的课程)")
        if page is None:
            return
        code = SCREEN["code"]                 # read off the screen, then typed
        self.record["read_step"] = SCREEN["step"]
        gevent.sleep(self.plan["think_s"])
        with self.timed_post("/checkin", "POST /checkin (typed code)", {
                "code": code, "csrf_token": CSRF_RE.search(page).group(1)}) as r:
            self.acknowledged(r, "code")

    # -- steps ---------------------------------------------------------------------------------

    def scan(self, name: str, expected: str) -> str | None:
        """The phone opens the QR code's link (the screen's code now)."""
        path = SCREEN["path"]
        self.record.update(scan_step=SCREEN["step"], scan_started=time.time())
        with self.client.get(path, name=name, allow_redirects=False, catch_response=True) as r:
            self.waited_ms += r.request_meta["response_time"]
            location = _location(r)
            self.record["scan_ended"] = time.time()
            if r.status_code != 302 or expected not in location:
                r.failure(f"scan: {r.status_code} {location}")
                self.error("scan refused", status=r.status_code, location=location, path=path)
                return None
        return location

    def confirm(self, location: str) -> None:
        """The confirmation page, whose form checkin.js sends at once, then the done page."""
        page = self.page(location, "GET /checkin/confirm?t=… (confirmation)")
        if page is None:
            return
        token = re.search(r'name="t" value="([^"]+)"', page)
        if token is None:
            self.error("confirmation page without the scan's token")
            return
        with self.timed_post("/checkin/confirm", "POST /checkin/confirm (check-in)", {
                "csrf_token": CSRF_RE.search(page).group(1), "t": token.group(1)}) as r:
            self.acknowledged(r, "qr")

    def acknowledged(self, r, via: str) -> None:
        location = _location(r)
        match = DONE_RE.search(location)
        if r.status_code != 302 or not match or int(match.group(1)) != SESSION_ID \
                or match.group(2) != "check_in":
            r.failure(f"check-in: {r.status_code} {location}")
            self.error("check-in not acknowledged", status=r.status_code, location=location)
            return
        now = time.time()
        self.record["checked_in"] = now
        CHECKINS.append({"employee_no": self.plan["employee_no"], "path": self.plan["path"],
                         "via": via, "at": now, "scan_started": self.record.get("scan_started"),
                         "scan_ended": self.record.get("scan_ended"),
                         "signed_in": self.record.get("signed_in")})
        page = self.page(location, "GET /checkin/done/[session]")
        if page is not None and "data-checked" not in page:
            self.error("the done page does not say checked in")
        self.record["done"] = time.time()

    def page(self, url: str, name: str) -> str | None:
        with self.client.get(url, name=name, allow_redirects=False, catch_response=True) as r:
            self.waited_ms += r.request_meta["response_time"]
            if r.status_code != 200:
                r.failure(f"status {r.status_code}")
                self.error(f"{name} failed", status=r.status_code, url=url,
                           location=_location(r))
                return None
            return r.text

    def timed_post(self, url: str, name: str, data: dict):
        return _Timed(self, self.client.post(url, name=name, data=data, allow_redirects=False,
                                             catch_response=True))


class _Timed:
    """A catch_response context that adds the request's time to what the agent waited."""

    def __init__(self, agent: Agent, context) -> None:
        self.agent, self.context = agent, context

    def __enter__(self):
        response = self.context.__enter__()
        self.agent.waited_ms += response.request_meta["response_time"]
        return response

    def __exit__(self, *exc):
        return self.context.__exit__(*exc)

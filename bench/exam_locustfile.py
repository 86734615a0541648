"""Locust users for the exam-day benchmark (run by bench/exam_day.py in its own process:
`locust -f bench/exam_locustfile.py --headless ...`, with EXAM_BENCH_CONFIG naming a JSON file).

Each Locust user is one candidate and walks the fixed exam-day shape once: log in, open the quiz,
start, load the question page, answer every question one by one (each answer one autosave, 5–15 s
apart, scaled for --quick), perhaps change one earlier answer, perhaps reload the page once, then
submit (in the last 2 minutes, earlier, or never). Every request is logged with its latency, and
every save the server acknowledged (200 with a version) is written down so the orchestrator can
check the database kept it.
"""
from __future__ import annotations

import json
import os
import random
import re
import time
import traceback

import gevent
from locust import events, task
from locust.contrib.fasthttp import FastHttpUser
from locust.exception import StopUser

CONFIG = json.loads(open(os.environ["EXAM_BENCH_CONFIG"], encoding="utf-8").read())
SCALE = CONFIG["scale"]          # 1.0 for the full run, 0.3 for --quick (3 of 10 minutes)
PLANS = CONFIG["candidates"]     # one plan per candidate, made by the orchestrator

CSRF_RE = re.compile(r'<meta name="csrf-token" content="([^"]+)"')
FIELDSET_RE = re.compile(r'<fieldset[^>]*data-position="(\d+)" data-version="(\d+)" '
                         r'data-qtype="(\w+)"')
SECONDS_RE = re.compile(r'data-seconds-left="(\d+)"')

REQUESTS: list[tuple] = []       # (name, started at, ms, ok, status)
ACKS: list[dict] = []            # saves the server acknowledged
ERRORS: list[dict] = []          # anything the shape did not expect
EVENTS: list[dict] = []          # per candidate: logged in, started, submitted …
_next = iter(range(len(PLANS)))
_done = 0


@events.request.add_listener
def _on_request(request_type, name, response_time, response_length, exception=None,
                context=None, start_time=None, response=None, **_kw):
    REQUESTS.append((name, start_time, response_time, exception is None,
                     getattr(response, "status_code", 0) or 0))
    if len(REQUESTS) > CONFIG["max_requests"]:
        ERRORS.append({"what": "request cap reached", "cap": CONFIG["max_requests"]})
        runner = _env.runner if _env else None
        if runner is not None:
            gevent.spawn(runner.quit)


_env = None


@events.init.add_listener
def _on_init(environment, **_kw):
    global _env
    _env = environment


@events.quitting.add_listener
def _on_quitting(environment, **_kw):
    with open(CONFIG["output"], "w", encoding="utf-8") as out:
        json.dump({"requests": REQUESTS, "acks": ACKS, "errors": ERRORS, "events": EVENTS,
                   "finished_candidates": _done}, out)


# Other kinds of users sharing a run (bench/checkin_locustfile.py: agents checking in beside the
# exam) add a test here; the run ends when every candidate is done and none of these is busy.
STILL_BUSY: list = []


def quit_when_done() -> None:
    if _done >= len(PLANS) and not any(busy() for busy in STILL_BUSY) and _env and _env.runner:
        gevent.spawn_later(1, _env.runner.quit)


CHOICE_RE = re.compile(r'name="q(\d+)" id="q\1c\d+" value="(\d+)"')


def _choices(page: str) -> dict[int, list[int]]:
    """Each question's choices (shown positions), from one pass over the page: a pass per
    question cost the generator 30 scans of the page per candidate."""
    found: dict[int, set[int]] = {}
    for position, value in CHOICE_RE.findall(page):
        found.setdefault(int(position), set()).add(int(value))
    return {position: sorted(values) for position, values in found.items()}


class Candidate(FastHttpUser):
    # One journey per user; the waits are inside the journey.
    wait_time = staticmethod(lambda: 3600)
    network_timeout = 60.0
    connection_timeout = 60.0
    # A new connection to nginx per request: no idle keep-alive connection the server may close
    # while a candidate thinks (Locust does not retry on one as a browser does; that looked like
    # lost saves). nginx opens a new one to gunicorn per request in any case.
    default_headers = {"Connection": "close"}

    def on_start(self):
        self.index = next(_next, None)

    def error(self, what: str, **details):
        ERRORS.append({"candidate": self.plan["employee_no"] if self.index is not None else None,
                       "what": what, **details})

    @task
    def sit_the_exam(self):
        global _done
        if self.index is None:
            raise StopUser()
        self.plan = plan = PLANS[self.index]
        rng = random.Random(plan["seed"])
        record = {"employee_no": plan["employee_no"], "role": plan["submit"]}
        EVENTS.append(record)
        try:
            self.journey(plan, rng, record)
        except StopUser:
            raise
        except Exception as exc:  # a crash in the journey is an error, not a silent stop
            self.error("journey crashed", exc=repr(exc),
                       where=traceback.format_exc(limit=-3)[-600:])
        finally:
            _done += 1
            quit_when_done()
        raise StopUser()

    # -- the journey ---------------------------------------------------------------------------

    def journey(self, plan: dict, rng: random.Random, record: dict) -> None:
        t0 = CONFIG["t0"]
        gevent.sleep(max(0.0, t0 + plan["arrive_s"] - time.time()))
        record["arrived"] = time.time()
        # Candidates open the exam's link, sign in and land on its start page.
        quiz = CONFIG["quiz_id"]
        with self.client.get(f"/quizzes/{quiz}", name="GET /quizzes/[id] (exam link, signed out)",
                             allow_redirects=False, catch_response=True) as r:
            login_url = r.headers.get("Location", "") or ""
            if r.status_code != 302 or "/login" not in login_url:
                r.failure(f"exam link did not ask to sign in: {r.status_code}")
                self.error("exam link did not ask to sign in", status=r.status_code)
                return
        page = self.get(login_url, "GET /login")
        if page is None:
            return
        csrf = CSRF_RE.search(page).group(1)
        with self.client.post(login_url, name="POST /login", allow_redirects=False,
                              catch_response=True, data={
                                  "employee_no": plan["employee_no"],
                                  "password": plan["password"], "csrf_token": csrf}) as r:
            if r.status_code != 302:
                r.failure(f"login refused: {r.status_code}")
                self.error("login refused", status=r.status_code)
                return
            landing = r.headers.get("Location", "") or ""
        record["logged_in"] = time.time()
        if not landing.endswith(f"/quizzes/{quiz}"):
            self.error("login did not lead to the exam", location=landing)
            return
        page = self.get(landing, "GET /quizzes/[id] (start page)")
        if page is None:
            return
        csrf = CSRF_RE.search(page).group(1)
        with self.client.post(f"/quizzes/{quiz}/start", name="POST /quizzes/[id]/start",
                              allow_redirects=False, catch_response=True,
                              data={"csrf_token": csrf}) as r:
            match = re.search(r"/attempts/(\d+)$", r.headers.get("Location", "") or "")
            if r.status_code != 302 or not match:
                r.failure(f"start refused: {r.status_code}")
                self.error("start refused", status=r.status_code)
                return
        attempt = int(match.group(1))
        record["attempt"] = attempt
        record["started"] = time.time()
        page = self.get(f"/attempts/{attempt}", "GET /attempts/[id] (question page)")
        if page is None:
            return
        loaded = time.time()
        deadline = loaded + int(SECONDS_RE.search(page).group(1))
        record["deadline_local"] = deadline
        csrf = CSRF_RE.search(page).group(1)
        choices = _choices(page)
        items = {int(p): {"version": int(v), "qtype": t, "choices": choices.get(int(p), []),
                          "selected": None}
                 for p, v, t in FIELDSET_RE.findall(page)}
        if len(items) != CONFIG["questions"]:
            self.error("question page shows a wrong number of questions", found=len(items))
            return
        order = sorted(items)
        for n, position in enumerate(order):
            gevent.sleep(rng.uniform(5, 15) * SCALE)
            if plan["reload_at"] == n:
                page = self.get(f"/attempts/{attempt}", "GET /attempts/[id] (question page)")
                if page is None:
                    return
                csrf = CSRF_RE.search(page).group(1)
                shown = {int(p): int(v) for p, v, _t in FIELDSET_RE.findall(page)}
                mine = {p: it["version"] for p, it in items.items()}
                if shown != mine:
                    self.error("reloaded page shows other versions than the saves returned")
            if not self.answer(attempt, csrf, position, items[position], rng):
                return
            if plan["change_at"] == n and n > 0:
                gevent.sleep(rng.uniform(5, 15) * SCALE)
                earlier = order[rng.randrange(n)]
                if not self.answer(attempt, csrf, earlier, items[earlier], rng, change=True):
                    return
        record["answered"] = time.time()
        if plan["submit"] == "never":
            if plan.get("late_probe"):
                # Comes back after deadline + grace: the save must be refused (and the attempt
                # finalised by that request).
                gevent.sleep(max(0.0, deadline + CONFIG["grace_s"] + 5 - time.time()))
                position = order[0]
                with self.client.post(f"/attempts/{attempt}/save",
                                      name="POST /attempts/[id]/save (after deadline+grace)",
                                      json={"position": position, "version":
                                            items[position]["version"], "selected": [0]},
                                      headers={"X-CSRFToken": csrf}, catch_response=True) as r:
                    if r.status_code == 409 and '"TimeUp"' in r.text:
                        r.success()
                        record["late_probe"] = "refused"
                    else:
                        r.failure(f"late save not refused: {r.status_code}")
                        record["late_probe"] = f"status {r.status_code}"
                        self.error("late save not refused", status=r.status_code)
            return
        if plan["submit"] == "last2":
            at = deadline - rng.uniform(5, 120) * SCALE
        else:
            at = min(time.time() + rng.uniform(5, 15) * SCALE, deadline - 125 * SCALE)
        gevent.sleep(max(0.0, at - time.time()))
        with self.client.post(f"/attempts/{attempt}/submit", name="POST /attempts/[id]/submit",
                              allow_redirects=False, catch_response=True,
                              data={"csrf_token": csrf}) as r:
            location = r.headers.get("Location", "") or ""
            if r.status_code != 302 or not location.endswith(f"/attempts/{attempt}/result"):
                r.failure(f"submit refused: {r.status_code} {location}")
                self.error("submit refused", status=r.status_code)
                return
        record["submitted"] = time.time()
        record["seconds_before_deadline"] = deadline - record["submitted"]
        page = self.get(location, "GET /attempts/[id]/result")
        if page is not None:
            record["result_seen"] = True

    def get(self, url: str, name: str) -> str | None:
        with self.client.get(url, name=name, catch_response=True) as r:
            if r.status_code != 200:
                r.failure(f"status {r.status_code}")
                self.error(f"{name} failed", status=r.status_code, url=url)
                return None
            return r.text

    def answer(self, attempt: int, csrf: str, position: int, item: dict, rng: random.Random,
               change: bool = False) -> bool:
        choices = item["choices"]
        while True:
            if item["qtype"] == "multiple":
                chosen = sorted(rng.sample(choices, rng.randint(1, len(choices))))
            else:
                chosen = [rng.choice(choices)]
            if not change or chosen != item["selected"]:
                break
        body = {"position": position, "selected": chosen, "version": item["version"]}
        with self.client.post(f"/attempts/{attempt}/save", name="POST /attempts/[id]/save",
                              json=body, headers={"X-CSRFToken": csrf},
                              catch_response=True) as r:
            if r.status_code != 200:
                r.failure(f"save refused: {r.status_code} {(r.text or '')[:120]}")
                self.error("save refused", status=r.status_code, body=(r.text or "")[:200],
                           position=position, exc=repr(getattr(r, "error", None)))
                return False
            version = r.json().get("version")
            if version != item["version"] + 1:
                r.failure("save answered with an unexpected version")
                self.error("unexpected version", got=version, expected=item["version"] + 1)
                return False
        item["version"], item["selected"] = version, chosen
        ACKS.append({"attempt": attempt, "position": position, "selected": chosen,
                     "version": version, "at": time.time(), "change": change})
        return True

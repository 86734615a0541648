/* Taking a quiz: server-owned countdown, autosave with versions, offline queue, practice locks.
 *
 * The page works without this script (plain form posts). With it:
 * - the countdown starts from the seconds the server sent and runs on the monotonic clock
 *   (performance.now), so a wrong device clock changes nothing;
 * - every change is saved at once (debounced), carrying the version it was based on; a stale
 *   save (another tab, a delayed retry) is refused by the server and the page takes its answer;
 * - answers are also kept in this browser (answers.js: per person and attempt) and re-sent when
 *   the connection returns, or when the person signs in again after the session ended;
 * - a save that no retry can cure stops the saving and says why, the answers kept: signed out
 *   (401: sign in again), the page expired (400: reload), the session needs attention (a
 *   redirect, e.g. to choose a new password); other failures are retried;
 * - at zero the changes not yet sent are sent, then the attempt is submitted; the server
 *   finalises it anyway if nobody is there.
 */
(function () {
  "use strict";
  var root = document.getElementById("quiz");
  if (!root) { return; }
  var form = document.getElementById("answers-form");
  var statusEl = document.getElementById("save-status");
  var timerEl = document.getElementById("timer");
  var announceEl = document.getElementById("sr-announce");
  var csrf = document.querySelector('meta[name="csrf-token"]').getAttribute("content");
  var kept = window.trainerAnswers;
  var attemptId = root.dataset.attempt;
  var DEBOUNCE_MS = 400;
  var RETRY_MS = 5000;
  var SUBMIT_WAIT_MS = 5000;  // at time-up, for the last saves (well inside the server's grace)
  var timers = {};
  var inFlight = {};  // position -> the promise of its save under way
  var finished = false;
  var submitting = false;
  // Why saving stopped, when no retry can help: "signed-out", "expired" or "attention".
  var halted = null;
  var HALTS = {"signed-out": ["signed-out", "msgSignedOut"], "expired": ["page-expired", "msgExpired"],
               "attention": ["needs-attention", "msgAttention"]};

  // Without JavaScript the page needs a "save" button; with it, saving is automatic.
  Array.prototype.forEach.call(document.querySelectorAll("[data-nojs]"), function (el) {
    el.hidden = true;
  });

  function store(data) { kept.store(attemptId, root.dataset.saveUrl, data); }
  var local = kept.load(attemptId);

  function fieldset(position) {
    return form.querySelector('fieldset[data-position="' + position + '"]');
  }
  function selectedOf(fs) {
    var out = [];
    Array.prototype.forEach.call(fs.querySelectorAll("input[type=radio],input[type=checkbox]"),
      function (input) { if (input.checked) { out.push(parseInt(input.value, 10)); } });
    return out;
  }
  function applySelection(fs, selected) {
    Array.prototype.forEach.call(fs.querySelectorAll("input[type=radio],input[type=checkbox]"),
      function (input) { input.checked = selected.indexOf(parseInt(input.value, 10)) !== -1; });
  }
  function setVersion(fs, version) {
    fs.dataset.version = String(version);
    var hidden = fs.querySelector('input[type=hidden][name^="v"]');
    if (hidden) { hidden.value = String(version); }
  }
  function pendingCount() {
    return Object.keys(local).filter(function (k) { return local[k].pending; }).length;
  }
  function showStatus() {
    if (!statusEl) { return; }
    var pending = pendingCount();
    if (halted) {
      statusEl.textContent = root.dataset[HALTS[halted][1]];
      statusEl.className = "ms-2 small text-danger";
      statusEl.dataset.state = halted;
    } else if (!navigator.onLine && pending) {
      statusEl.textContent = root.dataset.msgOffline;
      statusEl.className = "ms-2 small text-danger";
      statusEl.dataset.state = "offline";
    } else if (pending || Object.keys(inFlight).length) {
      statusEl.textContent = root.dataset.msgSaving;
      statusEl.className = "ms-2 small text-warning";
      statusEl.dataset.state = "saving";
    } else {
      statusEl.textContent = root.dataset.msgSaved;
      statusEl.className = "ms-2 small text-success";
      statusEl.dataset.state = "saved";
    }
  }

  function post(url, payload) {
    return fetch(url, {
      method: "POST", credentials: "same-origin", redirect: "manual",
      headers: {"Content-Type": "application/json", "X-CSRFToken": csrf,
                "Accept": "application/json"},
      body: JSON.stringify(payload)
    }).then(function (response) {
      // A redirect is not followed (it would answer with a page, not JSON): the session needs
      // attention first, e.g. a one-time password to replace.
      if (response.type === "opaqueredirect") { return {status: "redirect", body: {}}; }
      return response.json().catch(function () { return {}; })
        .then(function (body) { return {status: response.status, body: body}; });
    });
  }

  function halt(reason) {
    halted = reason;
    Object.keys(HALTS).forEach(function (key) {
      var box = document.getElementById(HALTS[key][0]);
      if (box) { box.hidden = key !== reason; }
    });
    showStatus();
  }

  // What a save and a lock share: the answers that end the saving or the page. True when the
  // answer was one of them.
  function stopped(r) {
    if (r.status === 401) {
      // The session ended: no retry can succeed before a new sign-in. The answers stay on
      // this device, and the same person signing in again here and opening the attempt
      // sends them (a different person's first page drops them: answers.js).
      halt("signed-out");
    } else if (r.status === 400) {
      // The page's token is no longer good (another sign-in, an expired token): reloading the
      // page gives a new one, and the answers kept here are sent from the reloaded page.
      halt("expired");
    } else if (r.status === "redirect") {
      halt("attention");
    } else if (r.status === 409 && r.body.error === "QuestionClosed") {
      // A forward-only quiz has moved past this question (another tab, the back button):
      // on to the page open now.
      finished = true;
      window.location.href = r.body.page_url;
    } else if ((r.status === 409 && r.body.error !== "stale") || r.status === 403 ||
               r.status === 404) {
      finished = true;
      kept.clear(attemptId);  // closed (or never ours): nothing here can be sent any more
      window.location.href = r.body.result_url || root.dataset.resultUrl;
    } else {
      return false;
    }
    return true;
  }

  // Send the answer at `position` if it waits to be sent. Resolves to true once the server
  // holds it (or nothing was waiting), false when it was not sent.
  function save(position) {
    if (inFlight[position]) {
      return inFlight[position].then(function () { return save(position); });
    }
    var entry = local[position];
    if (!entry || !entry.pending) { return Promise.resolve(true); }
    if (finished || halted) { return Promise.resolve(false); }
    var sending = post(root.dataset.saveUrl, {position: position, selected: entry.selected, version: entry.version})
      .then(function (r) {
        delete inFlight[position];
        var fs = fieldset(position);
        var current = local[position];
        var again = false;
        if (r.status === 200) {
          again = current && current.selected.join() !== entry.selected.join();
          local[position] = {selected: again ? current.selected : entry.selected,
                             version: r.body.version, pending: again};
          if (fs) { setVersion(fs, r.body.version); }
          store(local);
        } else if (r.status === 409 && r.body.error === "stale") {
          // Someone (another tab) saved a newer answer: take it, never overwrite it.
          local[position] = {selected: r.body.selected, version: r.body.version, pending: false};
          if (fs) { applySelection(fs, r.body.selected); setVersion(fs, r.body.version); }
          store(local);
          announce(root.dataset.msgStale);
        } else if (r.status === 409 && r.body.error === "QuestionClosed") {
          // Its answer can no longer change: it is not sent again.
          local[position] = {selected: entry.selected, version: entry.version, pending: false};
          store(local);
          stopped(r);
        } else if (!stopped(r)) {
          scheduleRetry();
        }
        showStatus();
        if (again) { return save(position); }
        return r.status === 200;
      }, function () {
        delete inFlight[position];
        showStatus();
        scheduleRetry();
        return false;
      });
    inFlight[position] = sending;
    showStatus();
    return sending;
  }

  var retryTimer = null;
  function scheduleRetry() {
    if (retryTimer) { return; }
    retryTimer = setTimeout(function () { retryTimer = null; flush(); }, RETRY_MS);
  }
  function flush() {
    Object.keys(local).forEach(function (position) {
      if (local[position].pending) { save(parseInt(position, 10)); }
    });
    showStatus();
  }

  function noteChange(fs) {
    if (!fs || fs.dataset.locked) { return; }
    var position = parseInt(fs.dataset.position, 10);
    var base = local[position] && local[position].pending ? local[position].version
                                                         : parseInt(fs.dataset.version, 10);
    local[position] = {selected: selectedOf(fs), version: base, pending: true};
    store(local);
    showStatus();
    clearTimeout(timers[position]);
    timers[position] = setTimeout(function () { save(position); }, DEBOUNCE_MS);
  }
  form.addEventListener("change", function (event) {
    noteChange(event.target.closest("fieldset[data-position]"));
  });

  // Practice: lock an answer and show its feedback without leaving the page. The answer is
  // saved first (a lock takes what the server holds); when either fails, the page says so.
  function lockProblem(button, text) {
    var note = button.parentNode.querySelector("[data-lock-problem]");
    if (!note) {
      note = document.createElement("div");
      note.className = "small text-danger mt-1";
      note.setAttribute("role", "alert");
      note.dataset.lockProblem = "";
      button.insertAdjacentElement("afterend", note);
    }
    note.textContent = text;
    note.hidden = !text;
  }
  form.addEventListener("click", function (event) {
    var button = event.target.closest("[data-lock]");
    if (!button) { return; }
    event.preventDefault();
    if (button.disabled) { return; }
    var fs = button.closest("fieldset[data-position]");
    var position = parseInt(fs.dataset.position, 10);
    clearTimeout(timers[position]);
    button.disabled = true;
    lockProblem(button, "");
    save(position).then(function (saved) {
      return saved ? post(root.dataset.lockUrl, {position: position}) : null;
    }).then(function (r) {
      button.disabled = false;
      if (r && r.status === 200 && r.body.html) {
        button.insertAdjacentHTML("afterend", r.body.html);
        var note = button.parentNode.querySelector("[data-lock-problem]");
        if (note) { note.remove(); }
        button.remove();
        fs.dataset.locked = "1";
        Array.prototype.forEach.call(fs.querySelectorAll("input"), function (i) { i.disabled = true; });
      } else if (!(r && stopped(r)) && !halted && !finished) {
        lockProblem(button, (r && r.body.message) || root.dataset.msgLockFailed);
      }
      showStatus();
    }).catch(function () {
      button.disabled = false;
      lockProblem(button, root.dataset.msgLockFailed);
      showStatus();
    });
  });

  // Resume: the server's answers win unless this device holds a newer unsent one.
  function reconcile() {
    return fetch(root.dataset.stateUrl, {credentials: "same-origin", headers: {"Accept": "application/json"}})
      .then(function (r) { return r.json(); })
      .then(function (state) {
        if (state.state !== "in_progress") {
          finished = true;
          kept.clear(attemptId);
          window.location.href = state.result_url;
          return;
        }
        state.items.forEach(function (item) {
          var mine = local[item.position];
          var fs = fieldset(item.position);
          if (mine && mine.pending && mine.version === item.version) {
            if (fs) { applySelection(fs, mine.selected); }
          } else {
            local[item.position] = {selected: item.selected, version: item.version, pending: false};
            if (fs) { applySelection(fs, item.selected); setVersion(fs, item.version); }
          }
        });
        store(local);
        if (state.seconds_left !== null && state.seconds_left !== undefined) { startClock(state.seconds_left); }
        flush();
      })
      .catch(function () { showStatus(); });
  }

  // The countdown: seconds from the server, measured on the monotonic clock.
  var clock = null;
  var announced = {};
  function announce(text) {
    if (announceEl) { announceEl.textContent = text; }
  }
  function startClock(secondsLeft) {
    if (!timerEl) { return; }
    var startedAt = performance.now();
    if (clock) { clearInterval(clock); }
    function tick() {
      var left = Math.max(0, Math.round(secondsLeft - (performance.now() - startedAt) / 1000));
      var minutes = Math.floor(left / 60);
      var seconds = left % 60;
      timerEl.textContent = minutes + ":" + (seconds < 10 ? "0" : "") + seconds;
      timerEl.className = "badge fs-6 " + (left <= 60 ? "text-bg-danger" : left <= 300 ? "text-bg-warning" : "text-bg-dark");
      // Screen readers hear the time at 10, 5 and 1 minutes and 30 seconds, not every second.
      [[600, "minutes", 10], [300, "minutes", 5], [60, "minutes", 1], [30, "seconds", 30]].forEach(function (mark) {
        if (left <= mark[0] && left > mark[0] - 5 && !announced[mark[0]]) {
          announced[mark[0]] = true;
          var template = mark[1] === "minutes" ? root.dataset.msgMinutes : root.dataset.msgSeconds;
          announce(template.replace("{n}", String(mark[2])));
        }
      });
      if (left === 0) {
        clearInterval(clock);
        timeUp();
      }
    }
    tick();
    clock = setInterval(tick, 1000);
  }
  function timeUp() {
    if (finished || submitting) { return; }
    submitting = true;
    announce(root.dataset.msgTimeup);
    // A change made in the last moments still waits for its debounce: send it now, and submit
    // once nothing is on its way (or after SUBMIT_WAIT_MS; the server's grace covers saves
    // still in flight).
    Object.keys(timers).forEach(function (position) { clearTimeout(timers[position]); });
    flush();
    var waitedFrom = performance.now();
    (function submitOnceSent() {
      var busy = Object.keys(inFlight).length || (pendingCount() && navigator.onLine && !halted);
      if (busy && performance.now() - waitedFrom < SUBMIT_WAIT_MS) {
        setTimeout(submitOnceSent, 100);
        return;
      }
      finished = true;
      submitNow();
    })();
  }
  function submitNow() {
    var submit = document.createElement("form");
    submit.method = "post";
    submit.action = root.dataset.submitUrl;
    var token = document.createElement("input");
    token.type = "hidden"; token.name = "csrf_token"; token.value = csrf;
    submit.appendChild(token);
    document.body.appendChild(submit);
    submit.submit();
  }

  window.addEventListener("online", function () { showStatus(); reconcile(); });
  window.addEventListener("offline", showStatus);
  document.addEventListener("visibilitychange", function () {
    if (document.visibilityState === "visible") { reconcile(); }
  });

  if (root.dataset.secondsLeft !== undefined) { startClock(parseInt(root.dataset.secondsLeft, 10)); }
  showStatus();
  // Ticks made before this script ran (a quick hand, a slow connection) fired no change event
  // here: the inputs differ from what the server rendered, so they are saved like any change
  // instead of being undone by the server's answers below.
  Array.prototype.forEach.call(form.querySelectorAll("fieldset[data-position]"), function (fs) {
    var inputs = fs.querySelectorAll("input[type=radio],input[type=checkbox]");
    if (Array.prototype.some.call(inputs, function (i) { return i.checked !== i.defaultChecked; })) {
      noteChange(fs);
    }
  });
  reconcile();
})();

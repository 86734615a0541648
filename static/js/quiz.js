/* Taking a quiz: server-owned countdown, autosave with versions, offline queue, practice locks.
 *
 * The page works without this script (plain form posts). With it:
 * - the countdown starts from the seconds the server sent and runs on the monotonic clock
 *   (performance.now), so a wrong device clock changes nothing;
 * - every change is saved at once (debounced), carrying the version it was based on; a stale
 *   save (another tab, a delayed retry) is refused by the server and the page takes its answer;
 * - answers are also kept in this browser (answers.js: per person and attempt) and re-sent when
 *   the connection returns, or when the person signs in again after the session ended;
 * - at zero the attempt is submitted; the server finalises it anyway if nobody is there.
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
  var timers = {};
  var inFlight = {};
  var finished = false;
  var signedOut = false;

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
    if (signedOut) {
      statusEl.textContent = root.dataset.msgSignedOut;
      statusEl.className = "ms-2 small text-danger";
      statusEl.dataset.state = "signed-out";
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
      method: "POST", credentials: "same-origin",
      headers: {"Content-Type": "application/json", "X-CSRFToken": csrf,
                "Accept": "application/json"},
      body: JSON.stringify(payload)
    });
  }

  function save(position) {
    var entry = local[position];
    if (!entry || !entry.pending || inFlight[position] || finished || signedOut) { return; }
    inFlight[position] = true;
    showStatus();
    post(root.dataset.saveUrl, {position: position, selected: entry.selected, version: entry.version})
      .then(function (response) {
        return response.json().then(function (body) { return {status: response.status, body: body}; });
      })
      .then(function (r) {
        delete inFlight[position];
        var fs = fieldset(position);
        var current = local[position];
        if (r.status === 200) {
          var changedMeanwhile = current && current.selected.join() !== entry.selected.join();
          local[position] = {selected: changedMeanwhile ? current.selected : entry.selected,
                             version: r.body.version, pending: changedMeanwhile};
          if (fs) { setVersion(fs, r.body.version); }
          store(local);
          if (changedMeanwhile) { save(position); }
        } else if (r.status === 409 && r.body.error === "stale") {
          // Someone (another tab) saved a newer answer: take it, never overwrite it.
          local[position] = {selected: r.body.selected, version: r.body.version, pending: false};
          if (fs) { applySelection(fs, r.body.selected); setVersion(fs, r.body.version); }
          store(local);
          announce(root.dataset.msgStale);
        } else if (r.status === 409 && r.body.error === "QuestionClosed") {
          // A forward-only quiz has moved past this question (another tab, the back button):
          // its answer can no longer change, so it is not sent again; on to the page open now.
          local[position] = {selected: entry.selected, version: entry.version, pending: false};
          store(local);
          finished = true;
          window.location.href = r.body.page_url;
        } else if (r.status === 409 || r.status === 403 || r.status === 404) {
          finished = true;
          kept.clear(attemptId);  // closed (or never ours): nothing here can be sent any more
          window.location.href = r.body.result_url || root.dataset.resultUrl;
        } else if (r.status === 401) {
          // The session ended: no retry can succeed before a new sign-in. The answers stay on
          // this device, and the same person signing in again here and opening the attempt
          // sends them (a different person's first page drops them: answers.js).
          signedOut = true;
          document.getElementById("signed-out").hidden = false;
        } else {
          scheduleRetry();
        }
        showStatus();
      })
      .catch(function () {
        delete inFlight[position];
        showStatus();
        scheduleRetry();
      });
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

  // Practice: lock an answer and show its feedback without leaving the page.
  form.addEventListener("click", function (event) {
    var button = event.target.closest("[data-lock]");
    if (!button) { return; }
    event.preventDefault();
    var fs = button.closest("fieldset[data-position]");
    var position = parseInt(fs.dataset.position, 10);
    clearTimeout(timers[position]);
    var entry = local[position];
    var ready = entry && entry.pending
      ? post(root.dataset.saveUrl, {position: position, selected: entry.selected, version: entry.version})
          .then(function (r) { return r.json(); })
          .then(function (body) { if (body.version) { local[position] = {selected: entry.selected, version: body.version, pending: false}; store(local); } })
      : Promise.resolve();
    ready.then(function () { return post(root.dataset.lockUrl, {position: position}); })
      .then(function (r) { return r.json(); })
      .then(function (body) {
        if (!body.html) { return; }
        button.insertAdjacentHTML("afterend", body.html);
        button.remove();
        fs.dataset.locked = "1";
        Array.prototype.forEach.call(fs.querySelectorAll("input"), function (i) { i.disabled = true; });
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
    if (finished) { return; }
    finished = true;
    announce(root.dataset.msgTimeup);
    var submit = document.createElement("form");
    submit.method = "post";
    submit.action = root.dataset.submitUrl;
    var token = document.createElement("input");
    token.type = "hidden"; token.name = "csrf_token"; token.value = csrf;
    submit.appendChild(token);
    document.body.appendChild(submit);
    // Give saves in flight a moment (the server's grace covers them), then submit.
    setTimeout(function () { submit.submit(); }, Object.keys(inFlight).length ? 1500 : 0);
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

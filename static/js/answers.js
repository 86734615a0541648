/* Answers kept in this browser during timed quizzes, and the rules that stop them outliving
 * their use. Loaded on every page, before quiz.js, which keeps its answers through it.
 *
 * - Each entry belongs to one person and one attempt: localStorage["trainer.answers.<person>.
 *   <attempt>"] = {url: the attempt's save URL, answers: {position: {selected, version,
 *   pending}}}. The person is the page's <body data-person>, present only when signed in.
 * - On every signed-in page, entries of anyone else are removed: another person signing in on
 *   this browser never sees, nor sends, the answers of the one before. A signed-out page (the
 *   sign-in page after a session ended) removes nothing, so the same person finds them again.
 * - An entry is removed once the server says its attempt is over, never on the way there (a
 *   submit that fails offline must not lose answers): pages that show finished attempts (the
 *   result page, the quiz's list of attempts) name them in data-finished-attempts, and quiz.js
 *   clears its own when a save or a state check says the attempt is closed. The submit and the
 *   time-up submit both land on the result page.
 * - Signing out first sends this person's unsent answers, then clears their entries; offline or
 *   when a send fails, it warns and lets the person stay or sign out keeping the answers.
 */
(function () {
  "use strict";
  var PREFIX = "trainer.answers.";
  var OLD_KEY = /^trainer-attempt-(\d+)$/;  // before entries were keyed by person
  var person = document.body.dataset.person || null;
  var sealed = false;  // signing out: nothing may be written back after the clearing

  function keyOf(attempt) { return PREFIX + person + "." + attempt; }
  function allKeys() {
    try { return Object.keys(localStorage); } catch (e) { return []; }
  }
  function remove(key) {
    try { localStorage.removeItem(key); } catch (e) { /* storage disabled */ }
  }
  function read(key) {
    try { return JSON.parse(localStorage.getItem(key)); } catch (e) { return null; }
  }
  function write(key, value) {
    try { localStorage.setItem(key, JSON.stringify(value)); } catch (e) { /* full or private */ }
  }
  function mine() {
    var own = PREFIX + person + ".";
    return allKeys().filter(function (k) { return k.indexOf(own) === 0; });
  }

  window.trainerAnswers = {
    load: function (attempt) {
      var entry = person ? read(keyOf(attempt)) : null;
      return (entry && entry.answers) || {};
    },
    store: function (attempt, url, answers) {
      if (person && !sealed) { write(keyOf(attempt), {url: url, answers: answers}); }
    },
    clear: function (attempt) {
      if (person) { remove(keyOf(attempt)); }
    }
  };

  if (!person) { return; }

  // Only the quiz page of an attempt proves whose an old unkeyed entry is (the server showed it
  // to its owner); elsewhere it cannot be told apart from another person's, so it goes.
  var quiz = document.getElementById("quiz");
  allKeys().forEach(function (key) {
    var old = OLD_KEY.exec(key);
    if (old) {
      if (quiz && quiz.dataset.attempt === old[1]) {
        var answers = read(key);
        if (answers) { write(keyOf(old[1]), {url: quiz.dataset.saveUrl, answers: answers}); }
      }
      remove(key);
    } else if (key.indexOf(PREFIX) === 0 && key.indexOf(PREFIX + person + ".") !== 0) {
      remove(key);
    }
  });
  Array.prototype.forEach.call(document.querySelectorAll("[data-finished-attempts]"),
    function (el) {
      el.dataset.finishedAttempts.split(/\s+/).filter(Boolean).forEach(window.trainerAnswers.clear);
    });

  // Signing out: this person's unsent answers go first, as the saves quiz.js makes.
  var signOut = document.querySelector("form[data-signout]");
  var warning = document.getElementById("signout-warning");
  if (!signOut || !warning) { return; }
  var button = signOut.querySelector("button");
  var csrf = document.querySelector('meta[name="csrf-token"]').getAttribute("content");

  function unsent() {
    var saves = [];
    mine().forEach(function (key) {
      var entry = read(key);
      if (!entry || !entry.answers) { return; }
      Object.keys(entry.answers).forEach(function (position) {
        var answer = entry.answers[position];
        if (answer && answer.pending) {
          saves.push({url: entry.url, payload: {position: parseInt(position, 10),
                                                selected: answer.selected, version: answer.version}});
        }
      });
    });
    return saves;
  }
  // True when nothing is left to send: accepted; refused as stale (the server holds a newer
  // answer, from another tab or quiz.js's own save, which is never overwritten); or the attempt
  // is closed or not this person's. A redirect (the session ended) is not followed: a failure.
  function send(save) {
    return fetch(save.url, {
      method: "POST", credentials: "same-origin", redirect: "manual",
      headers: {"Content-Type": "application/json", "X-CSRFToken": csrf,
                "Accept": "application/json"},
      body: JSON.stringify(save.payload)
    }).then(function (response) {
      if (response.status === 200) {
        return response.json().then(function (body) { return typeof body.version === "number"; });
      }
      return [403, 404, 409].indexOf(response.status) !== -1;
    }).catch(function () { return false; });
  }
  function clearMine() {
    sealed = true;  // (a save of quiz.js answered from now on must not write its entry back)
    mine().forEach(remove);
  }
  function warn(message) {
    warning.querySelector("[data-signout-message]").textContent = message;
    warning.hidden = false;
    warning.scrollIntoView({block: "nearest"});
    warning.querySelector("[data-signout-stay]").focus();
  }

  signOut.addEventListener("submit", function (event) {
    var saves = unsent();
    if (!saves.length) { clearMine(); return; }
    event.preventDefault();
    warning.hidden = true;
    if (!navigator.onLine) { warn(warning.dataset.msgOffline); return; }
    button.disabled = true;
    Promise.all(saves.map(send)).then(function (sent) {
      button.disabled = false;
      if (sent.every(Boolean)) {
        clearMine();
        signOut.submit();
      } else {
        warn(warning.dataset.msgFailed);
      }
    });
  });
  warning.querySelector("[data-signout-stay]").addEventListener("click", function () {
    warning.hidden = true;
    button.focus();
  });
  // The answers stay on this device, for this person's next sign-in here.
  warning.querySelector("[data-signout-anyway]").addEventListener("click", function () {
    signOut.submit();
  });
})();

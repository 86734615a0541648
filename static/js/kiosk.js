/* The classroom screen: shows the code the server computes, asking for the next one when the
 * current step ends. It never computes a code itself, so the display PC's clock cannot matter;
 * a reload shows the same code. */
(function () {
  "use strict";
  var root = document.getElementById("kiosk");
  if (!root) { return; }
  var qr = document.getElementById("kiosk-qr");
  var code = document.getElementById("kiosk-code");
  function schedule(seconds) {
    window.setTimeout(refresh, Math.max(1, seconds) * 1000 + 200);
  }
  function refresh() {
    fetch(root.dataset.codeUrl, {credentials: "omit", headers: {"Accept": "application/json"}})
      .then(function (r) {
        if (r.status === 410 || r.status === 404) { window.location.reload(); return null; }
        return r.ok ? r.json() : null;
      })
      .then(function (view) {
        if (!view) { schedule(5); return; }
        if (String(view.step) !== code.dataset.step) {
          qr.innerHTML = view.svg;   // (an SVG the server made: no user text in it)
          code.textContent = view.code;
          code.dataset.step = String(view.step);
        }
        schedule(view.refresh_in);
      })
      .catch(function () { schedule(5); });
  }
  schedule(parseInt(root.dataset.refreshIn, 10) || 5);
})();

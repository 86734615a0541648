/* An address to copy (the calendar feed on 我的课程): the field selects itself when focused,
 * and its button copies it, saying so in the button's own words (data-msg-copied). Without
 * JavaScript, or without clipboard access, the field is still there to copy by hand. */
(function () {
  "use strict";
  document.querySelectorAll("[data-select-all]").forEach(function (field) {
    field.addEventListener("focus", function () { field.select(); });
  });
  document.querySelectorAll("button[data-copy]").forEach(function (button) {
    var field = document.getElementById(button.dataset.copy);
    if (!field || !navigator.clipboard) {
      button.hidden = true;
      return;
    }
    button.hidden = false;
    button.addEventListener("click", function () {
      navigator.clipboard.writeText(field.value).then(function () {
        button.textContent = button.dataset.msgCopied;
      }, function () {
        field.focus();
      });
    });
  });
})();

/* A confirmation the person asked for by scanning: sent at once (without JavaScript, the
 * button does it). */
(function () {
  "use strict";
  var form = document.querySelector("form[data-autosubmit]");
  if (form && !form.dataset.sent) {
    form.dataset.sent = "1";
    form.submit();
  }
})();

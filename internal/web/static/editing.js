// posthub — the editing forms: a refused form comes back with its first wrong field
// focused (its <details> opened), so keyboard and screen-reader users land on it.
(function () {
  "use strict";
  var bad = document.querySelector('form [aria-invalid="true"]') || document.querySelector("form .form-alert");
  if (!bad) {
    return;
  }
  for (var d = bad.closest("details"); d; d = d.parentElement && d.parentElement.closest("details")) {
    d.open = true;
  }
  bad.focus();
})();

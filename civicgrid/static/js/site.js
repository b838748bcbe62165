/*
 * Behaviour every page shares. No inline handlers anywhere: the Content-Security-Policy allows
 * scripts from our own files only.
 */
(function () {
  "use strict";
  // Switching the language submits its form at once (the button is there without JavaScript).
  document.querySelectorAll("form.lang select").forEach((select) => {
    select.addEventListener("change", () => select.form.submit());
  });
})();

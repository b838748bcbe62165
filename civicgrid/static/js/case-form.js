/*
 * The new-case and report forms, enhanced: "suggest" fills the class select from the words typed
 * (the classes API), "resolved on the spot" shows the before/after photo inputs only when ticked,
 * and a form is not sent twice by a double tap. Without JavaScript the forms work as they are:
 * no suggestion button, the before/after inputs always shown (the idempotency key makes a second
 * submission harmless anyway).
 */
(function () {
  "use strict";

  /* --- class suggestion ------------------------------------------------------------------- */

  const suggest = document.getElementById("suggest-class");
  const classSelect = document.getElementById("id_case_class");
  const suggestStatus = document.getElementById("suggest-status");
  if (suggest && classSelect) {
    suggest.hidden = false;
    suggest.addEventListener("click", () => {
      const text = ["id_title", "id_description"]
        .map((id) => (document.getElementById(id) || { value: "" }).value.trim())
        .filter(Boolean)
        .join(" ");
      if (!text) {
        return;
      }
      const url = new URL(suggest.dataset.url, window.location.href);
      url.searchParams.set("text", text.slice(0, 2000));
      suggest.disabled = true;
      fetch(url, { headers: { Accept: "application/json" } })
        .then((response) => (response.ok ? response.json() : []))
        .catch(() => [])
        .then((found) => {
          suggest.disabled = false;
          const old = classSelect.querySelector("optgroup[data-suggested]");
          if (old) {
            old.remove();
          }
          if (!found.length) {
            suggestStatus.textContent = suggest.dataset.none;
            return;
          }
          const group = document.createElement("optgroup");
          group.label = suggest.dataset.groupLabel;
          group.dataset.suggested = "";
          for (const s of found) {
            const option = document.createElement("option");
            option.value = s.code;
            option.textContent = `${s.code} ${s.name}`;
            group.append(option);
          }
          // After the empty "not sure" choice, before the full list.
          classSelect.insertBefore(group, classSelect.options[0].nextSibling);
          classSelect.value = found[0].code;
          suggestStatus.textContent = found.map((s) => `${s.code} ${s.name}`).join(" · ");
        });
    });
  }

  /* --- resolved on the spot --------------------------------------------------------------- */

  const selfResolve = document.getElementById("id_self_resolve");
  const selfFields = document.getElementById("self-resolve-fields");
  if (selfResolve && selfFields) {
    const sync = () => {
      selfFields.hidden = !selfResolve.checked;
    };
    selfResolve.addEventListener("change", sync);
    sync();
  }

  /* --- one submission per tap ------------------------------------------------------------- */

  document.querySelectorAll("form[data-guard-submit]").forEach((form) => {
    form.addEventListener("submit", (event) => {
      if (form.dataset.sent) {
        event.preventDefault();
        return;
      }
      form.dataset.sent = "1";
      form.querySelectorAll("button[type=submit]").forEach((button) => {
        button.setAttribute("aria-busy", "true");
      });
    });
    // Coming back with the browser's back button shows the form again, sendable.
    window.addEventListener("pageshow", () => {
      delete form.dataset.sent;
    });
  });
})();

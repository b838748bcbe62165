/*
 * A form's draft: every field is saved to localStorage as the worker types, and put back when
 * the page opens again (a reload, a crash, the phone's browser evicting the tab), so nothing
 * typed is lost before it is queued. Photos are kept by photos.js in IndexedDB.
 */

const PREFIX = "civicgrid.draft.";

function fields(form) {
  return Array.from(form.elements).filter(
    (el) => el.name && el.type !== "file" && el.type !== "submit" && el.type !== "button" && !("noDraft" in el.dataset),
  );
}

export function keepDraft(form, name) {
  const key = PREFIX + name;
  let saved = {};
  try {
    saved = JSON.parse(localStorage.getItem(key) || "{}");
  } catch (error) {
    saved = {};
  }
  for (const el of fields(form)) {
    if (!(el.name in saved)) {
      continue;
    }
    if (el.type === "radio") {
      el.checked = saved[el.name] === el.value;
    } else if (el.type === "checkbox") {
      el.checked = Boolean(saved[el.name]);
    } else {
      el.value = saved[el.name];
    }
  }
  const save = () => {
    const data = {};
    for (const el of fields(form)) {
      if (el.type === "radio") {
        if (el.checked) {
          data[el.name] = el.value;
        }
      } else if (el.type === "checkbox") {
        data[el.name] = el.checked;
      } else {
        data[el.name] = el.value;
      }
    }
    localStorage.setItem(key, JSON.stringify(data));
  };
  form.addEventListener("input", save);
  form.addEventListener("change", save);
  return {
    restored: Object.keys(saved).length > 0,
    values: saved,
    save,
    clear() {
      localStorage.removeItem(key);
    },
  };
}

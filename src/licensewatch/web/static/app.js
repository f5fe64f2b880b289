// Progressive enhancement only: every page works without JavaScript.
"use strict";
document.addEventListener("DOMContentLoaded", () => {
  for (const select of document.querySelectorAll("select.auto-submit")) {
    select.addEventListener("change", () => select.form.submit());
  }
  for (const fieldset of document.querySelectorAll("[data-credential]")) {
    const update = () => {
      const checked = fieldset.querySelector("input[name=credential_kind]:checked");
      const kind = checked ? checked.value : "secret";
      for (const part of fieldset.querySelectorAll("[data-kind]")) {
        part.hidden = part.dataset.kind !== kind;
      }
    };
    fieldset.addEventListener("change", update);
    update();
  }
});

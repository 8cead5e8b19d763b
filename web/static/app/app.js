// jsmkit's own page script: an ES module, loaded by the base layout after htmx.
// No inline handlers anywhere (the CSP forbids them); behaviour is wired here by attributes.

// Lets CSS tell whether scripts run.
document.documentElement.classList.add("js");

// <form data-confirm="Really delete?"> asks before submitting (also for htmx-driven forms,
// which start from the same submit event).
document.addEventListener(
  "submit",
  (event) => {
    const form = event.target;
    if (!(form instanceof HTMLFormElement)) return;
    const question = form.dataset.confirm;
    if (question && !window.confirm(question)) {
      event.preventDefault();
      event.stopImmediatePropagation();
    }
  },
  true,
);

// Without htmx (vendor files not installed) pages still work as plain links and forms;
// say so once in the console so a developer notices.
window.addEventListener("load", () => {
  if (!("htmx" in window)) {
    console.warn("jsmkit: htmx is not loaded; run `npm ci && node scripts/vendor.mjs` in web/");
  }
});

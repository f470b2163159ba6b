// The console's only script: progressive enhancement. Every page works
// without it. Loaded from the host (the Content-Security-Policy forbids
// inline script).
"use strict";

// Live sections: an element with `data-live` (the incident list, an
// incident's escalation) names the server-sent events that say something
// changed; the page fetches itself again and swaps in the element of the
// same id. The event carries no data, so nothing from it is ever inserted
// into the page.
function startLiveSections() {
  if (!window.EventSource || !window.DOMParser) return;
  for (const section of document.querySelectorAll("[data-live][id]")) {
    const id = section.id;
    const status = document.getElementById("live-status");
    let fetching = false;
    let again = false;
    async function refresh() {
      if (fetching) { again = true; return; }
      fetching = true;
      try {
        const response = await fetch(window.location.href, { credentials: "same-origin" });
        if (!response.ok) return;
        const page = new DOMParser().parseFromString(await response.text(), "text/html");
        const fresh = page.getElementById(id);
        const current = document.getElementById(id);
        if (fresh && current) {
          current.replaceWith(document.adoptNode(fresh));
          localizeTimes(fresh);
          if (status) status.textContent = "Updated";
        }
      } finally {
        fetching = false;
        if (again) { again = false; refresh(); }
      }
    }
    const source = new EventSource(section.dataset.live);
    source.addEventListener("changed", refresh);
  }
}

// Times marked `local` are shown in the viewer's own time zone (the page
// renders them in UTC, which stays in the `datetime` attribute).
function localizeTimes(root) {
  for (const element of root.querySelectorAll("time.local[datetime]")) {
    const at = new Date(element.getAttribute("datetime"));
    if (isNaN(at)) continue;
    element.title = element.textContent;
    element.textContent = at.toLocaleString(undefined, {
      weekday: "short", year: "numeric", month: "short", day: "numeric",
      hour: "2-digit", minute: "2-digit", timeZoneName: "short",
    });
  }
}

// Copy buttons: shown only when there is a script to make them work.
function startCopyButtons() {
  for (const button of document.querySelectorAll("button.copy[data-copy]")) {
    button.hidden = false;
    button.addEventListener("click", async () => {
      const text = button.dataset.copy;
      try {
        await navigator.clipboard.writeText(text);
      } catch (_) {
        // Plain http outside localhost has no clipboard API: copy through a
        // temporary text field instead.
        const field = document.createElement("textarea");
        field.value = text;
        document.body.appendChild(field);
        field.select();
        document.execCommand("copy");
        field.remove();
      }
      button.textContent = "Copied";
      setTimeout(() => { button.textContent = "Copy URL"; }, 2000);
    });
  }
}

document.addEventListener("DOMContentLoaded", () => {
  startLiveSections();
  localizeTimes(document);
  startCopyButtons();
});

// The console's only script: progressive enhancement. Every page works
// without it. Loaded from the host (the Content-Security-Policy forbids
// inline script).
"use strict";

// Live incident list: the server sends "changed" over server-sent events;
// the page fetches itself again and swaps in the new list. The event carries
// no data, so nothing from it is ever inserted into the page.
function startLiveList() {
  const list = document.getElementById("incident-list");
  if (!list || !window.EventSource || !window.DOMParser) return;
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
      const fresh = page.getElementById("incident-list");
      const current = document.getElementById("incident-list");
      if (fresh && current) {
        current.replaceWith(document.adoptNode(fresh));
        if (status) status.textContent = "Incident list updated";
      }
    } finally {
      fetching = false;
      if (again) { again = false; refresh(); }
    }
  }
  const source = new EventSource(list.dataset.live);
  source.addEventListener("changed", refresh);
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
  startLiveList();
  startCopyButtons();
});

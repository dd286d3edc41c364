// A little help where JavaScript runs; every page works without it.

// A dossier's page reloads when its status changes.
const watched = document.querySelector("[data-watch]");
if (watched) {
  const url = watched.getAttribute("data-watch");
  const known = watched.getAttribute("data-status");
  setInterval(async () => {
    try {
      const res = await fetch(url, { headers: { Accept: "application/json" } });
      if (!res.ok) return;
      const body = await res.json();
      if (body.status !== known) window.location.reload();
    } catch (e) { /* offline for a moment: try again later */ }
  }, 5000);
}

// The error summary takes the focus, so that a screen reader reads it first.
const summary = document.getElementById("erreurs");
if (summary) { summary.setAttribute("tabindex", "-1"); summary.focus(); }

// "Back" links go back when there is a page to go back to.
for (const a of document.querySelectorAll("[data-back]")) {
  a.addEventListener("click", (e) => { if (history.length > 1) { e.preventDefault(); history.back(); } });
}

// A newsletter's sending page: refresh the figures from the server while it is scheduled or
// sending, and reload the page when its status changes (actions and report link differ).
document.addEventListener("DOMContentLoaded", () => {
  const box = document.getElementById("newsletter-progress");
  if (!box || box.dataset.live !== "yes") return;
  const status = document.getElementById("newsletter-status").dataset.status;
  const bar = box.querySelector("progress");
  // Figures in the page's language, as the server writes them (120 or 12,5 in Italian).
  const number = new Intl.NumberFormat(document.documentElement.lang || "it");
  const poll = async () => {
    try {
      const response = await fetch(box.dataset.poll, { headers: { Accept: "application/json" } });
      const data = await response.json();
      bar.max = data.total || 1;
      bar.value = data.done;
      for (const cell of box.querySelectorAll("[data-figure]")) {
        const value = data[cell.dataset.figure];
        cell.textContent = value === null ? "–" : typeof value === "number" ? number.format(value) : value;
      }
      box.querySelector('[data-figure="failed"]').textContent = data.failed + data.bounced;
      if (data.status !== status) { window.location.reload(); return; }
    } catch (error) {
      // A network hiccup: try again at the next tick.
    }
    setTimeout(poll, 2000);
  };
  setTimeout(poll, 2000);
});

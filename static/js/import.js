// The donor import's progress bar: ask the server how far the run is until it ends.
document.addEventListener("DOMContentLoaded", () => {
  const box = document.getElementById("import-progress");
  if (!box) return;
  const bar = box.querySelector("progress");
  const processed = box.querySelector("[data-field=processed_rows]");
  const poll = async () => {
    try {
      const response = await fetch(box.dataset.poll, { headers: { Accept: "application/json" } });
      const job = await response.json();
      bar.max = job.total_rows || 1;
      bar.value = job.processed_rows;
      processed.textContent = job.processed_rows;
      if (job.status !== "running") { window.location.reload(); return; }
    } catch (error) {
      // A network hiccup: try again at the next tick.
    }
    setTimeout(poll, 1000);
  };
  setTimeout(poll, 1000);
});

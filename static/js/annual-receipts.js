// The annual receipts' progress bar: ask the server how far the run is until it ends.
document.addEventListener("DOMContentLoaded", () => {
  const box = document.getElementById("annual-progress");
  if (!box) return;
  const bar = box.querySelector("progress");
  const poll = async () => {
    try {
      const response = await fetch(box.dataset.poll, { headers: { Accept: "application/json" } });
      const job = await response.json();
      bar.max = job.total || 1;
      bar.value = job.done;
      if (job.status !== "running") { window.location.reload(); return; }
    } catch (error) {
      // A network hiccup: try again at the next tick.
    }
    setTimeout(poll, 1000);
  };
  setTimeout(poll, 1000);
});

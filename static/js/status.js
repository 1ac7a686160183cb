// "Still processing": ask our own server a few times whether the webhook has arrived.
document.addEventListener("DOMContentLoaded", () => {
  const box = document.getElementById("gift-status");
  if (!box || box.dataset.status !== "pending") return;
  let tries = 0;
  const poll = async () => {
    tries += 1;
    const response = await fetch(box.dataset.poll, { headers: { Accept: "application/json" } });
    const body = await response.json();
    if (body.status !== "pending") { window.location.reload(); return; }
    if (tries < 15) setTimeout(poll, 2000);
  };
  setTimeout(poll, 1500);
});

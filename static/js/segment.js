// The segment builder's live count: a moment after each change, post the form as it stands
// to the count endpoint and show its answer. Without JS the Count button does the same.
document.addEventListener("DOMContentLoaded", () => {
  const form = document.getElementById("segment-form");
  const out = document.getElementById("segment-count");
  if (!form || !out) return;
  const NAMING = new Set(["name", "description"]);
  let timer = null;
  let latest = 0;
  const count = async () => {
    const ticket = ++latest;
    try {
      const response = await fetch(form.dataset.countUrl, {
        method: "POST",
        body: new FormData(form),
        headers: { Accept: "application/json" },
      });
      const body = await response.json();
      if (ticket === latest) out.textContent = body.text;
    } catch (error) {
      // A network hiccup: keep the last count; the next change asks again.
    }
  };
  const later = (event) => {
    if (NAMING.has(event.target.name)) return;
    clearTimeout(timer);
    timer = setTimeout(count, 400);
  };
  form.addEventListener("input", later);
  form.addEventListener("change", later);
  count();
});

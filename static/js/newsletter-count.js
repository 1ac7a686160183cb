// The composer's live recipient count: when the segments change, post them to the count
// endpoint and show its answer. Without JS the count shows after saving.
document.addEventListener("DOMContentLoaded", () => {
  const form = document.getElementById("newsletter-form");
  const out = document.getElementById("newsletter-count");
  if (!form || !out) return;
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
  form.addEventListener("change", (event) => {
    if (event.target.name === "segments") count();
  });
  count();
});

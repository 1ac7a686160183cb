// A form's live recipient count (segment builder, newsletter composer): a moment after a
// change to a field that counts, post the form as it stands to data-count-url and show the
// answer in the element named by data-count-output. data-count-only lists the fields that
// count (default: all), data-count-ignore those that never do. Without JS the count shows
// after the form is sent.
document.addEventListener("DOMContentLoaded", () => {
  for (const form of document.querySelectorAll("form[data-count-url][data-count-output]")) {
    const out = document.getElementById(form.dataset.countOutput);
    if (!out) continue;
    const names = (value) => new Set((value || "").split(" ").filter(Boolean));
    const only = names(form.dataset.countOnly);
    const ignore = names(form.dataset.countIgnore);
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
      const name = event.target.name;
      if (ignore.has(name) || (only.size && !only.has(name))) return;
      clearTimeout(timer);
      timer = setTimeout(count, 400);
    };
    form.addEventListener("input", later);
    form.addEventListener("change", later);
    count();
  }
});

// On a phone, the bar with the give button shows only while the page's own give button is
// out of sight. Without JavaScript (or IntersectionObserver) the bar simply stays.
document.addEventListener("DOMContentLoaded", () => {
  const bar = document.getElementById("give-sticky");
  const main = document.querySelector("a.give");
  if (!bar || !main || !("IntersectionObserver" in window)) return;
  new IntersectionObserver((entries) => {
    bar.hidden = entries.some((entry) => entry.isIntersecting);
  }).observe(main);
});

// Each table cell learns its column's heading (data-label), which the stylesheet shows above
// the value when a narrow screen stacks the rows as cards. Without JavaScript the rows still
// stack, unlabelled.
document.addEventListener("DOMContentLoaded", () => {
  for (const table of document.querySelectorAll("table.table")) {
    const headings = [...table.querySelectorAll("thead th")].map((th) => th.textContent.trim());
    if (!headings.length) continue;
    for (const row of table.querySelectorAll("tbody tr, tfoot tr")) {
      let column = 0;
      for (const cell of row.children) {
        const span = Number(cell.getAttribute("colspan") || 1);
        const label = headings[column];
        if (label && span === 1 && cell.tagName === "TD" && !cell.hasAttribute("data-label")) {
          cell.setAttribute("data-label", label);
        }
        column += span;
      }
    }
  }
});

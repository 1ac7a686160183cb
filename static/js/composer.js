// The newsletter composer: the block picker inserts a block's line into the Markdown where
// the cursor is (campaign, pact, lab, update and image chosen from lists, a button, a
// paragraph), and the live preview beside the editor renders the draft as it stands a
// moment after each change. The Markdown stays editable by hand; without JavaScript the
// "Update the preview" button does the same on demand.
document.addEventListener("DOMContentLoaded", () => {
  const form = document.getElementById("newsletter-form");
  const previewButton = document.getElementById("preview-button");
  if (!form) return;
  let target = null;

  const insert = (textarea, code) => {
    const before = textarea.value.slice(0, textarea.selectionStart).replace(/\s*$/, "");
    const after = textarea.value.slice(textarea.selectionEnd).replace(/^\s*/, "");
    const head = before ? `${before}\n\n` : "";
    textarea.value = `${head}${code}\n\n${after}`;
    const caret = head.length + code.length;
    textarea.focus();
    textarea.setSelectionRange(caret, caret);
    textarea.dispatchEvent(new Event("input", { bubbles: true }));
  };

  const close = (dialog) => {
    dialog.close();
    if (target) target.focus();
  };

  for (const toolbar of document.querySelectorAll(".block-picker")) {
    toolbar.addEventListener("click", (event) => {
      const button = event.target.closest("button[data-block]");
      if (!button) return;
      target = document.getElementById(toolbar.dataset.target);
      const kind = button.dataset.block;
      if (kind === "text") { insert(target, toolbar.dataset.text); return; }
      const dialog = document.getElementById(`pick-${kind}`);
      if (dialog) dialog.showModal();
    });
  }

  for (const dialog of document.querySelectorAll("dialog.block-dialog")) {
    dialog.addEventListener("click", (event) => {
      const pick = event.target.closest("button.pick");
      if (pick && target) { close(dialog); insert(target, pick.dataset.code); return; }
      if (event.target.closest("[data-close]")) { close(dialog); return; }
      const made = event.target.closest("button[data-insert]");
      if (!made || !target) return;
      const value = (id) => document.getElementById(id).value.trim();
      if (made.dataset.insert === "image") {
        const url = value("image-url");
        if (!/^https?:\/\/\S+$/.test(url)) { document.getElementById("image-url").focus(); return; }
        close(dialog);
        insert(target, `![${value("image-alt").replace(/[\[\]]/g, "")}](${url})`);
      } else {
        const url = value("button-url");
        const label = value("button-label").replace(/[\]|]/g, "");
        if (!label) { document.getElementById("button-label").focus(); return; }
        if (!/^https?:\/\/[^\s|\]]+$/.test(url)) { document.getElementById("button-url").focus(); return; }
        close(dialog);
        insert(target, `[[button:${url}|${label}]]`);
      }
    });
  }

  if (!previewButton) return;
  let timer = null;
  const refresh = () => form.requestSubmit(previewButton);
  const later = () => { clearTimeout(timer); timer = setTimeout(refresh, 700); };
  form.addEventListener("input", later);
  form.addEventListener("change", later);
  const language = document.getElementById("preview_language");
  if (language) language.addEventListener("change", refresh);
  refresh();
});

// Investigations: small conveniences on top of pages that work without
// JavaScript. No inline script anywhere (strict CSP).
"use strict";
document.addEventListener("DOMContentLoaded", () => {
  // Show the SHA-256 of the file an investigator is about to upload, so they
  // can note it beside the original and compare it with the hash vigil
  // records at intake. Needs a secure context (HTTPS or localhost).
  for (const input of document.querySelectorAll("input[type=file][data-sha256-target]")) {
    const out = document.getElementById(input.dataset.sha256Target);
    if (!out) continue;
    input.addEventListener("change", async () => {
      out.textContent = "";
      const f = input.files && input.files[0];
      if (!f || !window.crypto || !crypto.subtle) return;
      if (f.size > 512 * 1024 * 1024) {
        out.textContent = "Too large to hash in the browser; vigil hashes it on upload.";
        return;
      }
      out.textContent = "Hashing your copy…";
      try {
        const sum = await crypto.subtle.digest("SHA-256", await f.arrayBuffer());
        out.textContent = "SHA-256 of your copy: " +
          Array.from(new Uint8Array(sum), (b) => b.toString(16).padStart(2, "0")).join("");
      } catch (e) {
        out.textContent = "";
      }
    });
  }
  // Copy buttons (the hotline receipt): hidden until this script runs.
  for (const btn of document.querySelectorAll("button[data-copy]")) {
    const el = document.getElementById(btn.dataset.copy);
    if (!el || !navigator.clipboard) continue;
    btn.hidden = false;
    btn.addEventListener("click", async () => {
      try {
        await navigator.clipboard.writeText(el.textContent.trim());
        btn.textContent = "Copied";
      } catch (e) {
        btn.textContent = "Select it and copy by hand";
      }
    });
  }
});

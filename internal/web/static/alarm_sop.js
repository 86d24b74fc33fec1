// SOP editor: show a step's call list only for call steps and open its
// answers for question steps. The form works without this file (the
// server ignores call lists and answers of other kinds).
"use strict";
document.addEventListener("DOMContentLoaded", () => {
  for (const step of document.querySelectorAll("#sop-form .sop-step")) {
    const kind = step.querySelector("select.sop-kind");
    const call = step.querySelector(".sop-call");
    const answers = step.querySelector("details.sop-answers");
    if (!kind) continue;
    const sync = () => {
      if (call) call.hidden = kind.value !== "call";
      if (answers) {
        answers.hidden = kind.value !== "question";
        if (kind.value === "question") answers.open = true;
      }
    };
    kind.addEventListener("change", sync);
    sync();
  }
});

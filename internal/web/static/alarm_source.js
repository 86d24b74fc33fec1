// Alarm source form: broker and topic only for MQTT sources. The form
// works without this file (the server ignores them for webhooks).
"use strict";
document.addEventListener("DOMContentLoaded", () => {
  const form = document.getElementById("source-form");
  const mqtt = form && form.querySelector(".source-mqtt");
  if (!mqtt) return;
  const sync = () => {
    // A new source picks its kind; a changed one keeps it (hidden input).
    const kind = form.querySelector('input[name="kind"]:checked, input[type="hidden"][name="kind"]');
    mqtt.hidden = !kind || kind.value !== "mqtt";
  };
  for (const r of form.querySelectorAll('input[name="kind"]')) r.addEventListener("change", sync);
  sync();
});

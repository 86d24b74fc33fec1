// vigil alarm console: keeps the queue live over Server-Sent Events (the
// browser resumes with Last-Event-ID by itself), ordered by priority then
// age, with a sound and a visual cue for new life-safety alarms, and
// keyboard navigation. No inline script (strict CSP); the page works
// without this file, only without live updates.
"use strict";
(() => {
  const table = document.getElementById("alarm-queue");
  if (!table) return;
  const tbody = table.tBodies[0];
  const empty = document.getElementById("queue-empty");
  const status = document.getElementById("live-status");
  const soundBtn = document.getElementById("sound-toggle");
  const canHandle = table.dataset.canHandle === "true";
  const openStates = new Set(["new", "acknowledged", "in_progress"]);
  let audio = null;
  let soundOn = false;

  // Sound is synthesised (no file to download); browsers allow audio only
  // after a user gesture, hence the button.
  function beep() {
    if (!soundOn || !audio) return;
    const t = audio.currentTime;
    for (let i = 0; i < 3; i++) {
      const o = audio.createOscillator();
      const g = audio.createGain();
      o.type = "square";
      o.frequency.value = i % 2 ? 660 : 880;
      g.gain.setValueAtTime(0.15, t + i * 0.25);
      g.gain.exponentialRampToValueAtTime(0.001, t + i * 0.25 + 0.2);
      o.connect(g).connect(audio.destination);
      o.start(t + i * 0.25);
      o.stop(t + i * 0.25 + 0.22);
    }
  }
  function toggleSound() {
    if (!soundBtn) return;
    soundOn = !soundOn;
    if (soundOn && !audio) audio = new (window.AudioContext || window.webkitAudioContext)();
    soundBtn.setAttribute("aria-pressed", String(soundOn));
    soundBtn.textContent = soundOn ? "Sound on" : "Enable sound";
  }
  if (soundBtn) soundBtn.addEventListener("click", toggleSound);

  function text(tag, label, value) {
    const td = document.createElement(tag);
    td.dataset.label = label;
    if (value !== undefined) td.textContent = value;
    return td;
  }
  function badge(txt, cls) {
    const s = document.createElement("span");
    s.className = "badge" + (cls ? " " + cls : "");
    s.textContent = txt;
    return s;
  }
  // version identifies an alarm's state as shown; must match Alarm.Version.
  function version(a) {
    return [Date.parse(a.updated_at), a.state, a.signals, a.escalation || 0, a.restored_at ? 1 : 0, a.cancelled_at ? 1 : 0].join("|");
  }
  function row(a) {
    const tr = document.createElement("tr");
    tr.dataset.id = a.id;
    tr.dataset.version = version(a);
    tr.dataset.priority = a.priority;
    tr.dataset.first = Date.parse(a.first_at);
    tr.tabIndex = 0;
    const p = text("td", "Priority");
    p.append(badge("P" + a.priority, a.priority === 1 ? "bad" : a.priority === 2 ? "warn" : ""));
    if (a.escalation) p.append(" ", badge("esc " + a.escalation, "bad"));
    const t = text("td", "Alarm");
    const link = document.createElement("a");
    link.href = "/alarms/" + encodeURIComponent(a.id);
    link.textContent = a.title;
    t.append(link);
    if (a.restored_at) t.append(" ", badge("restored", "ok"));
    if (a.cancelled_at) t.append(" ", badge("cancelled", "ok"));
    const first = text("td", "First");
    const time = document.createElement("time");
    time.dateTime = a.first_at;
    time.textContent = new Date(a.first_at).toLocaleString();
    first.append(time);
    tr.append(p, t, text("td", "Site", a.site_name || ""), text("td", "State", a.state),
      text("td", "Signals", String(a.signals)), first, text("td", "Owner", a.owner_name || ""));
    return tr;
  }
  // Queue order: priority, then age (oldest first), then ID.
  function before(x, y) {
    const px = +x.dataset.priority, py = +y.dataset.priority;
    if (px !== py) return px < py;
    const fx = +x.dataset.first, fy = +y.dataset.first;
    if (fx !== fy) return fx < fy;
    return x.dataset.id < y.dataset.id;
  }
  function place(tr) {
    for (const other of tbody.rows) {
      if (other !== tr && before(tr, other)) {
        tbody.insertBefore(tr, other);
        return;
      }
    }
    tbody.append(tr);
  }
  function cue(tr) {
    // Visual cue: highlight the row for a few seconds and flag the tab title.
    tr.style.outline = "3px solid #c0392b";
    tr.style.background = "#fde8e7";
    setTimeout(() => { tr.style.outline = ""; tr.style.background = ""; }, 6000);
    if (document.hidden && !document.title.startsWith("(!) ")) document.title = "(!) " + document.title;
  }
  document.addEventListener("visibilitychange", () => {
    if (!document.hidden) document.title = document.title.replace(/^\(!\) /, "");
  });
  function apply(a) {
    const old = tbody.querySelector(`tr[data-id="${CSS.escape(a.id)}"]`);
    // A replayed message the row already shows changes nothing (and does
    // not replace the row under the pointer or the keyboard focus).
    if (old && old.dataset.version === version(a)) return;
    if (!openStates.has(a.state)) {
      if (old) old.remove();
    } else {
      const tr = row(a);
      const focused = old && document.activeElement === old;
      if (old) old.replaceWith(tr); else tbody.append(tr);
      place(tr);
      if (focused) tr.focus();
      if (!old && a.state === "new") {
        if (a.priority === 1) { cue(tr); beep(); } else tr.style.fontWeight = "600";
      }
    }
    if (empty) empty.hidden = tbody.rows.length > 0;
  }

  if (table.dataset.stream && window.EventSource) {
    const es = new EventSource(table.dataset.stream);
    es.onopen = () => { if (status) { status.textContent = "Live"; status.className = "badge ok"; } };
    es.onerror = () => { if (status) { status.textContent = "Reconnecting…"; status.className = "badge warn"; } };
    // The live hub names each event <module>.<event> from its subject.
    es.addEventListener("alarm.alarm", (ev) => {
      try {
        const msg = JSON.parse(ev.data);
        if (msg && msg.alarm) apply(msg.alarm);
      } catch (e) { /* malformed message: ignore it, the next one carries the full state */ }
    });
  }

  // Keyboard: j/k move through the queue, Enter opens, a acknowledges,
  // s toggles sound. Ignored while typing in a field.
  document.addEventListener("keydown", (e) => {
    if (e.ctrlKey || e.metaKey || e.altKey) return;
    const tag = (e.target.tagName || "").toLowerCase();
    if (tag === "input" || tag === "textarea" || tag === "select") return;
    const rows = Array.from(tbody.rows);
    const i = rows.indexOf(document.activeElement);
    if (e.key === "j" || e.key === "k") {
      const n = e.key === "j" ? Math.min(rows.length - 1, i + 1) : Math.max(0, i - 1);
      if (rows[n]) { rows[n].focus(); e.preventDefault(); }
    } else if (e.key === "Enter" && i >= 0) {
      rows[i].querySelector("a").click();
    } else if (e.key === "a" && i >= 0 && canHandle) {
      const id = rows[i].dataset.id;
      const f = document.createElement("form");
      f.method = "post";
      f.action = "/alarms/" + encodeURIComponent(id) + "/ack";
      document.body.append(f);
      f.submit();
    } else if (e.key === "s") {
      toggleSound();
    }
  });
})();

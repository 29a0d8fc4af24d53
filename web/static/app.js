// Switchboard web admin: the dashboard's live update (polls /api/status), nothing else needs script.
"use strict";

(function () {
  const root = document.getElementById("dashboard");
  if (!root) return;

  const pollMs = Number(root.dataset.pollMs) || 2000;
  const statusUrl = root.dataset.statusUrl;
  const csrf = document.querySelector('meta[name="csrf-token"]').content;
  const reasonOptions = document.getElementById("reason-options");

  function duration(seconds) {
    if (seconds === null || seconds === undefined) return "–";
    const total = Math.round(Number(seconds));
    if (total < 60) return total + " s";
    const h = Math.floor(total / 3600), m = Math.floor((total % 3600) / 60), s = total % 60;
    const mm = h ? String(m).padStart(2, "0") : String(m);
    return (h ? h + ":" : "") + mm + ":" + String(s).padStart(2, "0");
  }

  function percent(value) {
    if (value === null || value === undefined) return "–";
    return (Number.isInteger(value) ? value : Number(value).toFixed(1)) + " %";
  }

  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(attrs || {})) {
      if (value === false || value === null || value === undefined) continue;
      if (key === "class") node.className = value;
      else if (key === "text") node.textContent = value;
      else node.setAttribute(key, value === true ? "" : value);
    }
    for (const child of children) {
      if (child !== null && child !== undefined) node.append(child);
    }
    return node;
  }

  function label(state) { return String(state || "").replace(/_/g, " "); }
  function badge(state) { return el("span", { class: "badge badge-" + state, text: label(state) }); }

  function fillTable(id, rows, makeRow) {
    const body = document.getElementById(id);
    body.replaceChildren(...rows.map(makeRow));
    const empty = root.querySelector('[data-empty-for="' + id + '"]');
    if (empty) empty.hidden = rows.length > 0;
  }

  function callLink(call) {
    const href = root.dataset.callUrl.replace("CALL_ID", encodeURIComponent(call.id));
    return el("a", { href: href, text: call.caller_id || "(no caller id)" });
  }

  function operatorForm(op) {
    const action = root.dataset.operatorUrl.replace("OPERATOR", encodeURIComponent(op.name));
    const select = el("select", { name: "reason", "aria-label": "Pause reason for " + op.name });
    select.append(reasonOptions.content.cloneNode(true));
    return el("form", { method: "post", action: action, class: "op-actions" },
      el("input", { type: "hidden", name: "csrf_token", value: csrf }),
      el("button", { class: "btn btn-small btn-ok", name: "action", value: "ready", text: "Ready" }),
      select,
      el("button", { class: "btn btn-small btn-warn", name: "action", value: "pause", text: "Pause" }),
      el("button", { class: "btn btn-small btn-quiet", name: "action", value: "logout", text: "Log out" }));
  }

  function operatorRow(op) {
    return el("tr", { "data-name": op.name },
      el("td", {}, el("strong", { text: op.name }), " ", el("span", { class: "muted small", text: op.kind })),
      el("td", {}, el("span", { "data-field": "state" }), " ", el("span", { class: "muted small", "data-field": "reason" })),
      el("td", { class: "num", "data-field": "for", "data-label": "for" }),
      el("td", { class: "num", "data-field": "calls_today", "data-label": "calls today" }),
      el("td", {}, operatorForm(op)));
  }

  // Operators are updated in place (keyed by name) so a pause reason being chosen is not lost.
  function updateOperators(operators) {
    const body = document.getElementById("operators");
    const names = operators.map((op) => op.name).join("\n");
    const shown = Array.from(body.rows).map((row) => row.dataset.name).join("\n");
    if (names !== shown) body.replaceChildren(...operators.map(operatorRow));
    operators.forEach((op, i) => {
      const row = body.rows[i];
      const state = row.querySelector('[data-field="state"]');
      state.className = "badge badge-" + op.state;
      state.textContent = label(op.state);
      row.querySelector('[data-field="reason"]').textContent = op.reason || "";
      row.querySelector('[data-field="for"]').textContent = duration(op.for_s);
      row.querySelector('[data-field="calls_today"]').textContent = op.calls_today;
      const disabled = { ready: "ready", pause: "paused", logout: "logged_out" };
      row.querySelectorAll("button[name=action]").forEach((b) => { b.disabled = op.state === disabled[b.value]; });
    });
    root.querySelector('[data-empty-for="operators"]').hidden = operators.length > 0;
  }

  function updateFigures(f) {
    const shown = {
      offered: f.offered, answered: f.answered, abandoned: f.abandoned,
      service_level_pct: percent(f.service_level_pct),
      asa_s: duration(f.asa_s), aht_s: duration(f.aht_s), longest_wait_s: duration(f.longest_wait_s),
    };
    for (const [key, value] of Object.entries(shown)) {
      const node = root.querySelector('[data-figure="' + key + '"]');
      if (node) node.textContent = value;
    }
  }

  function updateHours(engine) {
    const pill = document.getElementById("hours-open");
    const open = engine && engine.hours.open;
    pill.textContent = engine ? (open ? "Open" : "Closed") : "Unknown";
    pill.className = "pill " + (engine ? (open ? "pill-ok" : "pill-closed") : "pill-unknown");
    root.querySelectorAll(".segmented button").forEach((b) => {
      b.disabled = !engine;
      b.setAttribute("aria-pressed", String(!!engine && engine.hours.override === b.dataset.mode));
    });
  }

  function render(data) {
    const engine = data.engine;
    document.getElementById("engine-down").hidden = !!engine;
    root.querySelector('[data-field="engine_error"]').textContent = data.engine_error || "";
    updateHours(engine);
    updateFigures(data.figures);
    const waiting = engine ? engine.waiting : [];
    document.getElementById("waiting-count").textContent = engine ? waiting.length : "–";
    fillTable("waiting", waiting, (w) => el("tr", {},
      el("td", { text: w.position }), el("td", { text: w.caller_id || "(no caller id)" }),
      el("td", { text: w.queue }), el("td", { class: "num", text: duration(w.wait_s) })));
    fillTable("calls", engine ? engine.calls : [], (c) => el("tr", {},
      el("td", {}, callLink(c)), el("td", {}, badge(c.state)), el("td", { text: c.queue || "" }),
      el("td", { text: c.operator || "" }), el("td", { class: "num", text: duration(c.for_s) })));
    updateOperators(engine ? engine.operators : []);
    fillTable("lines", engine ? engine.lines : [], (ln) => el("li", {},
      el("strong", { text: ln.name }), " ", el("span", { class: "muted", text: label(ln.kind) }), " ",
      badge(ln.state), " ", el("span", { class: "muted small", text: "from " + ln.allow.join(", ") })));
  }

  const dot = document.getElementById("live-dot");
  const updated = document.getElementById("updated");

  async function poll() {
    try {
      const response = await fetch(statusUrl, { headers: { Accept: "application/json" }, cache: "no-store" });
      if (response.status === 401) { window.location.reload(); return; }
      if (!response.ok) throw new Error("HTTP " + response.status);
      render(await response.json());
      dot.className = "dot dot-ok";
      updated.textContent = "Live · " + new Date().toLocaleTimeString();
    } catch (err) {
      dot.className = "dot dot-error";
      updated.textContent = "No answer from the web admin (" + err.message + ")";
    } finally {
      window.setTimeout(poll, pollMs);
    }
  }

  window.setTimeout(poll, pollMs);
})();

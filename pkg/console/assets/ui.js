// Small DOM helpers: elements, labelled fields, dialogs, messages, badges
// and dates. Text always goes in as text, never as markup.

// h makes an element: attributes (on* are listeners, true is present,
// false/null absent) and children (strings become text).
export function h(tag, attrs, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith("on") && typeof v === "function") e.addEventListener(k.slice(2), v);
    else e.setAttribute(k, v === true ? "" : v);
  }
  append(e, children);
  return e;
}

function append(e, children) {
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    if (Array.isArray(c)) append(e, c);
    else e.append(c);
  }
}

let seq = 0;

// field makes a labelled control with a hint and an error slot; name is
// the API's field name, so that its errors land next to it.
export function field(label, control, hint) {
  const id = control.id || "c" + (++seq);
  control.id = id;
  const err = h("span", { id: id + "-error", class: "error" });
  const described = [id + "-error"];
  let hintEl = null;
  if (hint) { hintEl = h("span", { id: id + "-hint", class: "hint" }, hint); described.push(id + "-hint"); }
  control.setAttribute("aria-describedby", described.join(" "));
  const lab = h("label", { for: id }, label, hintEl, control, err);
  lab.control_ = control;
  return lab;
}

export const input = (name, attrs) => h("input", Object.assign({ name, type: "text" }, attrs));

export function select(name, options, value, attrs) {
  const s = h("select", Object.assign({ name }, attrs));
  for (const o of options) {
    const [v, text] = Array.isArray(o) ? o : [o, o];
    s.append(h("option", { value: v, selected: v === value }, text));
  }
  return s;
}

// formErrors shows a problem on a form: each field error next to its
// control (by name), the rest in the form's alert; it returns whether any
// field got one.
export function formErrors(form, problem) {
  for (const c of form.querySelectorAll("[aria-invalid]")) c.removeAttribute("aria-invalid");
  for (const e of form.querySelectorAll(".error")) e.textContent = "";
  let alert = form.querySelector(".alert");
  if (!alert) { alert = h("p", { class: "alert", role: "alert", tabindex: "-1" }); form.prepend(alert); }
  alert.hidden = true;
  if (!problem) return false;
  const rest = [];
  let first = null;
  for (const fe of problem.errors || []) {
    const c = form.elements.namedItem(fe.field);
    const slot = c && c.id && document.getElementById(c.id + "-error");
    if (slot) {
      slot.textContent = cap(fe.message) + ".";
      c.setAttribute("aria-invalid", "true");
      first = first || c;
    } else {
      rest.push(fe.field + ": " + fe.message);
    }
  }
  if (rest.length || !first) {
    alert.textContent = explain(problem) + (rest.length ? " " + rest.join("; ") : "");
    alert.hidden = false;
  }
  (first || alert).focus?.();
  return !!first;
}

const cap = (s) => s.charAt(0).toUpperCase() + s.slice(1);

// explain is what a refusal says to an admin.
export function explain(p) {
  const known = {
    last_admin: "There must always be at least one active admin: this would leave none.",
    self_action: "You cannot do this to your own account.",
    no_seats: "Every license is taken: raise the license count in Settings, or free a seat first.",
    precondition_failed: "Someone else changed this meanwhile. Nothing was saved: reopen it to see their change.",
    forbidden: "Your role does not allow this.",
    throttled: "Too many attempts: wait a moment and try again.",
  };
  let msg = known[p.code] || p.message;
  if (p.code === "throttled" && p.retryAfter) msg = "Too many attempts: try again in " + Math.ceil(p.retryAfter / 60) + " minute(s).";
  return msg;
}

// dialog opens a modal dialog (Escape closes it, focus stays inside) and
// resolves with what close() was given, or null.
export function dialog(title, build) {
  return new Promise((resolve) => {
    const heading = h("h2", { id: "d" + (++seq) }, title);
    const d = h("dialog", { "aria-labelledby": heading.id }, heading);
    let result = null;
    const close = (v) => { result = v === undefined ? null : v; d.close(); };
    d.append(...[].concat(build(close)).filter(Boolean));
    d.addEventListener("close", () => { d.remove(); resolve(result); });
    document.body.append(d);
    d.showModal();
    const focus = d.querySelector("[autofocus]") || d.querySelector("input:not([hidden]), select, textarea, button");
    if (focus) focus.focus();
  });
}

// confirm asks before an action; with typed, the admin must type it.
export function confirm(title, message, label, opts = {}) {
  return dialog(title, (close) => {
    const typed = opts.typed ? input("typed", { autocomplete: "off", "data-confirm": "" }) : null;
    const ok = h("button", { type: "submit", class: opts.danger ? "danger" : "" }, label);
    const form = h("form", { class: "stack", onsubmit: (ev) => {
      ev.preventDefault();
      if (typed && typed.value.trim() !== opts.typed) { typed.setAttribute("aria-invalid", "true"); typed.focus(); return; }
      close(true);
    } },
    h("p", {}, message),
    typed ? field("Type " + opts.typed + " to confirm", typed) : null,
    h("div", { class: "actions" }, ok, h("button", { type: "button", class: "secondary", onclick: () => close(false) }, "Cancel")));
    return form;
  });
}

let toastTimer = 0;
// say announces a short message to everyone, screen readers included.
export function say(msg) {
  const s = document.getElementById("status");
  s.textContent = msg;
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => { s.textContent = ""; }, 6000);
}

export const badge = (value, text) => value ? h("span", { class: "badge b-" + value }, text || value.replace("_", " ")) : h("span", { class: "muted" }, "—");

export function when(iso) {
  if (!iso) return "—";
  const d = new Date(iso);
  return d.toLocaleString(undefined, { dateStyle: "medium", timeStyle: "short" });
}

export function ago(iso) {
  if (!iso) return "never";
  const s = (Date.now() - new Date(iso).getTime()) / 1000;
  if (s < 60) return "just now";
  const units = [[60, "minute"], [3600, "hour"], [86400, "day"], [2592000, "month"], [31536000, "year"]];
  let u = units[0];
  for (const x of units) if (s >= x[0]) u = x;
  const n = Math.floor(s / u[0]);
  return n + " " + u[1] + (n === 1 ? "" : "s") + " ago";
}

// copy puts text on the clipboard, and says so.
export async function copy(text, what) {
  try {
    await navigator.clipboard.writeText(text);
    say((what || "Text") + " copied to the clipboard.");
  } catch {
    say("Copying is not allowed here: select the text and copy it.");
  }
}

// secretBox shows a secret once, with a copy button.
export function secretBox(label, value, id) {
  const box = h("p", { class: "secret", id: id || null, tabindex: "0", "aria-label": label }, value);
  return h("div", { class: "stack" },
    h("p", { class: "hint" }, label + ": shown this once. Copy it now."),
    box,
    h("div", { class: "actions" }, h("button", { type: "button", class: "secondary", "data-copy": "", onclick: () => copy(value, label) }, "Copy")));
}

// table makes a table whose cells say their column at phone width.
export function table(caption, headers, rows, empty) {
  if (!rows.length) return h("p", { class: "muted card" }, empty || "Nothing to show.");
  return h("div", { class: "table-wrap" }, h("table", { class: "responsive" },
    h("caption", { class: "vh" }, caption),
    h("thead", {}, h("tr", {}, headers.map((t) => h("th", { scope: "col" }, t)))),
    h("tbody", {}, rows.map((cells) => h("tr", cells.attrs || {}, cells.map((c, i) => h("td", { "data-label": headers[i] }, c)))))));
}

// submitting disables a form's buttons while fn runs, and shows its
// refusal on the form.
export async function submitting(form, fn) {
  const buttons = [...form.querySelectorAll("button")];
  buttons.forEach((b) => { b.disabled = true; });
  try {
    formErrors(form, null);
    return await fn();
  } catch (p) {
    formErrors(form, p);
    return undefined;
  } finally {
    buttons.forEach((b) => { b.disabled = false; });
  }
}

export const values = (form) => Object.fromEntries(new FormData(form).entries());

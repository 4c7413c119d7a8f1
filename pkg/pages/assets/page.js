"use strict";
// Shared by the hosted pages: read the token, then take it out of the
// address bar (and so out of the history and of any referrer), call the
// API on this origin, and show its answers, field errors next to fields.
const page = (() => {
  const params = new URLSearchParams(location.search);
  const fromHash = new URLSearchParams(location.hash.slice(1));
  const token = params.get("token") || fromHash.get("token") || "";
  if (params.has("token") || fromHash.has("token")) {
    history.replaceState(null, "", location.pathname);
  }
  const main = document.getElementById("main");
  const el = (tag, attrs, ...children) => {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v !== undefined && v !== null && v !== false) e.setAttribute(k, v === true ? "" : v);
    }
    for (const c of children) e.append(c);
    return e;
  };
  const show = (title, ...nodes) => {
    main.replaceChildren(el("h1", { id: "title", tabindex: "-1" }, title), ...nodes);
    document.getElementById("title").focus();
  };
  const call = async (method, path, body) => {
    const res = await fetch(path, {
      method,
      headers: body ? { "Content-Type": "application/json" } : {},
      body: body ? JSON.stringify(body) : undefined,
      credentials: "omit",
      cache: "no-store",
    });
    let data = null;
    const text = await res.text();
    if (text) { try { data = JSON.parse(text); } catch { data = null; } }
    return { status: res.status, data };
  };
  // field makes a labelled input with its error slot.
  const field = (name, label, type, attrs, hint) => {
    const id = "f-" + name;
    const err = el("span", { id: id + "-error", class: "error", role: "alert" });
    const input = el("input", Object.assign({ id, name, type, "aria-describedby": id + "-error" + (hint ? " " + id + "-hint" : "") }, attrs));
    const lab = el("label", { for: id }, label);
    if (hint) lab.append(el("span", { id: id + "-hint", class: "hint" }, hint));
    lab.append(input, err);
    return { label: lab, input, err };
  };
  // showErrors puts each of a problem's field errors next to its field and
  // returns the messages of those that have none.
  const showErrors = (fields, problem) => {
    for (const f of Object.values(fields)) { f.err.textContent = ""; f.input.removeAttribute("aria-invalid"); }
    const rest = [];
    for (const e of (problem && problem.errors) || []) {
      const f = fields[e.field];
      if (f) {
        f.err.textContent = e.message.charAt(0).toUpperCase() + e.message.slice(1) + ".";
        f.input.setAttribute("aria-invalid", "true");
      } else {
        rest.push(e.field + " " + e.message);
      }
    }
    const first = Object.values(fields).find((f) => f.input.getAttribute("aria-invalid"));
    if (first) first.input.focus();
    return rest;
  };
  const when = (iso) => new Date(iso).toLocaleString(undefined, { dateStyle: "full", timeStyle: "short" });
  return { token, main, el, show, call, field, showErrors, when };
})();

// The lists an admin reads: invitations, sessions, sign-in attempts and
// the audit log, each with its filters and "load more".
import { get, post, del } from "./api.js";
import { h, field, input, select, say, badge, when, ago, explain, table, confirm } from "./ui.js";
import { teamName } from "./state.js";

// paged renders a list page by page: fetch(cursor) gives a page, row(item)
// its cells.
export function paged(caption, headers, fetch, row, empty) {
  const box = h("div", {});
  const more = h("div", { class: "more" });
  let items = [];
  let cursor = "";
  let latest = 0; // only the latest request's answer is shown
  const load = async (append) => {
    const mine = ++latest;
    try {
      const page = await fetch(append ? cursor : "");
      if (mine !== latest) return;
      items = append ? items.concat(page.items) : page.items;
      cursor = page.next_cursor || "";
      box.replaceChildren(table(caption, headers, items.map(row), empty));
      more.replaceChildren(cursor ? h("button", { type: "button", class: "secondary", onclick: () => load(true) }, "Load more") : "");
    } catch (p) {
      if (mine === latest) box.replaceChildren(h("p", { class: "alert", role: "alert" }, explain(p)));
    }
  };
  return { el: h("div", {}, box, more), load };
}

// act is a button that runs fn, says what happened, and reloads.
export function act(label, aria, fn, reload, cls) {
  const b = h("button", { type: "button", class: "small " + (cls || "secondary"), "aria-label": aria, onclick: async () => {
    b.disabled = true;
    try { const msg = await fn(); if (msg !== false) { if (msg) say(msg); await reload(); } } catch (p) { say(label + ": " + explain(p)); }
    finally { b.disabled = false; }
  } }, label);
  return b;
}

const heading = (text) => h("h1", { id: "view-title", tabindex: "-1" }, text);

const filterBar = (controls, apply) => h("form", { class: "toolbar", "aria-label": "Filters", onchange: apply, onsubmit: (ev) => { ev.preventDefault(); apply(); } }, controls);

export async function invitationsView(root) {
  const status = select("status", [["", "Any status"], "pending", "accepted", "declined", "expired", "cancelled"], "pending", { id: "inv-status" });
  const list = paged("Invitations", ["Email", "Role", "Team", "Status", "Sent", "Expires", "Actions"],
    (cursor) => get("/invitations", { status: status.value, cursor, limit: 50 }),
    (inv) => [inv.email, badge(inv.role), teamName(inv.team_id) || "—", badge(inv.status),
      inv.sent_count + "× · " + ago(inv.last_sent_at), when(inv.expires_at),
      inv.status === "pending" ? h("div", { class: "actions" },
        act("Resend", "Resend the invitation to " + inv.email, async () => { await post("/invitations/" + inv.id + "/resend"); return "Sent again to " + inv.email + "."; }, () => list.load()),
        act("Revoke", "Revoke the invitation to " + inv.email, async () => {
          if (!await confirm("Revoke the invitation?", "The link sent to " + inv.email + " stops working.", "Revoke", { danger: true })) return false;
          await del("/invitations/" + inv.id); return "Revoked.";
        }, () => list.load())) : ""],
    "No invitation in this state.");
  root.append(heading("Invitations"), filterBar([field("Status", status)], () => list.load()), list.el);
  await list.load();
}

export async function sessionsView(root) {
  const user = input("user_id", { id: "sessions-user", placeholder: "usr_…", autocomplete: "off" });
  const list = paged("Sessions", ["User", "Device", "IP", "Started", "Last active", "Actions"],
    (cursor) => get("/sessions", { user_id: user.value.trim(), cursor, limit: 50 }),
    (s) => [[s.user_display_name || s.user_id, h("span", { class: "sub" }, s.user_id)], s.device || "—", s.ip || "—", when(s.created_at), ago(s.last_active_at),
      s.current ? h("span", { class: "muted" }, "this session") :
        act("Revoke", "Revoke the session of " + (s.user_display_name || s.user_id) + " on " + (s.device || "a device"), async () => { await del("/sessions/" + s.id); return "Session revoked."; }, () => list.load())],
    "No active session.");
  const endAll = h("button", { type: "button", class: "danger", disabled: true, onclick: async () => {
    const id = user.value.trim();
    if (!await confirm("End every session of this user?", "They are signed out everywhere at once.", "End all", { danger: true })) return;
    try { await del("/users/" + encodeURIComponent(id) + "/sessions"); say("Every session of " + id + " is ended."); await list.load(); } catch (p) { say(explain(p)); }
  } }, "End all of this user's sessions");
  const apply = () => { endAll.disabled = !user.value.trim(); list.load(); };
  root.append(heading("Sessions"), filterBar([field("User id", user, "Leave empty for everyone's"), h("div", { class: "actions" }, h("button", { type: "submit", class: "secondary" }, "Filter"), endAll)], apply), list.el);
  await list.load();
}

export async function attemptsView(root) {
  const user = input("user_id", { placeholder: "usr_…", autocomplete: "off" });
  const success = select("success", [["", "Any outcome"], ["true", "Succeeded"], ["false", "Failed"]], "");
  const since = input("since", { type: "datetime-local" });
  const list = paged("Sign-in attempts", ["When", "Login", "Outcome", "IP", "Browser"],
    (cursor) => get("/login-attempts", { user_id: user.value.trim(), success: success.value, since: isoOf(since.value), cursor, limit: 50 }),
    (a) => [when(a.at), [a.login || "—", a.user_id ? h("span", { class: "sub" }, a.user_id) : null],
      a.success ? badge("ok", "signed in") : badge("bad", (a.reason || "failed").replace(/_/g, " ")), a.ip || "—", a.user_agent || "—"],
    "No sign-in attempt matches.");
  root.append(heading("Sign-in attempts"), filterBar([field("User id", user), field("Outcome", success), field("Since", since)], () => list.load()), list.el);
  await list.load();
}

export async function auditView(root) {
  const actor = input("actor_id", { autocomplete: "off" });
  const target = input("target_id", { autocomplete: "off" });
  const action = input("action", { autocomplete: "off", placeholder: "user.deactivated" });
  const since = input("since", { type: "datetime-local" });
  const list = paged("Audit events", ["When", "Action", "Actor", "Target", "IP", "Details"],
    (cursor) => get("/audit-events", { actor_id: actor.value.trim(), target_id: target.value.trim(), action: action.value.trim(), since: isoOf(since.value), cursor, limit: 50 }),
    (e) => [when(e.at), h("code", {}, e.action), [e.actor_type, h("span", { class: "sub" }, e.actor_id || "")], [e.target_type || "", h("span", { class: "sub" }, e.target_id || "")],
      e.ip || "—", h("span", { class: "sub" }, e.details && Object.keys(e.details).length ? JSON.stringify(e.details) : "")],
    "No audit event matches.");
  root.append(heading("Audit log"), filterBar([field("Actor id", actor), field("Target id", target), field("Action", action), field("Since", since)], () => list.load()), list.el);
  await list.load();
}

// isoOf turns a datetime-local value into RFC 3339 UTC.
const isoOf = (v) => v ? new Date(v).toISOString().replace(/\.\d{3}Z$/, "Z") : "";


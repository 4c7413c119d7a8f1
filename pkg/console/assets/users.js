// Users: the usage summary, the table with its search and filters, and
// what can be done to each user in each state.
import { call, get, post, del } from "./api.js";
import { h, field, input, select, dialog, confirm, say, badge, when, ago, submitting, explain, secretBox } from "./ui.js";
import { state, isAdmin, teamName, mayManage } from "./state.js";

const statuses = ["invited", "active", "deactivated", "in_deletion", "anonymized"];
const roles = ["admin", "manager", "member"];
const usages = ["registered", "connected", "used"];
const any = (label) => [["", label]];

export async function usersView(root, alive) {
  const filters = { search: "", team_id: "", status: "", role: "", usage: "" };
  const summary = h("div", { id: "summary", class: "summary", "aria-label": "Usage summary", role: "region" });
  const list = h("div", { id: "users" });
  const more = h("div", { class: "more" });
  const search = input("search", { type: "search", id: "user-search", placeholder: "Email, username or name", autocomplete: "off" });
  const f = {
    team_id: select("team_id", any("Any team").concat(state.teams.map((t) => [t.id, t.name])), "", { id: "filter-team" }),
    status: select("status", any("Any status").concat(statuses.map((s) => [s, s.replace("_", " ")])), "", { id: "filter-status" }),
    role: select("role", any("Any role").concat(roles.map((r) => [r, r])), "", { id: "filter-role" }),
    usage: select("usage", any("Any usage").concat(usages.map((u) => [u, u])), "", { id: "filter-usage" }),
  };
  let timer = 0;
  search.addEventListener("input", () => { clearTimeout(timer); timer = setTimeout(() => { filters.search = search.value.trim(); load(); }, 250); });
  for (const [k, s] of Object.entries(f)) s.addEventListener("change", () => { filters[k] = s.value; load(); });
  const teamFilter = field("Team", f.team_id);
  teamFilter.hidden = !isAdmin(); // a manager's lists are their team's already

  root.append(...[
    h("div", { class: "toolbar" },
      h("h1", { id: "view-title", tabindex: "-1" }, "Users"),
      h("div", { class: "actions" },
        h("button", { type: "button", id: "create-user", onclick: () => createUser(reload) }, "Create user"),
        h("button", { type: "button", id: "invite-user", class: "secondary", onclick: () => inviteUser(reload) }, "Invite user"))),
    isAdmin() ? summary : null,
    h("form", { class: "toolbar", role: "search", "aria-label": "Find users", onsubmit: (ev) => { ev.preventDefault(); filters.search = search.value.trim(); load(); } },
      h("label", { class: "grow", for: search.id }, "Search", search),
      teamFilter, field("Status", f.status), field("Role", f.role), field("Usage", f.usage)),
    list, more].filter(Boolean));

  let cursor = null;
  let rows = [];

  async function loadSummary() {
    if (!isAdmin()) return;
    const s = await get("/summary");
    if (!alive()) return;
    const pct = (n) => Math.round(n) + "%";
    const bar = (n) => h("span", { class: "bar", "aria-hidden": "true" }, h("span", { class: "w" + Math.min(100, Math.round(n / 10) * 10) }));
    const stat = (id, n, label, extra) => h("div", { class: "stat", id: "summary-" + id }, h("span", { class: "n" }, String(n)), h("span", { class: "l" }, label), extra || null);
    summary.replaceChildren(
      stat("licenses", s.licenses || "Unlimited", "licenses"),
      stat("registered", s.registered, s.licenses ? "registered · " + pct(s.registered_pct) + " of licenses" : "registered", s.licenses ? bar(s.registered_pct) : null),
      stat("used", s.used, s.licenses ? "used · " + pct(s.used_pct) + " of licenses" : "used", s.licenses ? bar(s.used_pct) : null),
      stat("invited-not-registered", s.invited_not_registered, "invited, not registered"),
      stat("registered-not-connected", s.registered_not_connected, "registered, never signed in"),
      stat("connected-not-used", s.connected_not_used, "signed in, not used yet"));
  }

  // Filters change faster than the server answers: only the answer to
  // the latest request is shown, whatever order they arrive in.
  let latest = 0;
  async function load(append) {
    const params = Object.assign({ limit: 50 }, filters, { cursor: append ? cursor : "" });
    const mine = ++latest;
    let page;
    try {
      page = await get("/users", params);
      if (mine !== latest) return;
    } catch (p) {
      if (!alive() || mine !== latest) return;
      const fields = (p.errors || []).map((x) => x.field + " " + x.message).join("; ");
      list.replaceChildren(h("p", { class: "alert", role: "alert", id: "users-error" }, explain(p) + (fields ? " (" + fields + ")" : "")));
      more.replaceChildren();
      return;
    }
    if (!alive()) return;
    rows = append ? rows.concat(page.items) : page.items;
    cursor = page.next_cursor;
    render();
  }

  function render() {
    const headers = ["User", "Team", "Role", "Status", "Last seen", "Actions"];
    const t = rows.length ? null : h("p", { class: "muted card", id: "users-empty" }, "No user matches.");
    list.replaceChildren(t || tableOf(headers, rows.map((u) => row(u, reload))));
    more.replaceChildren(cursor ? h("button", { type: "button", class: "secondary", id: "load-more", onclick: () => load(true) }, "Load more") : "");
  }

  async function reload() {
    await Promise.all([load(false), loadSummary().catch(() => {})]);
  }

  await reload();
}

function tableOf(headers, rows) {
  return h("div", { class: "table-wrap" }, h("table", { class: "responsive", id: "users-table" },
    h("caption", { class: "vh" }, "Users, newest first"),
    h("thead", {}, h("tr", {}, headers.map((x) => h("th", { scope: "col" }, x)))),
    h("tbody", {}, rows.map((cells) => h("tr", cells.attrs, cells.map((c, i) => h("td", { "data-label": headers[i] }, c)))))));
}

function row(u, reload) {
  const name = u.display_name || [u.given_name, u.family_name].filter(Boolean).join(" ") || "—";
  const cells = [
    [h("strong", {}, name), h("span", { class: "sub" }, u.email || "(anonymized)"), u.username ? h("span", { class: "sub" }, "@" + u.username) : null],
    u.team_id ? teamName(u.team_id) : h("span", { class: "muted" }, "—"),
    badge(u.role),
    [badge(u.status), " ", u.usage ? badge(u.usage) : null,
      u.status === "in_deletion" && u.purge_after ? h("span", { class: "sub" }, "purged " + when(u.purge_after)) : null],
    seen(u.last_seen_at || u.last_login_at),
    h("div", { class: "actions" }, actionsFor(u, reload)),
  ];
  cells.attrs = { "data-email": u.email || "", "data-id": u.id, "data-status": u.status };
  return cells;
}

// actionsFor offers what the state allows and the role may do; the server
// has the last word, and its refusal is shown.
const seen = (at) => at ? h("span", { title: when(at) }, ago(at)) : h("span", { class: "muted" }, "never");

function actionsFor(u, reload) {
  if (!mayManage(u) || u.status === "anonymized") return [];
  const self = state.me && state.me.id === u.id;
  const who = u.email || u.id;
  const b = (action, label, fn, cls) => h("button", { type: "button", class: "small " + (cls || "secondary"), "data-action": action,
    "aria-label": label + " " + who, onclick: async (ev) => {
      const btn = ev.currentTarget;
      btn.disabled = true;
      try {
        if (await fn() !== false) await reload();
      } catch (p) {
        await refused(label, p);
      } finally { btn.disabled = false; }
    } }, label);
  const simple = (path, done) => async () => { await post("/users/" + u.id + path); say(done); };
  const out = [];
  switch (u.status) {
    case "invited":
      out.push(b("resend", "Resend", async () => { await post("/invitations/" + invitationOf(u) + "/resend"); say("Invitation sent again to " + who + "."); }));
      out.push(b("revoke", "Revoke", async () => {
        if (!await confirm("Revoke the invitation?", "The invitation to " + who + " stops working and the account is removed.", "Revoke", { danger: true })) return false;
        await del("/invitations/" + invitationOf(u)); say("Invitation to " + who + " revoked.");
      }));
      break;
    case "active":
      out.push(b("edit", "Edit", () => editUser(u, self)));
      if (!self) out.push(b("deactivate", "Deactivate", async () => {
        if (!await confirm("Deactivate " + who + "?", "They are signed out everywhere at once and cannot sign in until activated again; their API keys stop working. Nothing is deleted.", "Deactivate", { danger: true })) return false;
        return simple("/deactivate", who + " is deactivated.")();
      }));
      if (!self) out.push(b("reset", "Reset password", () => resetPassword(u)));
      out.push(b("sessions", "Sessions", () => userSessions(u)));
      if (!self) out.push(b("delete", "Delete", async () => {
        if (!await confirm("Delete " + who + "?", "The account stops working at once and is purged after the grace period (see Settings); until then it can be restored.", "Delete", { danger: true })) return false;
        await del("/users/" + u.id); say(who + " is scheduled for deletion.");
      }));
      break;
    case "deactivated":
      out.push(b("edit", "Edit", () => editUser(u, self)));
      out.push(b("activate", "Activate", simple("/activate", who + " is active again.")));
      out.push(b("reset", "Reset password", () => resetPassword(u)));
      if (!self) out.push(b("anonymize", "Anonymize", async () => {
        if (!await confirm("Anonymize " + who + "?", "This is irreversible: the email, names and username, and the addresses of their sessions and sign-ins, are erased everywhere. The account can never be restored.", "Anonymize for ever", { danger: true, typed: "ANONYMIZE" })) return false;
        return simple("/anonymize", "The account is anonymized.")();
      }, "danger"));
      break;
    case "in_deletion":
      out.push(b("restore", "Restore", simple("/restore", who + " is restored.")));
      break;
  }
  return out;
}

async function refused(what, p) {
  await dialog(what + ": refused", (close) => [
    h("p", { class: "alert", role: "alert", id: "refusal" }, explain(p)),
    h("div", { class: "actions" }, h("button", { type: "button", onclick: () => close() }, "OK")),
  ]);
}

// invitationOf is the id of an invited user's pending invitation, which
// the user carries: no search through the invitations, which would miss
// one behind more pages than it reads.
function invitationOf(u) {
  if (!u.invitation_id) throw new Error("No pending invitation to " + u.email + " was found: it may have just expired.");
  return u.invitation_id;
}

const roleOptions = () => isAdmin() ? roles : ["member"];

function teamSelect(value) {
  if (!isAdmin()) {
    const mine = state.me.team_id;
    return select("team_id", [[mine || "", teamName(mine) || "No team"]], mine || "", { disabled: true });
  }
  return select("team_id", [["", "No team"]].concat(state.teams.map((t) => [t.id, t.name])), value || "");
}

const teamValue = (form) => isAdmin() ? (form.elements.team_id.value || null) : (state.me.team_id || null);

function createUser(reload) {
  return dialog("Create user", (close) => {
    const form = h("form", { class: "stack", id: "create-form", novalidate: true, onsubmit: async (ev) => {
      ev.preventDefault();
      const v = form.elements;
      await submitting(form, async () => {
        const body = { email: v.email.value.trim(), given_name: v.given_name.value.trim(), family_name: v.family_name.value.trim(),
          password: v.password.value, role: v.role.value, team_id: teamValue(form) };
        if (v.username.value.trim()) body.username = v.username.value.trim();
        const u = await post("/users", body);
        say(u.email + " is created and can sign in now.");
        close(u);
        await reload();
      });
    } },
    h("div", { class: "grid2" },
      field("Email", input("email", { type: "email", autocomplete: "off", required: true, autofocus: true })),
      field("Username", input("username", { autocomplete: "off" }), "Optional"),
      field("Given name", input("given_name", { required: true })),
      field("Family name", input("family_name", { required: true })),
      field("Role", select("role", roleOptions(), "member")),
      field("Team", teamSelect(isAdmin() ? "" : state.me.team_id))),
    field("Password", input("password", { type: "password", autocomplete: "new-password", required: true }), "Share it with them safely; they can change it under My account."),
    h("div", { class: "actions" }, h("button", { type: "submit", id: "create-submit" }, "Create"), h("button", { type: "button", class: "secondary", onclick: () => close() }, "Cancel")));
    return form;
  });
}

function inviteUser(reload) {
  return dialog("Invite user", (close) => {
    const form = h("form", { class: "stack", id: "invite-form", novalidate: true, onsubmit: async (ev) => {
      ev.preventDefault();
      const v = form.elements;
      await submitting(form, async () => {
        const body = { email: v.email.value.trim(), role: v.role.value, team_id: teamValue(form) };
        if (v.message.value.trim()) body.message = v.message.value.trim();
        const inv = await post("/invitations", body);
        say("Invitation sent to " + inv.email + ".");
        close(inv);
        await reload();
      });
    } },
    field("Email", input("email", { type: "email", autocomplete: "off", required: true, autofocus: true })),
    h("div", { class: "grid2" }, field("Role", select("role", roleOptions(), "member")), field("Team", teamSelect(isAdmin() ? "" : state.me.team_id))),
    field("Personal message", h("textarea", { name: "message", maxlength: "1000" }), "Optional; shown in the email and on the accept page"),
    h("div", { class: "actions" }, h("button", { type: "submit", id: "invite-submit" }, "Send invitation"), h("button", { type: "button", class: "secondary", onclick: () => close() }, "Cancel")));
    return form;
  });
}

// editUser reads the user with its ETag and sends only what changed, with
// If-Match: an edit made meanwhile by someone else is reported, never
// overwritten. One's own account offers the names only: its email,
// username, role and team are not changed here (the API refuses it), and
// its password is changed in My account, with the current one.
async function editUser(u, self) {
  const res = await call("GET", "/users/" + u.id);
  const cur = res.data;
  const etag = res.etag;
  return dialog("Edit " + (cur.email || cur.id), (close) => {
    const fields = { given_name: cur.given_name, family_name: cur.family_name, display_name: cur.display_name };
    if (!self) Object.assign(fields, { email: cur.email, username: cur.username || "" });
    const form = h("form", { class: "stack", id: "edit-form", novalidate: true, onsubmit: async (ev) => {
      ev.preventDefault();
      const v = form.elements;
      const body = {};
      for (const k of Object.keys(fields)) {
        const now = v[k].value.trim();
        if (now !== (fields[k] || "")) body[k] = k === "username" && now === "" ? null : now;
      }
      if (isAdmin() && !self) {
        if (v.role.value !== cur.role) body.role = v.role.value;
        const team = v.team_id.value || null;
        if (team !== (cur.team_id || null)) body.team_id = team;
      }
      if (!Object.keys(body).length) { close(false); return false; }
      await submitting(form, async () => {
        await call("PATCH", "/users/" + u.id, { body, ifMatch: etag });
        say("Saved " + (body.email || cur.email) + ".");
        close(true);
      });
    } },
    h("div", { class: "grid2" },
      field("Given name", input("given_name", { value: cur.given_name || "" })),
      field("Family name", input("family_name", { value: cur.family_name || "" })),
      field("Display name", input("display_name", { value: cur.display_name || "" })),
      self ? null : field("Username", input("username", { value: cur.username || "", autocomplete: "off" })),
      self ? null : field("Email", input("email", { type: "email", value: cur.email || "", autocomplete: "off" }), "They are told of the change by email"),
      isAdmin() && !self ? field("Role", select("role", roles, cur.role, { id: "edit-role" }), "Admin makes them an admin; another role removes it") : null,
      isAdmin() && !self ? field("Team", teamSelect(cur.team_id)) : null),
    self ? h("p", { class: "muted", id: "edit-self-note" }, "This is your own account: your email, username, role and team are changed by another admin, and your password in My account.") : null,
    h("div", { class: "actions" }, h("button", { type: "submit", id: "edit-submit" }, "Save"), h("button", { type: "button", class: "secondary", onclick: () => close() }, "Cancel")));
    return form;
  });
}

// resetPassword: set one to share, or make a reset link to copy, or
// email the link to them.
function resetPassword(u) {
  const who = u.email || u.id;
  return dialog("Reset the password of " + who, (close) => {
    const out = h("div", { id: "reset-result" });
    const link = async (send) => {
      const r = await post("/users/" + u.id + "/password-reset", { send_email: send });
      out.replaceChildren(...[
        send ? h("p", { class: "notice" }, "A reset link was emailed to " + who + ". It works once, until " + when(r.expires_at) + ".") : null,
        secretBox("Reset link", r.reset_url, "reset-link")].filter(Boolean));
    };
    const pw = input("password", { type: "password", autocomplete: "new-password", id: "reset-new-password" });
    // The account the password is for, hidden: what a password manager
    // saves it under (and Chromium asks every password form for one).
    const account = input("email", { type: "email", autocomplete: "username", value: u.email || "", readonly: true, hidden: true, id: "reset-username" });
    const end = h("input", { type: "checkbox", name: "end_sessions", checked: true, id: "reset-end-sessions" });
    const form = h("form", { class: "stack", id: "set-password-form", novalidate: true, onsubmit: async (ev) => {
      ev.preventDefault();
      await submitting(form, async () => {
        await call("PUT", "/users/" + u.id + "/password", { body: { password: pw.value, end_sessions: end.checked } });
        pw.value = "";
        out.replaceChildren(h("p", { class: "notice", role: "status" }, "The new password is set. Share it with " + who + " safely."));
      });
    } },
    account,
    field("Set a new password", pw),
    h("label", { class: "check", for: end.id }, end, "Sign them out everywhere"),
    h("div", { class: "actions" }, h("button", { type: "submit" }, "Set password")));
    const linkForm = h("form", { class: "stack", onsubmit: (ev) => ev.preventDefault() },
      h("p", { class: "muted" }, "Or let them choose one, with a single-use link:"),
      h("div", { class: "actions" },
        h("button", { type: "button", id: "reset-copy-link", class: "secondary", onclick: () => submitting(linkForm, () => link(false)) }, "Make a link to copy"),
        h("button", { type: "button", id: "reset-email-link", class: "secondary", onclick: () => submitting(linkForm, () => link(true)) }, "Email them a link")));
    return [form, linkForm, out, h("div", { class: "actions" }, h("button", { type: "button", onclick: () => close() }, "Done"))];
  });
}

async function userSessions(u) {
  const page = await get("/users/" + u.id + "/sessions");
  return dialog("Sessions of " + (u.email || u.id), (close) => {
    const items = page.items.map((s) => [s.device || s.user_agent || "—", s.ip || "—", when(s.created_at), ago(s.last_active_at)]);
    const note = h("p", { class: "muted" }, page.items.length + " active session(s).");
    return [note,
      items.length ? tableSimple(["Device", "IP", "Started", "Last active"], items) : null,
      h("div", { class: "actions" },
        page.items.length ? h("button", { type: "button", class: "danger", id: "end-user-sessions", onclick: async () => {
          try { await del("/users/" + u.id + "/sessions"); say("Every session of " + (u.email || u.id) + " is ended."); close(true); } catch (p) { note.textContent = explain(p); }
        } }, "End them all") : null,
        h("button", { type: "button", class: "secondary", onclick: () => close() }, "Close"))];
  });
}

function tableSimple(headers, rows) {
  return h("div", { class: "table-wrap" }, h("table", { class: "responsive" },
    h("thead", {}, h("tr", {}, headers.map((x) => h("th", { scope: "col" }, x)))),
    h("tbody", {}, rows.map((r) => h("tr", {}, r.map((c, i) => h("td", { "data-label": headers[i] }, c)))))));
}


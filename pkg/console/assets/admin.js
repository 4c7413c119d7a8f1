// Teams, system API keys, the settings, and the signed-in user's own
// account.
import { call, get, post, del } from "./api.js";
import { h, field, input, select, say, badge, when, ago, explain, confirm, submitting, secretBox, dialog } from "./ui.js";
import { state } from "./state.js";
import { paged, act } from "./records.js";

const heading = (text) => h("h1", { id: "view-title", tabindex: "-1" }, text);

async function refreshTeams() {
  state.teams = (await get("/teams", { limit: 100 })).items;
}

export async function teamsView(root) {
  const list = paged("Teams", ["Name", "Members", "Created", "Actions"],
    async (cursor) => { const p = await get("/teams", { cursor, limit: 100 }); if (!cursor) state.teams = p.items; return p; },
    (t) => [t.name, String(t.member_count), when(t.created_at), h("div", { class: "actions" },
      act("Rename", "Rename " + t.name, () => renameTeam(t), () => list.load()),
      act("Delete", "Delete " + t.name, async () => {
        if (!await confirm("Delete " + t.name + "?", "Its " + t.member_count + " member(s) keep their accounts, with no team.", "Delete", { danger: true })) return false;
        await del("/teams/" + t.id); return t.name + " is deleted.";
      }, () => list.load()))],
    "No team yet.");
  const name = input("name", { id: "team-name", autocomplete: "off", required: true });
  const form = h("form", { class: "toolbar", id: "team-form", novalidate: true, onsubmit: async (ev) => {
    ev.preventDefault();
    await submitting(form, async () => { const t = await post("/teams", { name: name.value.trim() }); name.value = ""; say("Team " + t.name + " created."); await list.load(); });
  } }, h("label", { class: "grow", for: name.id }, "New team", name, h("span", { id: name.id + "-error", class: "error" })), h("button", { type: "submit" }, "Create team"));
  name.setAttribute("aria-describedby", name.id + "-error");
  root.append(heading("Teams"), form, list.el);
  await list.load();
}

function renameTeam(t) {
  return dialog("Rename " + t.name, (close) => {
    const form = h("form", { class: "stack", novalidate: true, onsubmit: async (ev) => {
      ev.preventDefault();
      await submitting(form, async () => { await call("PATCH", "/teams/" + t.id, { body: { name: form.elements.name.value.trim() } }); await refreshTeams(); close("Renamed."); });
    } }, field("Name", input("name", { value: t.name, required: true })),
    h("div", { class: "actions" }, h("button", { type: "submit" }, "Save"), h("button", { type: "button", class: "secondary", onclick: () => close(false) }, "Cancel")));
    return form;
  });
}

// keyForm makes an API key and shows its secret once.
function keyForm(path, withRole, reload) {
  const out = h("div", { id: "new-key" });
  const fields = [field("Name", input("name", { required: true, autocomplete: "off", id: path === "/api-keys" ? "key-name" : "my-key-name" }))];
  if (withRole) {
    fields.push(field("Role", select("role", ["member", "manager", "admin"], "member", { id: "key-role" })));
    fields.push(field("Team", select("team_id", [["", "No team"]].concat(state.teams.map((t) => [t.id, t.name])), "", { id: "key-team" }), "A manager key acts on its team"));
  }
  fields.push(field("Expires in (days)", input("expires_in_days", { type: "number", min: "1", max: "3650", inputmode: "numeric" }), "Empty: never"));
  const form = h("form", { class: "stack", novalidate: true, onsubmit: async (ev) => {
    ev.preventDefault();
    const v = form.elements;
    const body = { name: v.name.value.trim() };
    if (withRole) { body.role = v.role.value; if (v.team_id.value) body.team_id = v.team_id.value; }
    if (v.expires_in_days.value) body.expires_in_days = Number(v.expires_in_days.value);
    await submitting(form, async () => {
      const k = await post(path, body);
      v.name.value = "";
      out.replaceChildren(secretBox("The key " + k.name, k.key, "key-secret"));
      await reload();
    });
  } }, h("div", { class: "grid2" }, fields), h("div", { class: "actions" }, h("button", { type: "submit", id: path === "/api-keys" ? "key-submit" : "my-key-submit" }, "Create key")));
  return h("div", { class: "card" }, h("h2", {}, "New key"), form, out);
}

const keyRow = (path, reload) => (k) => [[k.name, h("span", { class: "sub" }, k.prefix + "…")], k.role ? badge(k.role) : "—", when(k.created_at),
  ago(k.last_used_at), k.expires_at ? when(k.expires_at) : "never",
  act("Revoke", "Revoke the key " + k.name, async () => {
    if (!await confirm("Revoke " + k.name + "?", "Whatever uses it is refused from its next request.", "Revoke", { danger: true })) return false;
    await del(path + "/" + k.id); return "Key revoked.";
  }, reload)];

export async function keysView(root) {
  const list = paged("System API keys", ["Name", "Role", "Created", "Last used", "Expires", "Actions"],
    (cursor) => get("/api-keys", { cursor, limit: 50 }), keyRow("/api-keys", () => list.load()), "No system key.");
  root.append(heading("API keys"), h("p", { class: "muted" }, "System keys act with their own role, for no user. The secret is shown once."),
    keyForm("/api-keys", true, () => list.load()), list.el);
  await list.load();
}

const settingFields = [
  ["license_count", "Licenses", "0 means unlimited"],
  ["invitation_ttl_hours", "Invitations last (hours)"],
  ["password_reset_ttl_minutes", "Reset links last (minutes)"],
  ["deletion_grace_days", "Deleted accounts kept (days)", "Until then they can be restored"],
  ["session_ttl_hours", "Sessions last at most (hours)"],
  ["session_idle_hours", "Idle sessions end after (hours)"],
  ["password_min_length", "Minimum password length", "8 to 64; NIST advises 15 when the password is the only factor"],
];

export async function settingsView(root) {
  const res = await call("GET", "/settings");
  const cur = res.data;
  let etag = res.etag;
  const reg = h("input", { type: "checkbox", name: "allow_registration", id: "set-allow_registration", checked: !!cur.allow_registration });
  const form = h("form", { class: "stack card", id: "settings-form", novalidate: true, onsubmit: async (ev) => {
    ev.preventDefault();
    const v = form.elements;
    const body = {};
    if (reg.checked !== cur.allow_registration) body.allow_registration = reg.checked;
    for (const [k] of settingFields) if (Number(v[k].value) !== cur[k]) body[k] = Number(v[k].value);
    if (!Object.keys(body).length) { say("Nothing changed."); return; }
    await submitting(form, async () => {
      const r = await call("PATCH", "/settings", { body, ifMatch: etag });
      Object.assign(cur, r.data);
      etag = r.etag;
      say("Settings saved.");
    });
  } },
  h("label", { class: "check", for: reg.id }, reg, "Anyone may register an account (POST /auth/register)"),
  h("div", { class: "grid2" }, settingFields.map(([k, label, hint]) => field(label, input(k, { type: "number", value: String(cur[k]), id: "set-" + k, inputmode: "numeric" }), hint))),
  h("div", { class: "actions" }, h("button", { type: "submit", id: "settings-save" }, "Save settings")));
  root.append(heading("Settings"), form);
}

export async function accountView(root) {
  const me = await get("/me");
  state.me = Object.assign(state.me || {}, me);
  const profile = h("form", { class: "stack card", id: "profile-form", novalidate: true, onsubmit: async (ev) => {
    ev.preventDefault();
    const v = profile.elements;
    await submitting(profile, async () => {
      const u = (await call("PATCH", "/me", { body: { given_name: v.given_name.value.trim(), family_name: v.family_name.value.trim(), display_name: v.display_name.value.trim() } })).data;
      Object.assign(state.me, u);
      document.getElementById("whoami").textContent = (u.display_name || u.email) + " · " + u.role;
      say("Profile saved.");
    });
  } },
  h("h2", {}, "Profile"),
  h("p", { class: "muted" }, me.email + (me.username ? " · @" + me.username : "") + " · " + me.role),
  h("div", { class: "grid2" },
    field("Given name", input("given_name", { value: me.given_name || "" })),
    field("Family name", input("family_name", { value: me.family_name || "" })),
    field("Display name", input("display_name", { value: me.display_name || "" }))),
  h("div", { class: "actions" }, h("button", { type: "submit" }, "Save profile")));

  const password = h("form", { class: "stack card", id: "password-form", novalidate: true, onsubmit: async (ev) => {
    ev.preventDefault();
    const v = password.elements;
    await submitting(password, async () => {
      await call("POST", "/me/password", { body: { current_password: v.current_password.value, new_password: v.new_password.value } });
      v.current_password.value = ""; v.new_password.value = "";
      say("Password changed; your other sessions are signed out.");
      await sessions.load();
    });
  } },
  h("h2", {}, "Change password"),
  // Whose password it is, hidden: what a password manager saves it under.
  input("email", { type: "email", autocomplete: "username", value: me.email || "", readonly: true, hidden: true, id: "password-username" }),
  h("div", { class: "grid2" },
    field("Current password", input("current_password", { type: "password", autocomplete: "current-password" })),
    field("New password", input("new_password", { type: "password", autocomplete: "new-password" }))),
  h("div", { class: "actions" }, h("button", { type: "submit" }, "Change password")));

  const sessions = paged("My sessions", ["Device", "IP", "Started", "Last active", "Actions"],
    () => get("/me/sessions"),
    (s) => [s.device || "—", s.ip || "—", when(s.created_at), ago(s.last_active_at),
      s.current ? h("span", { class: "muted" }, "this session") : act("Revoke", "Revoke my session on " + (s.device || "a device"), async () => { await del("/me/sessions/" + s.id); return "Session revoked."; }, () => sessions.load())],
    "No session.");
  const keys = paged("My API keys", ["Name", "Role", "Created", "Last used", "Expires", "Actions"],
    () => get("/me/api-keys"), keyRow("/me/api-keys", () => keys.load()), "No personal key.");
  root.append(heading("My account"), profile, password,
    h("h2", {}, "My sessions"), sessions.el,
    h("h2", {}, "My API keys"), h("p", { class: "muted" }, "Personal keys act as you, with your current role."),
    keyForm("/me/api-keys", false, () => keys.load()), keys.el);
  await Promise.all([sessions.load(), keys.load()]);
}



// The console's shell: sign in and out, the sections, and which of them
// the signed-in role may open.
import { session, call, get } from "./api.js";
import { h, field, input, submitting } from "./ui.js";
import { state } from "./state.js";
import { usersView } from "./users.js";
import { invitationsView, sessionsView, attemptsView, auditView } from "./records.js";
import { teamsView, keysView, settingsView, accountView } from "./admin.js";

const main = document.getElementById("main");
const rank = { member: 0, manager: 1, admin: 2 };

const sections = [
  { id: "users", title: "Users", min: "manager", view: usersView },
  { id: "invitations", title: "Invitations", min: "manager", view: invitationsView },
  { id: "sessions", title: "Sessions", min: "manager", view: sessionsView },
  { id: "attempts", title: "Sign-in attempts", min: "admin", view: attemptsView },
  { id: "audit", title: "Audit log", min: "admin", view: auditView },
  { id: "teams", title: "Teams", min: "admin", view: teamsView },
  { id: "keys", title: "API keys", min: "admin", view: keysView },
  { id: "settings", title: "Settings", min: "admin", view: settingsView },
  { id: "account", title: "My account", min: "member", view: accountView },
];

const allowed = () => sections.filter((s) => state.me && rank[state.me.role] >= rank[s.min]);

function signIn(message, kind) {
  state.me = null;
  document.getElementById("top").hidden = true;
  document.title = "Sign in · User Management";
  const login = input("login", { autocomplete: "username", required: true, autofocus: true });
  const password = input("password", { type: "password", autocomplete: "current-password", required: true });
  const form = h("form", { class: "stack", id: "signin", novalidate: true, onsubmit: async (ev) => {
    ev.preventDefault();
    await submitting(form, async () => {
      const res = await call("POST", "/auth/login", { body: { login: login.value.trim(), password: password.value } });
      session.set(res.data.token);
      password.value = "";
      await start();
    });
  } },
  message ? h("p", { class: kind === "ok" ? "notice" : "alert", role: "alert", id: "signin-message" }, message) : null,
  field("Email or username", login),
  field("Password", password),
  h("div", { class: "actions" }, h("button", { type: "submit", id: "signin-submit" }, "Sign in")));
  main.replaceChildren(h("div", { class: "card signin" }, h("h1", { tabindex: "-1" }, "Sign in to User Management"), form));
  login.focus();
}

async function start() {
  state.me = await get("/me");
  if (rank[state.me.role] >= rank.manager) {
    try { state.teams = (await get("/teams", { limit: 100 })).items; } catch { state.teams = []; }
  }
  document.getElementById("top").hidden = false;
  document.getElementById("whoami").textContent = (state.me.display_name || state.me.email) + " · " + state.me.role;
  const nav = document.getElementById("nav");
  nav.replaceChildren(...allowed().map((s) => h("a", { href: "#/" + s.id, id: "nav-" + s.id }, s.title)));
  await route();
}

let generation = 0;

async function route() {
  if (!state.me) return;
  const list = allowed();
  const want = location.hash.replace(/^#\//, "");
  const s = list.find((x) => x.id === want) || list[0];
  if ("#/" + s.id !== location.hash) { history.replaceState(null, "", "#/" + s.id); }
  for (const a of document.querySelectorAll("#nav a")) {
    if (a.id === "nav-" + s.id) a.setAttribute("aria-current", "page"); else a.removeAttribute("aria-current");
  }
  document.title = s.title + " · User Management";
  const mine = ++generation;
  const root = h("section", { "aria-labelledby": "view-title" });
  main.replaceChildren(root);
  try {
    await s.view(root, () => mine === generation);
  } catch (p) {
    if (mine === generation && state.me) root.append(h("p", { class: "alert", role: "alert" }, p.message));
  }
}

window.addEventListener("hashchange", () => { if (location.hash.startsWith("#/")) route(); });

document.getElementById("signout").addEventListener("click", async () => {
  try { await call("POST", "/auth/logout"); } catch { /* the session is over either way */ }
  session.clear();
  signIn("You are signed out.", "ok");
});

session.onEnd(() => signIn("Your session has ended: it expired, was revoked, or your account changed. Sign in again."));

if (session.token) {
  start().catch((p) => { if (state.me === null && p.code !== "unauthorized") signIn(p.message); });
} else {
  signIn();
}

// The invitation page: who invited whom, to what role and team, with the
// personal message and the expiry; accept (a password and a name) or
// decline; and a clear page for links that are used, cancelled or expired.
(async () => {
  const { token, el, show, call, field, showErrors, when } = page;
  const gone = (status) => {
    if (status === 410) {
      show("This invitation has expired", el("p", {}, "Ask the person who invited you to send it again."));
    } else if (status === 429) {
      show("Too many attempts", el("p", {}, "Wait a few minutes, then open the link from your email again."));
    } else {
      show("This link is no longer valid",
        el("p", {}, "It was already used, cancelled, or replaced by a newer invitation."),
        el("p", { class: "muted" }, "If you already accepted, sign in. Otherwise, ask for a new invitation."));
    }
  };
  if (!token) { gone(400); return; }
  const look = await call("GET", "/invitations/lookup?token=" + encodeURIComponent(token));
  if (look.status !== 200) { gone(look.status); return; }
  const inv = look.data;

  const who = el("p", { id: "who" }, el("strong", {}, inv.inviter_name), " invited ", el("strong", {}, inv.email),
    " to join as ", el("strong", {}, inv.role), inv.team_name ? " in the team " : "", inv.team_name ? el("strong", {}, inv.team_name) : "", ".");
  const message = inv.message ? el("blockquote", { id: "message" }, inv.message) : "";
  const expiry = el("p", { class: "muted", id: "expiry" }, "This invitation expires on " + when(inv.expires_at) + ".");

  const f = {
    given_name: field("given_name", "First name", "text", { autocomplete: "given-name", required: true, maxlength: "100" }),
    family_name: field("family_name", "Last name", "text", { autocomplete: "family-name", required: true, maxlength: "100" }),
    // A new name to choose, not one to fill in: the account's login for a
    // password manager is its email (below), which is always set.
    username: field("username", "Username (optional)", "text", { autocomplete: "off", maxlength: "32" }, "3 to 32 letters, digits, '.', '_' or '-'."),
    password: field("password", "Password", "password", { autocomplete: "new-password", required: true, minlength: String(inv.password_min_length), maxlength: "128" }),
  };
  const rules = el("ul", { class: "rules", id: "rules" },
    el("li", {}, "At least " + inv.password_min_length + " characters (up to 128); spaces and any characters are fine."),
    el("li", {}, "Not a commonly used password, and not your email or username."));
  const other = el("p", { class: "alert", role: "alert", id: "form-error" });
  const accept = el("button", { type: "submit", id: "accept" }, "Accept invitation");
  const decline = el("button", { type: "button", class: "secondary", id: "decline" }, "Decline");
  // The account, hidden: what a password manager saves the new password under.
  const account = el("input", { type: "email", name: "email", id: "f-account", autocomplete: "username", value: inv.email, readonly: true, hidden: true });
  const form = el("form", { id: "form", novalidate: true }, account, f.given_name.label, f.family_name.label, f.username.label,
    f.password.label, rules, other, el("div", { class: "actions" }, accept, decline));
  show("You're invited", who, message, expiry, form);

  const busy = (on) => { accept.disabled = on; decline.disabled = on; };
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    other.textContent = "";
    busy(true);
    const body = { token, given_name: f.given_name.input.value, family_name: f.family_name.input.value, password: f.password.input.value };
    if (f.username.input.value.trim() !== "") body.username = f.username.input.value;
    const res = await call("POST", "/invitations/accept", body);
    busy(false);
    if (res.status === 201) {
      try { sessionStorage.setItem("ums.token", res.data.token); } catch { /* storage may be off */ }
      show("Welcome, " + res.data.user.given_name + "!",
        el("p", { class: "done", id: "done" }, "Your account is ready and you are signed in as " + res.data.user.email + "."),
        el("p", {}, "From now on, sign in with your email" + (res.data.user.username ? " or your username" : "") +
          " and the password you chose. You can close this page."));
      return;
    }
    if (res.status === 400 && res.data && res.data.code === "validation_failed") {
      const rest = showErrors(f, res.data);
      if (rest.length) other.textContent = rest.join("; ");
      return;
    }
    if (res.status === 409 && res.data && res.data.code === "username_taken") {
      showErrors(f, { errors: [{ field: "username", message: "is taken: choose another" }] });
      return;
    }
    if (res.status === 400 || res.status === 410 || res.status === 429) { gone(res.status); return; }
    other.textContent = (res.data && res.data.detail) || "Something went wrong; try again.";
  });
  // Declining takes a second click, on the same button: the link stops
  // working for good.
  decline.addEventListener("click", async () => {
    if (decline.dataset.armed !== "yes") {
      decline.dataset.armed = "yes";
      decline.textContent = "Yes, decline";
      other.textContent = "Declining cannot be undone: the link will stop working. Click again to confirm.";
      return;
    }
    busy(true);
    const res = await call("POST", "/invitations/decline", { token });
    busy(false);
    if (res.status === 204) {
      show("Invitation declined", el("p", { id: "declined" }, "You declined the invitation. Nothing more will happen."));
      return;
    }
    if (res.status === 400 || res.status === 410 || res.status === 429) { gone(res.status); return; }
    other.textContent = (res.data && res.data.detail) || "Something went wrong; try again.";
  });
})();

// The password page: choose a new password with the link from the email,
// with the rules shown first, and a clear page for links that are used,
// replaced or expired.
(async () => {
  const { token, el, show, call, field, showErrors, when } = page;
  const gone = (status) => {
    if (status === 410) {
      show("This link has expired", el("p", {}, "Ask for a new password reset link: it is valid for a short time only."));
    } else if (status === 429) {
      show("Too many attempts", el("p", {}, "Wait a few minutes, then open the link from your email again."));
    } else {
      show("This link is no longer valid",
        el("p", {}, "It was already used, or a newer link replaced it."),
        el("p", { class: "muted" }, "Use the newest email, or ask for a new link."));
    }
  };
  if (!token) { gone(400); return; }
  const look = await call("GET", "/auth/password/reset?token=" + encodeURIComponent(token));
  if (look.status !== 200) { gone(look.status); return; }
  const reset = look.data;

  const who = el("p", { id: "who" }, "Choose a new password for ", el("strong", {}, reset.email), ".");
  const expiry = el("p", { class: "muted", id: "expiry" }, "This link expires on " + when(reset.expires_at) + ".");
  const f = {
    password: field("password", "New password", "password", { autocomplete: "new-password", required: true, minlength: String(reset.password_min_length), maxlength: "128" }),
  };
  const rules = el("ul", { class: "rules", id: "rules" },
    el("li", {}, "At least " + reset.password_min_length + " characters (up to 128); spaces and any characters are fine."),
    el("li", {}, "Not a commonly used password, and not your email or username."),
    el("li", {}, "Every device signed in to your account will be signed out."));
  const other = el("p", { class: "alert", role: "alert", id: "form-error" });
  const save = el("button", { type: "submit", id: "save" }, "Set the new password");
  // The account, hidden: what a password manager saves the new password under.
  const account = el("input", { type: "email", name: "email", id: "f-account", autocomplete: "username", value: reset.email, readonly: true, hidden: true });
  const form = el("form", { id: "form", novalidate: true }, account, f.password.label, rules, other, el("div", { class: "actions" }, save));
  show("Choose a new password", who, expiry, form);

  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    other.textContent = "";
    save.disabled = true;
    const res = await call("POST", "/auth/password/reset", { token, password: f.password.input.value });
    save.disabled = false;
    if (res.status === 204) {
      show("Your password is changed",
        el("p", { class: "done", id: "done" }, "Sign in with your new password. Every other device was signed out."));
      return;
    }
    if (res.status === 400 && res.data && res.data.code === "validation_failed") {
      const rest = showErrors(f, res.data);
      if (rest.length) other.textContent = rest.join("; ");
      return;
    }
    if (res.status === 400 || res.status === 410 || res.status === 429) { gone(res.status); return; }
    other.textContent = (res.data && res.data.detail) || "Something went wrong; try again.";
  });
})();

// The password page: set a new password with the link from the email.
(async () => {
  const { token, el, show } = page;
  if (!token) {
    show("This link is no longer valid", el("p", {}, "Ask for a new password reset link."));
  }
})();

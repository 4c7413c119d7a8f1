package devserver_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/usermgmt/ums/pkg/console"
	"github.com/usermgmt/ums/pkg/email/emailtest"
)

// The console is served by its two routes: the document, never cached,
// under the console's own policy; each file it names, kept for a year
// since its name changes with its content; any other name is 404.
func TestConsoleIsServed(t *testing.T) {
	e := newEnv(t)
	doc := e.must(200, e.do("GET", "/console", "", nil))
	for k, want := range map[string]string{
		"Content-Type": "text/html; charset=utf-8", "Content-Security-Policy": console.CSP, "Cache-Control": "no-store",
		"X-Frame-Options": "DENY", "Referrer-Policy": "no-referrer", "X-Content-Type-Options": "nosniff",
	} {
		if got := doc.header.Get(k); got != want {
			t.Errorf("/console: %s = %q, want %q", k, got, want)
		}
	}
	if doc.raw != string(console.Console.Index) {
		t.Fatal("/console is not the console's document")
	}
	for _, src := range console.Console.Sources() {
		name := console.Console.Hashed[src]
		if src != "app.js" && src != "console.css" && src != "icon.svg" && strings.Contains(doc.raw, name) {
			t.Errorf("the document names %s: only the entry module, the style sheet and the icon belong there", name)
		}
		f := e.must(200, e.do("GET", "/console/"+name, "", nil))
		want := "text/javascript; charset=utf-8"
		if strings.HasSuffix(src, ".css") {
			want = "text/css; charset=utf-8"
		} else if strings.HasSuffix(src, ".svg") {
			want = "image/svg+xml"
		}
		if got := f.header.Get("Content-Type"); got != want {
			t.Errorf("%s: Content-Type %q, want %q", name, got, want)
		}
		if got := f.header.Get("Cache-Control"); got != "public, max-age=31536000, immutable" {
			t.Errorf("%s: Cache-Control %q", name, got)
		}
		if f.header.Get("X-Content-Type-Options") != "nosniff" || f.header.Get("Content-Security-Policy") != console.CSP {
			t.Errorf("%s: headers %v", name, f.header)
		}
		if f.raw != string(console.Console.Files[name].Body) {
			t.Errorf("%s: not the embedded file", name)
		}
	}
	// The source names, a stale hash, and anything else: not found, and
	// not cacheable.
	for _, name := range []string{"app.js", "app.000000000000.js", "index.html", "..%2Fopenapi.yaml", "console.css"} {
		got := e.problem(404, "not_found", e.do("GET", "/console/"+name, "", nil))
		if got.header.Get("Cache-Control") != "no-store" {
			t.Errorf("%s: a 404 that may be cached", name)
		}
	}
}

// consoleSignIn signs in to the console in the tab of ctx.
func consoleSignIn(t *testing.T, e *env, ctx context.Context, login, password string) {
	t.Helper()
	step(t, ctx, "open the console", chromedp.Navigate(e.url+"/console"), chromedp.WaitVisible(chromedp.ID("signin")))
	step(t, ctx, "sign in as "+login,
		chromedp.SendKeys(chromedp.CSS(`#signin [name="login"]`), login),
		chromedp.SendKeys(chromedp.CSS(`#signin [name="password"]`), password),
		chromedp.Click(chromedp.ID("signin-submit")),
		chromedp.WaitVisible(chromedp.ID("view-title")))
}

// wait is until, telling on failure what the page shows.
func wait(t *testing.T, ctx context.Context, what, condition string) {
	t.Helper()
	sctx, cancel := context.WithTimeout(ctx, browserWait)
	defer cancel()
	if _, err := chromedp.Run(sctx, poll(condition)); err != nil {
		tctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		defer cancel()
		text, _ := chromedp.Run(tctx, chromedp.Evaluate[string](`document.body.innerText`))
		t.Fatalf("%s: %v\nthe page reads:\n%s", what, err, text)
	}
}

// rowOf is the JavaScript expression of the users table's row of email.
func rowOf(email string) string {
	return fmt.Sprintf(`[...document.querySelectorAll("#users-table tbody tr")].find((r) => r.dataset.email === %q)`, email)
}

// act clicks a row's action button.
func act(t *testing.T, ctx context.Context, email, action string) {
	t.Helper()
	wait(t, ctx, "the row of "+email, rowOf(email)+` !== undefined`)
	// Clicked from the page itself: the table may be redrawn (a reload
	// after the last action) between finding a button and clicking it.
	wait(t, ctx, action+" "+email, fmt.Sprintf(`(() => { const b = document.querySelector('#users-table tr[data-email=%q] button[data-action=%q]'); if (!b || b.disabled) return false; b.click(); return true; })()`, email, action))
}

// confirmDialog presses the confirming button of the open dialog.
func confirmDialog(t *testing.T, ctx context.Context, what string) {
	t.Helper()
	step(t, ctx, "confirm "+what, chromedp.WaitVisible(chromedp.CSS(`dialog[open] button[type="submit"]`)),
		chromedp.Click(chromedp.CSS(`dialog[open] button[type="submit"]`)))
	wait(t, ctx, what+": the dialog closes", `document.querySelector("dialog[open]") === null`)
}

// setSelect chooses a value in a select, as a user would (it fires change).
func setSelect(css, value string) chromedp.Action[chromedp.Void] {
	return chromedp.Evaluate[chromedp.Void](fmt.Sprintf(`(() => { const s = document.querySelector(%q); s.value = %q; s.dispatchEvent(new Event("change", { bubbles: true })); })()`, css, value))
}

func summaryCount(t *testing.T, ctx context.Context, id string) int {
	t.Helper()
	return value(t, ctx, "summary "+id, chromedp.Evaluate[int](fmt.Sprintf(`Number(document.querySelector("#summary-%s .n").textContent)`, id)))
}

// The console in a real browser, as an admin uses it: sign in, create a
// user and see the summary count them, change their role, reset their
// password by a copied link and use it, deactivate them and see their
// own console's session end; invite someone and follow the mail to the
// accept page; be refused what would leave no admin; then sign in as a
// manager and see only their team. All under the console's policy, which
// the browser reports any breach of, and readable at a phone's width.
func TestConsoleInABrowser(t *testing.T) {
	e := newEnv(t)
	ctx, console := browser(t)
	compilers, sales := e.team("Compilers"), e.team("Sales")

	consoleSignIn(t, e, ctx, adminEmail, adminPassword)
	wait(t, ctx, "the users table", `document.getElementById("users-table") !== null && document.getElementById("summary-registered") !== null`)
	registered := summaryCount(t, ctx, "registered")
	fitsPhone(t, ctx)

	// From the keyboard: the first Tab reaches the skip link; Enter opens
	// a form with the focus in its first field; Escape closes it.
	// (A reload first: the session survives it, in sessionStorage.)
	step(t, ctx, "reload", chromedp.Navigate(e.url+"/console"))
	wait(t, ctx, "still signed in", `document.getElementById("users-table") !== null`)
	step(t, ctx, "tab", chromedp.KeyEvent(kb.Tab))
	wait(t, ctx, "the skip link has the focus", `document.activeElement.classList.contains("skip")`)
	step(t, ctx, "enter on Create user", chromedp.Focus(chromedp.ID("create-user")), chromedp.KeyEvent(kb.Enter))
	wait(t, ctx, "the form, focus in its email", `document.activeElement === document.querySelector('#create-form [name="email"]')`)
	step(t, ctx, "escape", chromedp.KeyEvent(kb.Escape))
	wait(t, ctx, "the form is closed", `document.querySelector("dialog[open]") === null`)

	// Create a user.
	ada := emailtest.Address("ada", "example.com")
	step(t, ctx, "open the create form", chromedp.Click(chromedp.ID("create-user")), chromedp.WaitVisible(chromedp.ID("create-form")))
	step(t, ctx, "fill it",
		chromedp.SendKeys(chromedp.CSS(`#create-form [name="email"]`), ada),
		chromedp.SendKeys(chromedp.CSS(`#create-form [name="given_name"]`), "Ada"),
		chromedp.SendKeys(chromedp.CSS(`#create-form [name="family_name"]`), "Lovelace"),
		chromedp.SendKeys(chromedp.CSS(`#create-form [name="password"]`), "the analytical engine's passphrase"),
		setSelect(`#create-form [name="team_id"]`, compilers))
	shots(t, ctx, "console-create-user")
	step(t, ctx, "create", chromedp.Click(chromedp.ID("create-submit")))
	wait(t, ctx, "the new row", rowOf(ada)+` !== undefined`)
	wait(t, ctx, "the summary counts them", fmt.Sprintf(`Number(document.querySelector("#summary-registered .n").textContent) === %d`, registered+1))
	if row := value(t, ctx, "row", chromedp.Evaluate[string](rowOf(ada)+`.textContent`)); !strings.Contains(row, "Ada Lovelace") || !strings.Contains(row, "Compilers") || !strings.Contains(row, "member") {
		t.Errorf("the new row reads %q", row)
	}
	first := value(t, ctx, "first row", chromedp.Evaluate[string](`document.querySelector("#users-table tbody tr").dataset.email`))
	if first != ada {
		t.Errorf("the newest user is not first: %s", first)
	}
	u := e.userByEmail(ada)

	// Filters combine: team and role narrow the table together.
	step(t, ctx, "filter by team", setSelect("#filter-team", compilers))
	step(t, ctx, "and by role", setSelect("#filter-role", "admin"))
	wait(t, ctx, "no Compilers admin", `document.getElementById("users-empty") !== null`)
	step(t, ctx, "role: member", setSelect("#filter-role", "member"))
	wait(t, ctx, "Ada alone", `document.querySelectorAll("#users-table tbody tr").length === 1 && `+rowOf(ada)+` !== undefined`)
	step(t, ctx, "clear the filters", setSelect("#filter-team", ""), setSelect("#filter-role", ""))
	wait(t, ctx, "everyone again", `document.querySelectorAll("#users-table tbody tr").length > 1`)

	// Change their role, with If-Match.
	act(t, ctx, ada, "edit")
	step(t, ctx, "make them a manager", chromedp.WaitVisible(chromedp.ID("edit-form")), setSelect("#edit-role", "manager"))
	shots(t, ctx, "console-edit-user")
	step(t, ctx, "save", chromedp.Click(chromedp.ID("edit-submit")))
	wait(t, ctx, "the new role in the row", rowOf(ada)+`.querySelector(".b-manager") !== null`)
	if got := e.must(200, e.do("GET", "/users/"+u.ID, e.admin, nil)).str("role"); got != "manager" {
		t.Fatalf("role %s after the edit", got)
	}
	// An edit made meanwhile elsewhere is reported, not overwritten.
	act(t, ctx, ada, "edit")
	step(t, ctx, "the edit form", chromedp.WaitVisible(chromedp.ID("edit-form")))
	e.must(200, e.do("PATCH", "/users/"+u.ID, e.admin, map[string]any{"display_name": "Countess"}))
	step(t, ctx, "change the name over it",
		chromedp.Evaluate[chromedp.Void](`document.querySelector('#edit-form [name="given_name"]').value = "Augusta"`),
		chromedp.Click(chromedp.ID("edit-submit")))
	wait(t, ctx, "the conflict is reported", `(document.querySelector("#edit-form .alert") || {}).textContent?.includes("changed this meanwhile")`)
	if got := e.must(200, e.do("GET", "/users/"+u.ID, e.admin, nil)); got.str("given_name") != "Ada" || got.str("display_name") != "Countess" {
		t.Fatalf("the stale edit was applied: %s", got.raw)
	}
	step(t, ctx, "close it", chromedp.Evaluate[chromedp.Void](`document.querySelector("dialog[open]").close()`))

	// Reset their password by a link copied from the console.
	act(t, ctx, ada, "reset")
	step(t, ctx, "make a link", chromedp.WaitVisible(chromedp.ID("reset-copy-link")), chromedp.Click(chromedp.ID("reset-copy-link")))
	wait(t, ctx, "the link", `document.getElementById("reset-link") !== null`)
	shots(t, ctx, "console-reset-link")
	wait(t, ctx, "no stray value in the dialog", `!/\b(null|undefined|NaN)\b|\[object /.test(document.body.innerText)`)
	link := value(t, ctx, "the link", chromedp.Text(chromedp.ID("reset-link")))
	if !strings.HasPrefix(link, e.url+"/pages/reset-password") {
		t.Fatalf("the reset link is %q", link)
	}
	step(t, ctx, "close the dialog", chromedp.Evaluate[chromedp.Void](`document.querySelector("dialog[open]").close()`))
	other, _ := browser(t) // the user's own browser
	step(t, other, "open the copied link", chromedp.Navigate(link), chromedp.WaitVisible(chromedp.ID("form")))
	step(t, other, "choose a password",
		chromedp.SendKeys(chromedp.ID("f-password"), "a password Ada chose herself"),
		chromedp.Click(chromedp.ID("save")))
	wait(t, other, "the password is set", `document.getElementById("done") !== null`)

	// In their own tab, they sign in to the console and see their account.
	consoleSignIn(t, e, other, ada, "a password Ada chose herself")
	wait(t, other, "their users list (a manager's)", `document.getElementById("nav-users") !== null && document.getElementById("nav-settings") === null`)

	// Deactivate them: their session ends at once, and their console says so.
	act(t, ctx, ada, "deactivate")
	confirmDialog(t, ctx, "the deactivation")
	wait(t, ctx, "the row says deactivated", rowOf(ada)+`.dataset.status === "deactivated"`)
	step(t, other, "their console's next request", chromedp.Evaluate[chromedp.Void](`location.hash = "#/account"`))
	wait(t, other, "back to sign-in, with why", `(document.getElementById("signin-message") || {}).textContent?.includes("session has ended")`)
	shots(t, other, "console-session-ended")
	wait(t, ctx, "the summary no longer counts them", fmt.Sprintf(`Number(document.querySelector("#summary-registered .n").textContent) === %d`, registered))

	// Invite someone, and follow the mail to the accept page.
	grace := emailtest.Address("grace", "example.com")
	invited := summaryCount(t, ctx, "invited-not-registered")
	step(t, ctx, "open the invite form", chromedp.Click(chromedp.ID("invite-user")), chromedp.WaitVisible(chromedp.ID("invite-form")))
	step(t, ctx, "fill it",
		chromedp.SendKeys(chromedp.CSS(`#invite-form [name="email"]`), grace),
		setSelect(`#invite-form [name="team_id"]`, compilers),
		chromedp.SendKeys(chromedp.CSS(`#invite-form [name="message"]`), "Welcome to the compilers team"))
	step(t, ctx, "send", chromedp.Click(chromedp.ID("invite-submit")))
	wait(t, ctx, "the invited row", rowOf(grace)+`?.dataset.status === "invited"`)
	wait(t, ctx, "the summary counts the invitation", fmt.Sprintf(`Number(document.querySelector("#summary-invited-not-registered .n").textContent) === %d`, invited+1))
	step(t, other, "open the link from the mail", chromedp.Navigate(e.tokenLink(grace)), chromedp.WaitVisible(chromedp.ID("form")))
	if msg := value(t, other, "message", chromedp.Text(chromedp.ID("message"))); !strings.Contains(msg, "Welcome to the compilers team") {
		t.Errorf("the accept page shows %q", msg)
	}
	step(t, other, "accept",
		chromedp.SendKeys(chromedp.ID("f-given_name"), "Grace"),
		chromedp.SendKeys(chromedp.ID("f-family_name"), "Hopper"),
		chromedp.SendKeys(chromedp.ID("f-password"), "a nanosecond is a foot of wire"),
		chromedp.Click(chromedp.ID("accept")), chromedp.WaitVisible(chromedp.ID("done")))
	step(t, ctx, "reload the console", chromedp.Navigate(e.url+"/console"))
	wait(t, ctx, "Grace is active", rowOf(grace)+`?.dataset.status === "active"`)

	// One's own account is changed through My account: its row offers no
	// deactivation, deletion or password reset, and its edit the names only.
	act(t, ctx, adminEmail, "edit")
	step(t, ctx, "edit yourself", chromedp.WaitVisible(chromedp.ID("edit-self-note")))
	if n := value(t, ctx, "own edit", chromedp.Evaluate[int](`document.querySelectorAll('#edit-form [name="role"], #edit-form [name="email"], #edit-form [name="username"], #edit-form [name="team_id"]').length`)); n != 0 {
		t.Error("the console offers the admin to change their own role, team, email or username")
	}
	step(t, ctx, "close it", chromedp.Evaluate[chromedp.Void](`document.querySelector("dialog[open]").close()`))
	if n := value(t, ctx, "own row", chromedp.Evaluate[int](rowOf(adminEmail)+`.querySelectorAll('[data-action="deactivate"], [data-action="delete"], [data-action="reset"]').length`)); n != 0 {
		t.Error("the console offers the admin to deactivate, delete or reset themselves")
	}

	// The other sections open, each with its heading.
	for _, s := range []string{"invitations", "sessions", "attempts", "audit", "teams", "keys", "settings", "account"} {
		step(t, ctx, "open "+s, chromedp.Click(chromedp.ID("nav-"+s)))
		wait(t, ctx, s+" is shown", fmt.Sprintf(`location.hash === "#/%s" && document.getElementById("view-title") !== null && document.querySelector("main .alert") === null`, s))
		wait(t, ctx, s+" has no stray value", `!/\b(null|undefined|NaN)\b|\[object /.test(document.body.innerText)`)
		if s == "account" {
			wait(t, ctx, "my sessions", `document.querySelectorAll("main table").length >= 1`)
			shots(t, ctx, "console-account")
		}
	}
	// Licenses, set in the settings, give the summary its percentages.
	step(t, ctx, "open the settings", chromedp.Click(chromedp.ID("nav-settings")), chromedp.WaitVisible(chromedp.ID("set-license_count")))
	step(t, ctx, "ten licenses",
		chromedp.Evaluate[chromedp.Void](`document.getElementById("set-license_count").value = ""`),
		chromedp.SendKeys(chromedp.ID("set-license_count"), "10"),
		chromedp.Click(chromedp.ID("settings-save")))
	wait(t, ctx, "saved", `document.getElementById("status").textContent.includes("Settings saved")`)
	if got := e.must(200, e.do("GET", "/settings", e.admin, nil)).num("license_count"); got != 10 {
		t.Fatalf("license_count %d after saving 10", got)
	}
	// A system key: its secret shown once, with a copy button.
	step(t, ctx, "open the keys", chromedp.Click(chromedp.ID("nav-keys")), chromedp.WaitVisible(chromedp.ID("key-name")))
	step(t, ctx, "make a key", chromedp.SendKeys(chromedp.ID("key-name"), "billing sync"), setSelect("#key-role", "manager"), setSelect("#key-team", compilers),
		chromedp.Click(chromedp.ID("key-submit")))
	wait(t, ctx, "the secret, once", `document.getElementById("key-secret")?.textContent.startsWith("umk_") && document.querySelector("#new-key button[data-copy]") !== null`)
	secret := value(t, ctx, "secret", chromedp.Text(chromedp.ID("key-secret")))
	if got := e.do("GET", "/users", secret, nil); got.status != 200 {
		t.Errorf("the key the console showed does not work: %d %s", got.status, got.raw)
	}
	step(t, ctx, "reopen the keys", chromedp.Click(chromedp.ID("nav-users")), chromedp.WaitVisible(chromedp.ID("users")), chromedp.Click(chromedp.ID("nav-keys")))
	wait(t, ctx, "the key listed, its secret gone", `document.body.innerText.includes("billing sync") && document.getElementById("key-secret") === null && !document.body.innerText.includes(`+fmt.Sprintf("%q", secret)+`)`)

	step(t, ctx, "back to the users", chromedp.Click(chromedp.ID("nav-users")))
	wait(t, ctx, "the share of the licenses", `document.querySelector("#summary-licenses .n")?.textContent === "10" && document.querySelector("#summary-registered .l").textContent.includes("% of licenses")`)
	shots(t, ctx, "console-users")

	// A manager sees their team only, and is offered only what they may do.
	manager := emailtest.Address("manager", "example.com")
	e.createUser(manager, "manager", map[string]any{"team_id": compilers})
	teammate, stranger := emailtest.Address("teammate", "example.com"), emailtest.Address("stranger", "example.com")
	e.createUser(teammate, "member", map[string]any{"team_id": compilers})
	e.createUser(stranger, "member", map[string]any{"team_id": sales})
	step(t, ctx, "sign out", chromedp.Click(chromedp.ID("signout")), chromedp.WaitVisible(chromedp.ID("signin")))
	consoleSignIn(t, e, ctx, manager, "pw for "+manager)
	wait(t, ctx, "their team's users", rowOf(teammate)+` !== undefined`)
	shown := value(t, ctx, "rows", chromedp.Evaluate[[]string](`[...document.querySelectorAll("#users-table tbody tr")].map((r) => r.dataset.email)`))
	for _, email := range shown {
		if email == stranger || email == adminEmail {
			t.Errorf("the manager sees %s, outside their team: %v", email, shown)
		}
	}
	for _, hidden := range []string{"summary", "nav-settings", "nav-audit", "nav-keys", "nav-attempts", "nav-teams"} {
		if value(t, ctx, hidden, chromedp.Evaluate[bool](fmt.Sprintf(`document.getElementById(%q) !== null`, hidden))) {
			t.Errorf("a manager is shown %s", hidden)
		}
	}
	step(t, ctx, "open the create form", chromedp.Click(chromedp.ID("create-user")), chromedp.WaitVisible(chromedp.ID("create-form")))
	if roles := value(t, ctx, "roles offered", chromedp.Evaluate[[]string](`[...document.querySelectorAll('#create-form [name="role"] option')].map((o) => o.value)`)); len(roles) != 1 || roles[0] != "member" {
		t.Errorf("a manager is offered the roles %v", roles)
	}
	step(t, ctx, "close it", chromedp.Evaluate[chromedp.Void](`document.querySelector("dialog[open]").close()`))
	wait(t, ctx, "no stray value", `!/\b(null|undefined|NaN)\b|\[object /.test(document.body.innerText)`)
	fitsPhone(t, ctx)
	shots(t, ctx, "console-manager")

	// Text meets WCAG AA contrast against what is behind it: 4.5:1, or
	// 3:1 for large text (disabled controls are exempt).
	for _, view := range []struct{ id, title string }{{"users", "Users"}, {"account", "My account"}} {
		step(t, ctx, "open "+view.id, chromedp.Click(chromedp.ID("nav-"+view.id)))
		// Its own title, not the last view's, which stays until the new
		// one has read what it shows: on a busy machine the check ran on
		// an emptied page.
		wait(t, ctx, view.id+" is shown", fmt.Sprintf(`location.hash === "#/%s" && document.getElementById("view-title")?.textContent === %q`, view.id, view.title))
		if low := value(t, ctx, "contrast", chromedp.Evaluate[[]string](contrastJS)); len(low) > 0 {
			t.Errorf("%s: text below WCAG AA contrast: %v", view.id, low)
		}
	}
	step(t, ctx, "back to the users", chromedp.Click(chromedp.ID("nav-users")))
	wait(t, ctx, "the users", `document.getElementById("users-table") !== null`)

	// Every control is labelled.
	unlabelled := value(t, ctx, "labels", chromedp.Evaluate[[]string](`[...document.querySelectorAll("input, select, textarea, button")].filter((c) => !(c.labels && c.labels.length) && !c.getAttribute("aria-label") && !c.textContent.trim()).map((c) => c.outerHTML)`))
	if len(unlabelled) > 0 {
		t.Errorf("controls without a label: %v", unlabelled)
	}
	for _, m := range console() {
		if m.IsException() || strings.Contains(m.Text, "Content Security Policy") || strings.Contains(m.Text, "Content-Security-Policy") {
			t.Errorf("console: %s", m)
		}
	}
}

// Search, in the browser: a prefix of the email, then a word of the name,
// find the user. It needs GET /users?search=; a server that refuses the
// parameter skips it, saying so.
func TestConsoleSearchInABrowser(t *testing.T) {
	e := newEnv(t)
	ctx, console := browser(t)
	ada := emailtest.Address("lovelace", "example.com")
	e.createUser(ada, "member", map[string]any{"given_name": "Augusta", "family_name": "King"})
	for i := range 3 {
		e.createUser(emailtest.Address(fmt.Sprintf("other%d", i), "example.com"), "member", nil)
	}
	consoleSignIn(t, e, ctx, adminEmail, adminPassword)
	wait(t, ctx, "the users table", `document.getElementById("users-table") !== null`)
	for _, q := range []string{ada[:8], "king"} {
		step(t, ctx, "search "+q,
			chromedp.Evaluate[chromedp.Void](`document.getElementById("user-search").value = ""`),
			chromedp.SendKeys(chromedp.ID("user-search"), q))
		wait(t, ctx, "only Ada for "+q, `document.querySelectorAll("#users-table tbody tr").length === 1 && `+rowOf(ada)+` !== undefined`)
	}
	shots(t, ctx, "console-search")
	for _, m := range console() {
		if m.IsException() || strings.Contains(m.Text, "Content Security Policy") {
			t.Errorf("console: %s", m)
		}
	}
}

// contrastJS lists the visible text whose contrast with its background is
// below WCAG AA, as "text: ratio".
const contrastJS = `(() => {
  const rgb = (c) => { const m = c.match(/[\d.]+/g).map(Number); return { r: m[0], g: m[1], b: m[2], a: m.length > 3 ? m[3] : 1 }; };
  const lum = ({ r, g, b }) => { const f = (v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; }; return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b); };
  const behind = (el) => { for (let e = el; e; e = e.parentElement) { const c = rgb(getComputedStyle(e).backgroundColor); if (c.a > 0.5) return c; } return { r: 255, g: 255, b: 255 }; };
  const out = [];
  let checked = 0;
  for (const el of document.querySelectorAll("body *")) {
    if (el.closest("[hidden], .vh, .skip, :disabled") || !el.offsetParent) continue;
    if (![...el.childNodes].some((n) => n.nodeType === 3 && n.textContent.trim())) continue;
    const st = getComputedStyle(el);
    checked++;
    const a = lum(rgb(st.color)), b = lum(behind(el));
    const ratio = (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
    const size = parseFloat(st.fontSize), bold = Number(st.fontWeight) >= 700;
    const need = size >= 24 || (bold && size >= 18.66) ? 3 : 4.5;
    if (ratio < need) out.push(el.textContent.trim().slice(0, 40) + ": " + ratio.toFixed(2));
  }
  if (checked < 20) out.push("only " + checked + " texts checked");
  return out;
})()`

// rowByID is rowOf for a row that may have lost its email (anonymized).
func rowByID(id string) string {
	return fmt.Sprintf(`[...document.querySelectorAll("#users-table tbody tr")].find((r) => r.dataset.id === %q)`, id)
}

// said waits for the status line to announce text.
func said(t *testing.T, ctx context.Context, text string) {
	t.Helper()
	wait(t, ctx, "the console says "+text, fmt.Sprintf(`document.getElementById("status").textContent.includes(%q)`, text))
}

// setLicenses saves the license count on the settings page.
func setLicenses(t *testing.T, ctx context.Context, e *env, n int) {
	t.Helper()
	step(t, ctx, "open the settings", chromedp.Click(chromedp.ID("nav-settings")), chromedp.WaitVisible(chromedp.ID("set-license_count")))
	step(t, ctx, fmt.Sprintf("%d licenses", n),
		chromedp.Evaluate[chromedp.Void](`document.getElementById("set-license_count").value = ""`),
		chromedp.SendKeys(chromedp.ID("set-license_count"), fmt.Sprint(n)),
		// An earlier save's message may still show.
		chromedp.Evaluate[chromedp.Void](`document.getElementById("status").textContent = ""`),
		chromedp.Click(chromedp.ID("settings-save")))
	said(t, ctx, "Settings saved")
	if got := e.must(200, e.do("GET", "/settings", e.admin, nil)).num("license_count"); got != n {
		t.Fatalf("license_count %d after saving %d", got, n)
	}
	step(t, ctx, "back to the users", chromedp.Click(chromedp.ID("nav-users")))
	wait(t, ctx, "the users table", `document.getElementById("users-table") !== null`)
}

// The actions each state offers on a user's row, in a real browser:
// resend an invitation (a new mail, the old link dead) and revoke it
// (after a confirmation that can be cancelled); delete a user and see
// the purge date, be refused the restore while every license is taken,
// as are creating and inviting, then restore them; anonymize a
// deactivated user, which takes the typed word and nothing less.
func TestConsoleUserStatesInABrowser(t *testing.T) {
	e := newEnv(t)
	ctx, console := browser(t)
	grace := emailtest.Address("grace", "example.com")
	inv := e.invite(grace, nil)
	oldToken := e.tokenIn(grace)
	consoleSignIn(t, e, ctx, adminEmail, adminPassword)

	// Resend: a second mail, with a new link; the first stops working.
	act(t, ctx, grace, "resend")
	said(t, ctx, "Invitation sent again to "+grace)
	if ms := e.mails(grace); len(ms) != 2 {
		t.Fatalf("%d mails to %s after resending, want 2", len(ms), grace)
	}
	if newToken := e.tokenIn(grace); newToken == oldToken {
		t.Fatal("the resent mail carries the old token")
	}
	e.problem(400, "token_invalid", e.do("GET", lookup(oldToken), "", nil))
	if got := e.must(200, e.do("GET", "/invitations?status=pending", e.admin, nil)); got.num("items", "0", "sent_count") != 2 || got.str("items", "0", "id") != inv.str("id") {
		t.Fatalf("after resending: %s", got.raw)
	}

	// Revoke asks first; Cancel leaves everything as it was.
	act(t, ctx, grace, "revoke")
	step(t, ctx, "cancel the revocation", chromedp.WaitVisible(chromedp.CSS(`dialog[open]`)),
		chromedp.Evaluate[chromedp.Void](`[...document.querySelectorAll("dialog[open] button")].find((b) => b.textContent === "Cancel").click()`))
	wait(t, ctx, "the dialog closes", `document.querySelector("dialog[open]") === null`)
	if got := e.must(200, e.do("GET", "/invitations?status=pending", e.admin, nil)); len(got.list("items")) != 1 {
		t.Fatalf("cancelling the dialog revoked the invitation: %s", got.raw)
	}
	act(t, ctx, grace, "revoke")
	confirmDialog(t, ctx, "the revocation")
	said(t, ctx, "Invitation to "+grace+" revoked")
	wait(t, ctx, "the invited row is gone", rowOf(grace)+` === undefined`)
	if got := e.must(200, e.do("GET", "/invitations?status=cancelled", e.admin, nil)); got.str("items", "0", "id") != inv.str("id") {
		t.Fatalf("the invitation is not cancelled: %s", got.raw)
	}
	if got := e.must(200, e.do("GET", "/users?search="+url.QueryEscape(grace), e.admin, nil)); len(got.list("items")) != 0 {
		t.Fatalf("the invited user outlives the revocation: %s", got.raw)
	}
	e.problem(400, "token_invalid", e.do("GET", lookup(e.tokenIn(grace)), "", nil))

	// Delete: the row says when the account will be purged.
	ada := emailtest.Address("ada", "example.com")
	adaID := e.createUser(ada, "member", nil)
	step(t, ctx, "reload", chromedp.Navigate(e.url+"/console"))
	act(t, ctx, ada, "delete")
	confirmDialog(t, ctx, "the deletion")
	wait(t, ctx, "the row says in deletion", rowOf(ada)+`?.dataset.status === "in_deletion"`)
	deleted := e.must(200, e.do("GET", "/users/"+adaID, e.admin, nil))
	purge, err := time.Parse(time.RFC3339, deleted.str("purge_after"))
	if err != nil || deleted.str("status") != "in_deletion" {
		t.Fatalf("after deleting: %s", deleted.raw)
	}
	if d := time.Until(purge) - 30*24*time.Hour; d < -time.Hour || d > time.Hour {
		t.Errorf("purge_after %s is not the default 30 days of grace away", purge)
	}
	shown := value(t, ctx, "the purge date", chromedp.Evaluate[string](rowOf(ada)+`.textContent`))
	want := value(t, ctx, "purge_after as the console writes dates", chromedp.Evaluate[string](fmt.Sprintf(`new Date(%q).toLocaleString(undefined, { dateStyle: "medium", timeStyle: "short" })`, deleted.str("purge_after"))))
	if !strings.Contains(shown, "purged "+want) {
		t.Errorf("the row of a deleted user reads %q, without %q", shown, "purged "+want)
	}
	if n := value(t, ctx, "actions", chromedp.Evaluate[[]string](rowOf(ada)+`.querySelectorAll("button[data-action]").values().map((b) => b.dataset.action).toArray()`)); len(n) != 1 || n[0] != "restore" {
		t.Errorf("a deleted user's row offers %v, want restore alone", n)
	}
	shots(t, ctx, "console-in-deletion")

	// Every license taken: restoring, creating and inviting are refused,
	// and the console says why.
	s := e.must(200, e.do("GET", "/summary", e.admin, nil))
	setLicenses(t, ctx, e, s.num("by_status", "active")+s.num("by_status", "invited"))
	act(t, ctx, ada, "restore")
	wait(t, ctx, "the refusal", `document.getElementById("refusal")?.textContent.includes("Every license is taken")`)
	shots(t, ctx, "console-no-seats")
	step(t, ctx, "close it", chromedp.Click(chromedp.CSS(`dialog[open] button`)))
	wait(t, ctx, "the dialog closes", `document.querySelector("dialog[open]") === null`)
	if got := e.must(200, e.do("GET", "/users/"+adaID, e.admin, nil)).str("status"); got != "in_deletion" {
		t.Fatalf("restored past the licenses: %s", got)
	}
	extra := emailtest.Address("extra", "example.com")
	step(t, ctx, "create one more",
		chromedp.Click(chromedp.ID("create-user")), chromedp.WaitVisible(chromedp.ID("create-form")),
		chromedp.SendKeys(chromedp.CSS(`#create-form [name="email"]`), extra),
		chromedp.SendKeys(chromedp.CSS(`#create-form [name="given_name"]`), "Extra"),
		chromedp.SendKeys(chromedp.CSS(`#create-form [name="family_name"]`), "Seat"),
		chromedp.SendKeys(chromedp.CSS(`#create-form [name="password"]`), "a passphrase for no seat"),
		chromedp.Click(chromedp.ID("create-submit")))
	wait(t, ctx, "the create form's refusal", `document.querySelector("#create-form .alert:not([hidden])")?.textContent.includes("Every license is taken")`)
	step(t, ctx, "close it", chromedp.Evaluate[chromedp.Void](`document.querySelector("dialog[open]").close()`))
	step(t, ctx, "invite one more",
		chromedp.Click(chromedp.ID("invite-user")), chromedp.WaitVisible(chromedp.ID("invite-form")),
		chromedp.SendKeys(chromedp.CSS(`#invite-form [name="email"]`), extra),
		chromedp.Click(chromedp.ID("invite-submit")))
	wait(t, ctx, "the invite form's refusal", `document.querySelector("#invite-form .alert:not([hidden])")?.textContent.includes("Every license is taken")`)
	step(t, ctx, "close it", chromedp.Evaluate[chromedp.Void](`document.querySelector("dialog[open]").close()`))
	if got := e.must(200, e.do("GET", "/users?search="+url.QueryEscape(extra), e.admin, nil)); len(got.list("items")) != 0 {
		t.Fatalf("a user past the licenses: %s", got.raw)
	}
	if ms := e.mails(extra); len(ms) != 0 {
		t.Fatalf("an invitation past the licenses was mailed: %v", ms)
	}

	// A free seat: the restore goes through.
	setLicenses(t, ctx, e, 0)
	act(t, ctx, ada, "restore")
	said(t, ctx, ada+" is restored")
	wait(t, ctx, "the row says active", rowOf(ada)+`?.dataset.status === "active" && !`+rowOf(ada)+`.textContent.includes("purged")`)
	if got := e.must(200, e.do("GET", "/users/"+adaID, e.admin, nil)); got.str("status") != "active" || got.get("purge_after") != nil {
		t.Fatalf("after restoring: %s", got.raw)
	}
	e.login(ada, "pw for "+ada)

	// Anonymize a deactivated user: only the typed word confirms it.
	bob := emailtest.Address("bob", "example.com")
	bobID := e.createUser(bob, "member", nil)
	e.must(200, e.do("POST", "/users/"+bobID+"/deactivate", e.admin, nil))
	step(t, ctx, "reload", chromedp.Navigate(e.url+"/console"))
	act(t, ctx, bob, "anonymize")
	for _, typed := range []string{"", "anonymize"} {
		step(t, ctx, "confirm with "+strconv.Quote(typed),
			chromedp.WaitVisible(chromedp.CSS(`dialog[open] [data-confirm]`)),
			chromedp.Evaluate[chromedp.Void](`document.querySelector("dialog[open] [data-confirm]").value = ""`),
			chromedp.SendKeys(chromedp.CSS(`dialog[open] [data-confirm]`), typed),
			chromedp.Click(chromedp.CSS(`dialog[open] button[type="submit"]`)))
		wait(t, ctx, "still asking, the field marked", `document.querySelector("dialog[open] [data-confirm]")?.getAttribute("aria-invalid") === "true"`)
		if got := e.must(200, e.do("GET", "/users/"+bobID, e.admin, nil)); got.str("status") != "deactivated" || got.str("email") != bob {
			t.Fatalf("anonymized without the typed word (%q): %s", typed, got.raw)
		}
	}
	shots(t, ctx, "console-anonymize")
	step(t, ctx, "type the word",
		chromedp.Evaluate[chromedp.Void](`document.querySelector("dialog[open] [data-confirm]").value = ""`),
		chromedp.SendKeys(chromedp.CSS(`dialog[open] [data-confirm]`), "ANONYMIZE"))
	confirmDialog(t, ctx, "the anonymization")
	said(t, ctx, "The account is anonymized")
	wait(t, ctx, "the row says anonymized, with nothing left to do", rowByID(bobID)+`?.dataset.status === "anonymized" && `+rowByID(bobID)+`.textContent.includes("(anonymized)") && `+rowByID(bobID)+`.querySelector("button") === null`)
	if got := e.must(200, e.do("GET", "/users/"+bobID, e.admin, nil)); got.str("status") != "anonymized" || strings.Contains(got.raw, bob) {
		t.Fatalf("after anonymizing: %s", got.raw)
	}
	if got := e.must(200, e.do("GET", "/users?search="+url.QueryEscape(bob), e.admin, nil)); len(got.list("items")) != 0 {
		t.Fatalf("the old email still finds them: %s", got.raw)
	}
	wait(t, ctx, "no stray value", `!/\b(null|undefined|NaN)\b|\[object /.test(document.body.innerText)`)
	for _, m := range console() {
		if m.IsException() || strings.Contains(m.Text, "Content Security Policy") || strings.Contains(m.Text, "Content-Security-Policy") {
			t.Errorf("console: %s", m)
		}
	}
}

// column is the JavaScript expression of a column's texts in the table
// of the open view, the first text of each cell.
func column(label string) string {
	return fmt.Sprintf(`JSON.stringify([...document.querySelectorAll("main tbody td[data-label='%s']")].map((c) => c.firstChild?.textContent ?? ""))`, label)
}

// listed waits for a column of the open view's table to read want.
func listed(t *testing.T, ctx context.Context, what, label string, want []string) {
	t.Helper()
	j, _ := json.Marshal(want)
	wait(t, ctx, what, fmt.Sprintf(`%s === %q`, column(label), j))
}

// typeFilter types a filter's value, as a user would, and presses Enter.
func typeFilter(t *testing.T, ctx context.Context, label, text string) {
	t.Helper()
	sel := fmt.Sprintf(`[...document.querySelectorAll("main form label")].find((l) => l.firstChild.textContent === %q).control`, label)
	step(t, ctx, "filter "+label+" "+text,
		chromedp.Evaluate[chromedp.Void](sel+`.value = ""`),
		chromedp.Evaluate[chromedp.Void](sel+`.focus()`),
		chromedp.KeyEvent(text+kb.Enter))
}

// sinceIn sets a Since filter to the browser's now plus d.
func sinceIn(d time.Duration) chromedp.Action[chromedp.Void] {
	return chromedp.Evaluate[chromedp.Void](fmt.Sprintf(`(() => { const d = new Date(Date.now() + %d); d.setMinutes(d.getMinutes() - d.getTimezoneOffset());
  const s = [...document.querySelectorAll("main form label")].find((l) => l.firstChild.textContent === "Since").control;
  s.value = d.toISOString().slice(0, 16); s.dispatchEvent(new Event("change", { bubbles: true })); })()`, d.Milliseconds()))
}

// The admin's other pages, in a real browser: rename a team (a taken name
// refused) and delete it, and see the users lose it; filter the audit log
// and the sign-in attempts by each of their fields, which really narrow
// the lists; then, as a member, change my own password under My account:
// a wrong current one is refused next to its field, the right one keeps
// this session, ends the others and retires the old password.
func TestConsoleAdminPagesInABrowser(t *testing.T) {
	e := newEnv(t)
	ctx, console := browser(t)
	compilers := e.team("Compilers")
	e.team("Sales")
	ada := emailtest.Address("ada", "example.com")
	adaID := e.createUser(ada, "member", map[string]any{"team_id": compilers})
	e.problem(401, "invalid_credentials", e.do("POST", "/auth/login", "", map[string]any{"login": ada, "password": "not Ada's"}))
	e.login(ada, "pw for "+ada)
	// What follows happens two hours later, for the Since filters to tell apart.
	e.clock.Advance(2 * time.Hour)
	consoleSignIn(t, e, ctx, adminEmail, adminPassword)
	adminID := e.userByEmail(adminEmail).ID

	// Rename: a taken name is refused in the dialog; a free one is saved.
	step(t, ctx, "open the teams", chromedp.Click(chromedp.ID("nav-teams")))
	listed(t, ctx, "the teams", "Name", []string{"Compilers", "Sales"})
	step(t, ctx, "rename Compilers", chromedp.Click(chromedp.CSS(`button[aria-label="Rename Compilers"]`)), chromedp.WaitVisible(chromedp.CSS(`dialog[open] [name="name"]`)))
	step(t, ctx, "to Sales", chromedp.Evaluate[chromedp.Void](`document.querySelector('dialog[open] [name="name"]').value = ""`),
		chromedp.SendKeys(chromedp.CSS(`dialog[open] [name="name"]`), "sales"), chromedp.Click(chromedp.CSS(`dialog[open] button[type="submit"]`)))
	wait(t, ctx, "the refusal", `document.querySelector("dialog[open]") !== null && /taken|already/i.test(document.querySelector("dialog[open]").innerText)`)
	if got := e.teamOf(compilers)["name"]; got != "Compilers" {
		t.Fatalf("renamed to a taken name: %v", got)
	}
	step(t, ctx, "to Compiler Team", chromedp.Evaluate[chromedp.Void](`document.querySelector('dialog[open] [name="name"]').value = ""`),
		chromedp.SendKeys(chromedp.CSS(`dialog[open] [name="name"]`), "Compiler Team"))
	confirmDialog(t, ctx, "the rename")
	listed(t, ctx, "the new name", "Name", []string{"Compiler Team", "Sales"})
	if got := e.teamOf(compilers)["name"]; got != "Compiler Team" {
		t.Fatalf("the team is named %v after the rename", got)
	}
	step(t, ctx, "open the users", chromedp.Click(chromedp.ID("nav-users")))
	wait(t, ctx, "Ada's team, renamed", rowOf(ada)+`?.textContent.includes("Compiler Team")`)

	// Delete: its member stays, with no team. (A minute on, so that the
	// audit log's newest-first order is the order they happened in.)
	e.clock.Advance(time.Minute)
	step(t, ctx, "open the teams", chromedp.Click(chromedp.ID("nav-teams")))
	step(t, ctx, "delete Compiler Team", chromedp.WaitVisible(chromedp.CSS(`button[aria-label="Delete Compiler Team"]`)), chromedp.Click(chromedp.CSS(`button[aria-label="Delete Compiler Team"]`)))
	confirmDialog(t, ctx, "the deletion")
	listed(t, ctx, "the team is gone", "Name", []string{"Sales"})
	if e.teamOf(compilers) != nil {
		t.Fatal("the team outlives its deletion")
	}
	if got := e.must(200, e.do("GET", "/users/"+adaID, e.admin, nil)); got.str("status") != "active" || got.get("team_id") != nil {
		t.Fatalf("Ada after deleting her team: %s", got.raw)
	}
	step(t, ctx, "open the users", chromedp.Click(chromedp.ID("nav-users")))
	wait(t, ctx, "Ada, with no team", rowOf(ada)+`?.querySelector('[data-label="Team"]').textContent === "—" && ![...document.querySelectorAll("#filter-team option")].some((o) => o.value === `+strconv.Quote(compilers)+`)`)

	// The audit log: each filter narrows it, and they combine.
	step(t, ctx, "open the audit log", chromedp.Click(chromedp.ID("nav-audit")))
	wait(t, ctx, "the events", `document.querySelectorAll("main tbody tr").length > 3`)
	typeFilter(t, ctx, "Target id", compilers)
	listed(t, ctx, "the team's events", "Action", []string{"team.deleted", "team.updated", "team.created"})
	typeFilter(t, ctx, "Actor id", adminID)
	listed(t, ctx, "the admin's events on the team", "Action", []string{"team.deleted", "team.updated"})
	typeFilter(t, ctx, "Actor id", "")
	typeFilter(t, ctx, "Action", "team.updated")
	listed(t, ctx, "the rename alone", "Action", []string{"team.updated"})
	typeFilter(t, ctx, "Action", "")
	step(t, ctx, "since an hour from now", sinceIn(time.Hour))
	listed(t, ctx, "the team's events of two hours later", "Action", []string{"team.deleted", "team.updated"})
	typeFilter(t, ctx, "Target id", "")
	shots(t, ctx, "console-audit-filtered")
	if got := e.must(200, e.do("GET", "/audit-events?target_id="+compilers, e.admin, nil)); len(got.list("items")) != 3 {
		t.Fatalf("the team's events: %s", got.raw)
	}

	// The sign-in attempts, likewise.
	step(t, ctx, "open the sign-in attempts", chromedp.Click(chromedp.ID("nav-attempts")))
	wait(t, ctx, "the attempts", `document.getElementById("view-title")?.textContent === "Sign-in attempts" && document.querySelectorAll("main tbody tr").length > 2`)
	typeFilter(t, ctx, "User id", adaID)
	listed(t, ctx, "Ada's attempts", "Outcome", []string{"signed in", "invalid credentials"})
	step(t, ctx, "failed ones", setSelect(`main form [name="success"]`, "false"))
	listed(t, ctx, "Ada's failed attempt", "Outcome", []string{"invalid credentials"})
	typeFilter(t, ctx, "User id", "")
	step(t, ctx, "succeeded ones, since an hour from now", setSelect(`main form [name="success"]`, "true"), sinceIn(time.Hour))
	listed(t, ctx, "the console's sign-in alone", "Login", []string{adminEmail})
	step(t, ctx, "since the day after", sinceIn(26*time.Hour))
	wait(t, ctx, "none", `document.querySelector("main tbody") === null && document.querySelector("main").innerText.includes("No sign-in attempt matches")`)

	// My account, as a member: change my password.
	carol := emailtest.Address("carol", "example.com")
	e.createUser(carol, "member", nil)
	elsewhere := e.login(carol, "pw for "+carol)
	step(t, ctx, "sign out", chromedp.Click(chromedp.ID("signout")), chromedp.WaitVisible(chromedp.ID("signin")))
	consoleSignIn(t, e, ctx, carol, "pw for "+carol)
	wait(t, ctx, "my account", `location.hash === "#/account" && document.getElementById("password-form") !== null`)
	step(t, ctx, "a wrong current password",
		chromedp.SendKeys(chromedp.CSS(`#password-form [name="current_password"]`), "not my password"),
		chromedp.SendKeys(chromedp.CSS(`#password-form [name="new_password"]`), "carol's brand new passphrase"),
		chromedp.Click(chromedp.CSS(`#password-form button[type="submit"]`)))
	wait(t, ctx, "refused next to the field", `(() => { const c = document.querySelector('#password-form [name="current_password"]'); return c.getAttribute("aria-invalid") === "true" && document.getElementById(c.id + "-error").textContent.includes("not your current password"); })()`)
	e.login(carol, "pw for "+carol) // unchanged
	step(t, ctx, "the right one",
		chromedp.Evaluate[chromedp.Void](`for (const c of document.querySelectorAll("#password-form input")) c.value = ""`),
		chromedp.SendKeys(chromedp.CSS(`#password-form [name="current_password"]`), "pw for "+carol),
		chromedp.SendKeys(chromedp.CSS(`#password-form [name="new_password"]`), "carol's brand new passphrase"),
		chromedp.Click(chromedp.CSS(`#password-form button[type="submit"]`)))
	said(t, ctx, "Password changed")
	wait(t, ctx, "this session alone", `JSON.stringify([...document.querySelectorAll("main tbody tr")].map((r) => r.lastChild.textContent)) === '["this session"]'`)
	e.problem(401, "invalid_credentials", e.do("POST", "/auth/login", "", map[string]any{"login": carol, "password": "pw for " + carol}))
	e.problem(401, "unauthorized", e.do("GET", "/me", elsewhere, nil))
	e.login(carol, "carol's brand new passphrase")
	step(t, ctx, "reload", chromedp.Navigate(e.url+"/console"))
	wait(t, ctx, "still signed in", `document.getElementById("password-form") !== null`)
	for _, m := range console() {
		if m.IsException() || strings.Contains(m.Text, "Content Security Policy") || strings.Contains(m.Text, "Content-Security-Policy") {
			t.Errorf("console: %s", m)
		}
	}
}

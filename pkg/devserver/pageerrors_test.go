package devserver_test

import (
	"context"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	"github.com/usermgmt/ums/pkg/email/emailtest"
)

// pageWatch keeps what went wrong in a tab's requests: each one that
// failed to load, and each answer of 400 or more, whatever asked for it
// (the document, a script, a style sheet, the icon, the API). It counts the
// requests in flight, so that a test can wait for a page to settle.
type pageWatch struct {
	mu       sync.Mutex
	urls     map[network.RequestID]string
	inflight map[network.RequestID]bool
	answered map[string]int // by URL, the last status
	problems []string
}

// watchPage starts watching the requests of the tab of ctx.
func watchPage(t *testing.T, ctx context.Context) *pageWatch {
	t.Helper()
	w := &pageWatch{urls: map[network.RequestID]string{}, inflight: map[network.RequestID]bool{}, answered: map[string]int{}}
	err := chromedp.Listen(ctx, func(ev any) {
		// In the tab's loop: record, never call the browser.
		w.mu.Lock()
		defer w.mu.Unlock()
		switch ev := ev.(type) {
		case *network.EventRequestWillBeSent:
			w.urls[ev.RequestID] = ev.Request.URL
			w.inflight[ev.RequestID] = true
		case *network.EventResponseReceived:
			w.answered[ev.Response.URL] = int(ev.Response.Status)
			if ev.Response.Status >= 400 {
				w.problems = append(w.problems, fmt.Sprintf("%s %s answered %d", ev.Type, ev.Response.URL, ev.Response.Status))
			}
		case *network.EventLoadingFinished:
			delete(w.inflight, ev.RequestID)
		case *network.EventLoadingFailed:
			delete(w.inflight, ev.RequestID)
			what := strings.TrimSpace(ev.ErrorText + " blocked by " + string(ev.BlockedReason))
			if ev.BlockedReason == "" {
				what = ev.ErrorText
			}
			w.problems = append(w.problems, fmt.Sprintf("%s %s failed to load: %s", ev.Type, w.urls[ev.RequestID], what))
		}
	})
	if err != nil {
		t.Fatalf("watch the requests: %v", err)
	}
	return w
}

// settle waits until no request has been in flight for a while: the page
// has asked for all it asks for on its own, its icon included.
func (w *pageWatch) settle(t *testing.T, what string) {
	t.Helper()
	const quiet, patience = 400 * time.Millisecond, 60 * time.Second
	deadline := time.Now().Add(patience)
	idleSince := time.Now()
	for time.Now().Before(deadline) {
		w.mu.Lock()
		busy := len(w.inflight)
		w.mu.Unlock()
		if busy > 0 {
			idleSince = time.Now()
		} else if time.Since(idleSince) >= quiet {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	var pending []string
	for id := range w.inflight {
		pending = append(pending, w.urls[id])
	}
	t.Fatalf("%s: requests still in flight after %s: %v", what, patience, pending)
}

// status is the last status a URL was answered with, 0 if none.
func (w *pageWatch) status(u string) int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.answered[u]
}

func (w *pageWatch) report() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return slices.Clone(w.problems)
}

// checkIcon checks that the browser loads the icon the page in the tab
// declares, under the page's own policy: an image it can draw, from a data:
// URI or from a URL of this origin that answered 200. A page that declares
// none gets the browser's guess, /favicon.ico: a 404.
func checkIcon(t *testing.T, ctx context.Context, w *pageWatch, page string) {
	t.Helper()
	href := value(t, ctx, page+": its icon", chromedp.Evaluate[string](
		`document.querySelector('link[rel~="icon"]')?.href ?? new URL("/favicon.ico", location.href).href`))
	// What the browser does with the icon, done by the page itself (a
	// headless browser may not ask for it): an image, which img-src
	// governs, as it governs the icon.
	loaded := value(t, ctx, page+": load its icon", chromedp.Evaluate[bool](fmt.Sprintf(
		`new Promise((done) => { const i = new Image(); i.onload = () => done(i.naturalWidth > 0); i.onerror = () => done(false); i.src = %q; })`, href),
		chromedp.EvalAwaitPromise))
	if !loaded {
		t.Errorf("%s: its icon %.80s does not load", page, href)
	}
	if u, err := url.Parse(href); err == nil && u.Scheme != "data" {
		w.settle(t, page+": its icon")
		if got := w.status(href); got != 200 {
			t.Errorf("%s: its icon %s answered %d, want 200", page, href, got)
		}
	}
}

// account checks a password form's field for the account it is for: hidden,
// holding the account's email, the login a password manager saves the
// password under.
func account(t *testing.T, ctx context.Context, form, id, email string) {
	t.Helper()
	got := value(t, ctx, form+": the account", chromedp.Evaluate[[]string](fmt.Sprintf(
		`(() => { const f = document.getElementById(%q); return f ? [f.value, f.autocomplete, String(f.hidden), String(!!f.form?.querySelector('input[type="password"]'))] : []; })()`, id)))
	if want := []string{email, "username", "true", "true"}; !slices.Equal(got, want) {
		t.Errorf("%s: the account field (value, autocomplete, hidden, in a password form) is %q, want %q", form, got, want)
	}
}

// Every view of the console, opened as an admin from its navigation, and
// each hosted page, opened from its email: nothing goes wrong in the
// browser. No error in its console (a script's, a refused policy's, a
// resource's that did not load), no uncaught exception, no request that
// failed to load, no answer of 400 or more to any request, the icon's
// included (each page declares one its policy lets load, so no browser asks
// for /favicon.ico), and no password form without the account it is for
// (Chromium asks for an "(optionally hidden) username field").
func TestPagesLoadWithoutErrorsInABrowser(t *testing.T) {
	e := newEnv(t)
	ctx, console := browser(t)
	watch := watchPage(t, ctx)

	// Something in every view: a team with a member, a pending invitation,
	// a system key; sessions and sign-in attempts come with signing in.
	team := e.team("Compilers")
	member := emailtest.Address("member", "example.com")
	e.createUser(member, "member", map[string]any{"team_id": team})
	e.login(member, "pw for "+member)
	invited := emailtest.Address("invited", "example.com")
	e.invite(invited, map[string]any{"team_id": team})
	e.must(201, e.do("POST", "/api-keys", e.admin, map[string]any{"name": "CI", "role": "member"}))

	consoleSignIn(t, e, ctx, adminEmail, adminPassword)
	watch.settle(t, "the console")
	checkIcon(t, ctx, watch, "the console")
	nav := value(t, ctx, "the navigation", chromedp.Evaluate[[][2]string](
		`[...document.querySelectorAll("#nav a")].map((a) => [a.id, a.textContent])`))
	var visited []string
	for _, link := range nav {
		id, title := link[0], link[1]
		step(t, ctx, "open "+title, chromedp.Click(chromedp.ID(id)))
		wait(t, ctx, title, fmt.Sprintf(`location.hash === %q && document.getElementById("view-title")?.textContent === %q`,
			"#/"+strings.TrimPrefix(id, "nav-"), title))
		watch.settle(t, title)
		visited = append(visited, title)
		if id == "nav-account" {
			account(t, ctx, "my password", "password-username", adminEmail)
		}
		if id == "nav-users" {
			// The dialog that sets another user's password.
			act(t, ctx, member, "reset")
			step(t, ctx, "the reset dialog", chromedp.WaitVisible(chromedp.ID("reset-new-password")))
			wait(t, ctx, "the password field has the focus", `document.activeElement?.id === "reset-new-password"`)
			account(t, ctx, "the reset dialog", "reset-username", member)
			watch.settle(t, "the reset dialog")
			step(t, ctx, "close it", chromedp.Evaluate[chromedp.Void](`document.querySelector("dialog[open]").close()`))
			wait(t, ctx, "the dialog closes", `document.querySelector("dialog[open]") === null`)
		}
	}
	want := []string{"Users", "Invitations", "Sessions", "Sign-in attempts", "Audit log", "Teams", "API keys", "Settings", "My account"}
	if !slices.Equal(visited, want) {
		t.Errorf("the admin's navigation is %q, want %q", visited, want)
	}

	// The hosted pages, from their emails.
	link := e.tokenLink(invited)
	step(t, ctx, "open the invitation", chromedp.Navigate(link), chromedp.WaitVisible(chromedp.ID("form")))
	watch.settle(t, "the accept page")
	checkIcon(t, ctx, watch, "the accept page")
	account(t, ctx, "the accept page", "f-account", invited)
	forgetful := emailtest.Address("forgetful", "example.com")
	id := e.createUser(forgetful, "member", nil)
	e.must(201, e.do("POST", "/users/"+id+"/password-reset", e.admin, map[string]any{"send_email": true}))
	step(t, ctx, "open the reset link", chromedp.Navigate(e.tokenLink(forgetful)), chromedp.WaitVisible(chromedp.ID("form")))
	watch.settle(t, "the reset page")
	checkIcon(t, ctx, watch, "the reset page")
	account(t, ctx, "the reset page", "f-account", forgetful)

	for _, p := range watch.report() {
		t.Errorf("request: %s", p)
	}
	kinds := map[chromedp.ConsoleType]int{}
	for _, m := range console() {
		kinds[m.Type]++
		switch {
		case m.Type == chromedp.ConsoleError || m.IsException():
			t.Errorf("console %s (%s:%d)", m, m.URL, m.Line+1)
		case strings.Contains(m.Text, "Password forms should have"):
			t.Errorf("console: %s", m)
		}
	}
	t.Logf("the browser's console messages, by kind: %v", kinds)
}

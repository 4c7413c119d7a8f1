package devserver_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/usermgmt/ums/pkg/email/emailtest"
)

// browser starts headless Chromium (Debian's chromium, which make test
// installs) for one test and returns a context for its tab, and the
// page's console messages so far. A missing browser fails the test: a
// green run always means the pages ran in one.
//
// The messages come from the browser as events, which may still be on
// their way when the test asks for them: the page writes a mark of its
// own then, and the messages are those that came before it, all of them.
func browser(t *testing.T) (context.Context, func() []chromedp.ConsoleMessage) {
	t.Helper()
	path := os.Getenv("CHROMIUM")
	if path == "" {
		var err error
		if path, err = exec.LookPath("chromium"); err != nil {
			t.Fatal("chromium is not installed: run the tests with `make test`, which installs it, or set CHROMIUM to a Chromium binary")
		}
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(path),
		// Root in a container has no user namespace for Chromium's sandbox.
		chromedp.NoSandbox, chromedp.WindowSize(1280, 900))
	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelTab := chromedp.NewContext(alloc)
	t.Cleanup(func() { cancelTab(); cancelAlloc() })
	var mu sync.Mutex
	var console []chromedp.ConsoleMessage
	messages := chromedp.Console(ctx)
	if err := chromedp.Do(ctx); err != nil { // starts the browser, bound to ctx alone
		t.Fatalf("start chromium: %v", err)
	}
	go func() {
		for m, err := range messages {
			if err != nil {
				return
			}
			mu.Lock()
			console = append(console, m)
			mu.Unlock()
		}
	}()
	const markPrefix = "devserver test: console read "
	marks := 0
	return ctx, func() []chromedp.ConsoleMessage {
		t.Helper()
		marks++
		mark := markPrefix + strconv.Itoa(marks)
		step(t, ctx, "mark the console", chromedp.Evaluate[chromedp.Void](fmt.Sprintf(`console.debug(%q)`, mark)))
		for deadline := time.Now().Add(browserWait); ; time.Sleep(10 * time.Millisecond) {
			mu.Lock()
			marked := slices.ContainsFunc(console, func(m chromedp.ConsoleMessage) bool { return m.Text == mark })
			out := slices.DeleteFunc(slices.Clone(console), func(m chromedp.ConsoleMessage) bool { return strings.HasPrefix(m.Text, markPrefix) })
			mu.Unlock()
			if marked {
				return out
			}
			if time.Now().After(deadline) {
				t.Fatalf("the console's mark did not come back from the browser")
			}
		}
	}
}

// browserWait bounds each step in the browser and each wait for a
// condition on its page. It is only there to end a test that would hang:
// the waits are for conditions, and a busy machine takes its time.
const browserWait = 90 * time.Second

// step runs actions with a deadline of their own, failing the test with
// what was being done.
func step(t *testing.T, ctx context.Context, what string, actions ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	sctx, cancel := context.WithTimeout(ctx, browserWait)
	defer cancel()
	if err := chromedp.Do(sctx, actions...); err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

func value[T any](t *testing.T, ctx context.Context, what string, a chromedp.Action[T]) T {
	t.Helper()
	sctx, cancel := context.WithTimeout(ctx, browserWait)
	defer cancel()
	v, err := chromedp.Run(sctx, a)
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	return v
}

// until waits for a JavaScript condition on the page to hold.
func until(t *testing.T, ctx context.Context, what, condition string) {
	t.Helper()
	value(t, ctx, what, poll(condition))
}

// poll is chromedp.Poll with browserWait for its own timeout (30 s unless
// told), which the page keeps.
func poll(condition string) chromedp.Action[bool] {
	return chromedp.Poll[bool](condition, chromedp.WithPollingTimeout(browserWait))
}

// shots writes a screenshot of the page as it now is, at desktop and
// phone widths, into SCREENSHOTS (make screenshots) when it is set.
func shots(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	dir := os.Getenv("SCREENSHOTS")
	if dir == "" {
		return
	}
	for _, size := range []struct {
		suffix string
		w, h   int64
		mobile bool
	}{{"desktop", 1280, 900, false}, {"phone", 390, 844, true}} {
		emulate := chromedp.EmulateViewport(size.w, size.h)
		if size.mobile {
			emulate = chromedp.EmulateViewport(size.w, size.h, chromedp.EmulateMobile, chromedp.EmulateScale(2))
		}
		step(t, ctx, "resize for "+name, emulate)
		png := value(t, ctx, "screenshot "+name, chromedp.FullScreenshot(100))
		if err := os.WriteFile(filepath.Join(dir, name+"-"+size.suffix+".png"), png, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	step(t, ctx, "reset the viewport", chromedp.EmulateViewport(1280, 900))
}

// The accept page in a real browser: open the link from the mail, read
// the invitation, be told what the password needs, get a field error from
// the API next to its field, accept and see the signed-in result; decline
// another; open an expired one and a used one. The page runs under its own
// Content-Security-Policy throughout, on a phone's width too.
func TestAcceptPageInABrowser(t *testing.T) {
	e := newEnv(t)
	ctx, console := browser(t)
	team := e.team("Compilers")

	addr := emailtest.Address("browser", "example.com")
	e.invite(addr, map[string]any{"team_id": team, "message": "Welcome!\n<img src=x onerror=\"window.pwned=1\">"})
	link := e.tokenLink(addr)
	step(t, ctx, "open the link from the mail", chromedp.Navigate(link), chromedp.WaitVisible(chromedp.ID("form")))
	who := value(t, ctx, "who", chromedp.Text(chromedp.ID("who")))
	for _, want := range []string{"Admin User", addr, "member", "Compilers"} {
		if !strings.Contains(who, want) {
			t.Errorf("the page says %q, without %q", who, want)
		}
	}
	if msg := value(t, ctx, "message", chromedp.Text(chromedp.ID("message"))); !strings.Contains(msg, `<img src=x onerror="window.pwned=1">`) {
		t.Errorf("the message is not shown as written: %q", msg)
	}
	if pwned := value(t, ctx, "script from the message", chromedp.Evaluate[bool](`window.pwned === 1`)); pwned {
		t.Fatal("markup in the personal message ran on the page")
	}
	if rules := value(t, ctx, "rules", chromedp.Text(chromedp.ID("rules"))); !strings.Contains(rules, "At least 8 characters") {
		t.Errorf("the password rules are not shown before submitting: %q", rules)
	}
	if !strings.Contains(value(t, ctx, "expiry", chromedp.Text(chromedp.ID("expiry"))), "expires") {
		t.Error("no expiry on the page")
	}
	// The token is out of the address bar (and so of the history).
	if loc := value(t, ctx, "location", chromedp.Location()); strings.Contains(loc, "token") {
		t.Errorf("the address bar still holds the token: %s", loc)
	}
	fitsPhone(t, ctx)
	shots(t, ctx, "accept-invitation")

	// A password the API refuses: its reason appears next to the field.
	step(t, ctx, "submit a common password",
		chromedp.SendKeys(chromedp.ID("f-given_name"), "Ada"),
		chromedp.SendKeys(chromedp.ID("f-family_name"), "Lovelace"),
		chromedp.SendKeys(chromedp.ID("f-password"), "password1234"),
		chromedp.Click(chromedp.ID("accept")))
	until(t, ctx, "the field error", `document.getElementById("f-password-error").textContent !== ""`)
	if msg := value(t, ctx, "field error", chromedp.Text(chromedp.ID("f-password-error"))); !strings.Contains(strings.ToLower(msg), "common") {
		t.Errorf("the password's error reads %q", msg)
	}
	if inv := value(t, ctx, "aria-invalid", chromedp.AttributeValue(chromedp.ID("f-password"), "aria-invalid")); inv.Value != "true" {
		t.Error("the refused field is not marked invalid")
	}
	shots(t, ctx, "accept-invitation-field-error")

	step(t, ctx, "accept with a good password",
		chromedp.Evaluate[chromedp.Void](`document.getElementById("f-password").value = ""`),
		chromedp.SendKeys(chromedp.ID("f-password"), "a long and unusual passphrase"),
		chromedp.Click(chromedp.ID("accept")),
		chromedp.WaitVisible(chromedp.ID("done")))
	if done := value(t, ctx, "done", chromedp.Text(chromedp.ID("done"))); !strings.Contains(done, addr) {
		t.Errorf("the signed-in result reads %q", done)
	}
	shots(t, ctx, "accept-invitation-done")
	if u := e.userByEmail(addr); u.Status != "active" || u.GivenName != "Ada" || u.LastLoginAt == nil {
		t.Fatalf("after accepting in the browser: %+v", u)
	}
	e.login(addr, "a long and unusual passphrase") // the password typed last, alone

	// The same link again: a clear page, no form.
	step(t, ctx, "open the used link", chromedp.Navigate(link))
	until(t, ctx, "the used page", `document.getElementById("title").textContent.includes("no longer valid")`)
	shots(t, ctx, "accept-invitation-used")

	// Decline another, which takes a second click.
	other := emailtest.Address("decliner", "example.com")
	e.invite(other, nil)
	step(t, ctx, "decline",
		chromedp.Navigate(e.tokenLink(other)),
		chromedp.WaitVisible(chromedp.ID("decline")),
		chromedp.Click(chromedp.ID("decline")))
	until(t, ctx, "the confirmation", `document.getElementById("decline").textContent === "Yes, decline"`)
	if s := e.must(200, e.do("GET", "/invitations?status=declined", e.admin, nil)); len(s.list("items")) != 0 {
		t.Fatal("one click declined")
	}
	step(t, ctx, "confirm the decline", chromedp.Click(chromedp.ID("decline")), chromedp.WaitVisible(chromedp.ID("declined")))
	shots(t, ctx, "accept-invitation-declined")
	if s := e.must(200, e.do("GET", "/invitations?status=declined", e.admin, nil)); len(s.list("items")) != 1 {
		t.Fatalf("declined: %s", s.raw)
	}

	// An expired one.
	late := emailtest.Address("late", "example.com")
	e.invite(late, nil)
	e.clock.Advance(8 * 24 * time.Hour)
	step(t, ctx, "open an expired link", chromedp.Navigate(e.tokenLink(late)))
	until(t, ctx, "the expired page", `document.getElementById("title").textContent.includes("expired")`)
	fitsPhone(t, ctx)
	shots(t, ctx, "accept-invitation-expired")

	for _, m := range console() {
		if m.IsException() || strings.Contains(m.Text, "Content Security Policy") || strings.Contains(m.Text, "Content-Security-Policy") {
			t.Errorf("console: %s", m)
		}
	}
}

// fitsPhone checks the page at a phone's width: nothing wider than the
// screen, so nothing to scroll sideways.
func fitsPhone(t *testing.T, ctx context.Context) {
	t.Helper()
	step(t, ctx, "phone width", chromedp.EmulateViewport(390, 844, chromedp.EmulateMobile))
	if ok := value(t, ctx, "width", chromedp.Evaluate[bool](`document.documentElement.scrollWidth <= window.innerWidth`)); !ok {
		t.Error("the page is wider than a phone's screen")
	}
	step(t, ctx, "desktop width", chromedp.EmulateViewport(1280, 900))
}

// The reset page in a real browser, like the accept page: open the link
// from the mail, see the rules, get the API's refusal next to the field,
// set the password and see it done; the used link and an expired one get
// their clear pages.
func TestResetPageInABrowser(t *testing.T) {
	e := newStreamEnv(t, nil)
	ctx, console := browser(t)
	addr := emailtest.Address("forgetful", "example.com")
	id := e.createUser(addr, "member", nil)
	e.must(201, e.do("POST", "/users/"+id+"/password-reset", e.admin, map[string]any{"send_email": true}))
	link := e.mails(addr)[0].Link(t)
	step(t, ctx, "open the link from the mail", chromedp.Navigate(link), chromedp.WaitVisible(chromedp.ID("form")))
	if who := value(t, ctx, "who", chromedp.Text(chromedp.ID("who"))); !strings.Contains(who, addr) {
		t.Errorf("the page says %q", who)
	}
	if rules := value(t, ctx, "rules", chromedp.Text(chromedp.ID("rules"))); !strings.Contains(rules, "At least 8 characters") {
		t.Errorf("rules %q", rules)
	}
	if loc := value(t, ctx, "location", chromedp.Location()); strings.Contains(loc, "token") {
		t.Errorf("the address bar still holds the token: %s", loc)
	}
	fitsPhone(t, ctx)
	shots(t, ctx, "reset-password")
	step(t, ctx, "submit a common password",
		chromedp.SendKeys(chromedp.ID("f-password"), "password1234"), chromedp.Click(chromedp.ID("save")))
	until(t, ctx, "the field error", `document.getElementById("f-password-error").textContent !== ""`)
	shots(t, ctx, "reset-password-field-error")
	step(t, ctx, "set a good one",
		chromedp.Evaluate[chromedp.Void](`document.getElementById("f-password").value = ""`),
		chromedp.SendKeys(chromedp.ID("f-password"), "a memorable new passphrase"),
		chromedp.Click(chromedp.ID("save")), chromedp.WaitVisible(chromedp.ID("done")))
	shots(t, ctx, "reset-password-done")
	e.login(addr, "a memorable new passphrase")

	step(t, ctx, "open the used link", chromedp.Navigate(link))
	until(t, ctx, "the used page", `document.getElementById("title").textContent.includes("no longer valid")`)
	e.must(201, e.do("POST", "/users/"+id+"/password-reset", e.admin, map[string]any{"send_email": true}))
	var late string
	for _, m := range e.mails(addr) {
		if m.Subject == "Reset your password" {
			late = m.Link(t)
		}
	}
	e.clock.Advance(2 * time.Hour)
	step(t, ctx, "open an expired link", chromedp.Navigate(late))
	until(t, ctx, "the expired page", `document.getElementById("title").textContent.includes("expired")`)
	shots(t, ctx, "reset-password-expired")
	for _, m := range console() {
		if m.IsException() || strings.Contains(m.Text, "Content Security Policy") {
			t.Errorf("console: %s", m)
		}
	}
}

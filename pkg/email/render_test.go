package email

import (
	"html"
	"strings"
	"testing"
	"time"

	"github.com/usermgmt/ums/pkg/notices"
)

const (
	testToken = "tok_SECRET0123456789"
	testLink  = "https://app.example.com/invitations/accept?token=" + testToken + "&lang=en"
	xssNote   = "<script>alert(1)</script>\nsecond line"
)

// expiresAt is 14:00 UTC given in another zone, to prove mails show UTC.
var expiresAt = time.Date(2026, 12, 8, 16, 0, 0, 0, time.FixedZone("EET", 2*3600))

const expiresText = "Tuesday 8 December 2026, 14:00 UTC"

func invitation() notices.Invitation {
	return notices.Invitation{
		To:          "ada@example.com",
		InviterName: "Grace Hopper",
		Role:        "manager",
		TeamName:    "Platform & Tools",
		Message:     xssNote,
		Link:        testLink,
		ExpiresAt:   expiresAt,
	}
}

func mustRender(t *testing.T, n notices.Notice, product string) Message {
	t.Helper()
	m, err := Render(n, product)
	if err != nil {
		t.Fatalf("Render(%T): %v", n, err)
	}
	return m
}

func wantIn(t *testing.T, part, body string, want ...string) {
	t.Helper()
	for _, w := range want {
		if !strings.Contains(body, w) {
			t.Errorf("%s part lacks %q:\n%s", part, w, body)
		}
	}
}

func wantNotIn(t *testing.T, part, body string, unwanted ...string) {
	t.Helper()
	for _, w := range unwanted {
		if strings.Contains(body, w) {
			t.Errorf("%s part contains %q:\n%s", part, w, body)
		}
	}
}

// checkPlainHTML asserts what every HTML part must be: a whole document,
// inline styles only, nothing loaded from elsewhere, the product in the
// footer, and every URL in it one of the links the message carries.
func checkPlainHTML(t *testing.T, m Message, product string, links ...string) {
	t.Helper()
	h := m.HTML
	wantIn(t, "HTML", h, "<!DOCTYPE html>", `<html lang="en">`, "<title>"+html.EscapeString(m.Subject)+"</title>", "</html>")
	wantNotIn(t, "HTML", h, "<style", "<link", "<img", "src=", "url(", "@import", "<script")
	footer := h[strings.LastIndex(h, "</table>\n<p"):]
	wantIn(t, "HTML footer", footer, html.EscapeString(product))
	rest := h
	for _, l := range links {
		rest = strings.ReplaceAll(rest, html.EscapeString(l), "")
	}
	if strings.Contains(rest, "http:") || strings.Contains(rest, "https:") {
		t.Errorf("HTML part holds a URL other than %q:\n%s", links, h)
	}
	wantIn(t, "text", m.Text, "\n-- \n", product+"\n")
}

func TestInvitation(t *testing.T) {
	m := mustRender(t, invitation(), "")
	if m.To != "ada@example.com" {
		t.Errorf("To %q", m.To)
	}
	if want := "Grace Hopper invited you to User management"; m.Subject != want {
		t.Errorf("subject %q, want %q", m.Subject, want)
	}
	checkPlainHTML(t, m, "User management", testLink)

	// The HTML escapes every value: the team's "&", the script, and the
	// link's "&" in both the button and the visible address.
	wantIn(t, "HTML", m.HTML,
		"Grace Hopper invited you to join User management as a manager, in the team <strong>Platform &amp; Tools</strong>.",
		"Grace Hopper wrote:",
		"&lt;script&gt;alert(1)&lt;/script&gt;<br>\nsecond line</blockquote>",
		`<a href="`+html.EscapeString(testLink)+`" style="display:inline-block;`,
		`word-break:break-all;">`+html.EscapeString(testLink)+"</a>",
		"The invitation expires on "+expiresText+".",
		"If you did not expect this invitation, you can ignore this email",
	)
	if n := strings.Count(m.HTML, `href="`+html.EscapeString(testLink)+`"`); n != 2 {
		t.Errorf("HTML has %d links to the invitation, want 2 (the button and the address)", n)
	}
	if !strings.Contains(m.HTML, "<blockquote") {
		t.Error("HTML has no quoted block for the personal message")
	}

	// The text part keeps everything as typed: no entities, the message
	// quoted line by line, the raw URL on a line of its own.
	wantIn(t, "text", m.Text,
		"Grace Hopper invited you to join User management as a manager, in the team Platform & Tools.",
		"Grace Hopper wrote:\n\n> <script>alert(1)</script>\n> second line\n",
		"\n"+testLink+"\n",
		"The invitation expires on "+expiresText+".",
		"If you did not expect this invitation, you can ignore this email",
	)
	wantNotIn(t, "text", m.Text, "&amp;", "&lt;", "&#", "<br>", "<p")
}

func TestInvitationEscapesQuotes(t *testing.T) {
	n := invitation()
	n.Message = `He said "hi" & left` + "\r\n\r\n" + `<b onclick="x()">bold</b>`
	m := mustRender(t, n, "")
	wantIn(t, "HTML", m.HTML, "He said &#34;hi&#34; &amp; left<br>\n<br>\n&lt;b onclick=&#34;x()&#34;&gt;bold&lt;/b&gt;</blockquote>")
	wantNotIn(t, "HTML", m.HTML, `"hi"`, "<b onclick")
	wantIn(t, "text", m.Text, "> He said \"hi\" & left\n> \n> <b onclick=\"x()\">bold</b>\n")
}

func TestInvitationWithoutTeamOrMessage(t *testing.T) {
	n := invitation()
	n.TeamName, n.Message, n.Role = "", "", "admin"
	m := mustRender(t, n, "")
	for part, body := range map[string]string{"HTML": m.HTML, "text": m.Text} {
		if strings.Contains(strings.ToLower(body), "team") {
			t.Errorf("%s part of a team-less invitation mentions a team:\n%s", part, body)
		}
		wantNotIn(t, part, body, "wrote:", "<blockquote", "> ")
	}
	wantIn(t, "HTML", m.HTML, "Grace Hopper invited you to join User management as an administrator.</p>")
	wantIn(t, "text", m.Text, "Grace Hopper invited you to join User management as an administrator.\n")
}

func TestInvitationRoles(t *testing.T) {
	for role, want := range map[string]string{"admin": "as an administrator", "manager": "as a manager", "member": "as a member", "auditor": "as “auditor”"} {
		n := invitation()
		n.Role = role
		m := mustRender(t, n, "")
		wantIn(t, "text", m.Text, want)
		wantIn(t, "HTML", m.HTML, want)
	}
}

// An inviter's name goes into the subject: whatever validation upstream
// missed, no line break may reach it.
func TestInvitationNameCannotBreakTheSubject(t *testing.T) {
	n := invitation()
	n.InviterName = "Eve\r\nBcc: evil@x.com\u2028\x00\u202e"
	m := mustRender(t, n, "")
	if want := "Eve Bcc: evil@x.com invited you to User management"; m.Subject != want {
		t.Errorf("subject %q, want %q", m.Subject, want)
	}
	if err := checkSubject(m.Subject); err != nil {
		t.Error(err)
	}
	n.InviterName = " \r\n "
	if m := mustRender(t, n, ""); m.Subject != "Someone invited you to User management" {
		t.Errorf("subject %q for a blank inviter", m.Subject)
	}
}

func TestPasswordReset(t *testing.T) {
	link := "https://app.example.com/reset?token=" + testToken
	n := notices.PasswordReset{To: "ada@example.com", Name: "Ada Lovelace", Link: link, ExpiresAt: expiresAt}
	m := mustRender(t, n, "")
	if m.Subject != "Reset your password" || m.To != "ada@example.com" {
		t.Errorf("subject %q to %q", m.Subject, m.To)
	}
	checkPlainHTML(t, m, "User management", link)
	for part, body := range map[string]string{"HTML": m.HTML, "text": m.Text} {
		wantIn(t, part, body, "Hello Ada Lovelace,", "Someone, probably you, asked to reset the password",
			"The link expires on "+expiresText+".", "If you did not ask for this, ignore this email")
		wantNotIn(t, part, body, "administrator")
	}
	wantIn(t, "HTML", m.HTML, `href="`+link+`"`, ">Choose a new password</a>")
	wantIn(t, "text", m.Text, "\n"+link+"\n")

	n.ByAdmin, n.Name = true, ""
	m = mustRender(t, n, "Acme Portal")
	checkPlainHTML(t, m, "Acme Portal", link)
	for part, body := range map[string]string{"HTML": m.HTML, "text": m.Text} {
		wantIn(t, part, body, "Hello,", "An administrator of Acme Portal sent you this link",
			"If you did not ask for this, ignore this email")
		wantNotIn(t, part, body, "probably you")
	}
}

func TestPasswordChanged(t *testing.T) {
	n := notices.PasswordChanged{To: "ada@example.com", Name: "Ada <Admin>", At: expiresAt}
	m := mustRender(t, n, "")
	if m.Subject != "Your password was changed" || m.To != "ada@example.com" {
		t.Errorf("subject %q to %q", m.Subject, m.To)
	}
	checkPlainHTML(t, m, "User management")
	wantIn(t, "HTML", m.HTML, "Hello Ada &lt;Admin&gt;,", "was changed on "+expiresText+".",
		"<strong>If you did not</strong>, someone else may be using your account: tell your administrator")
	wantIn(t, "text", m.Text, "Hello Ada <Admin>,", "was changed on "+expiresText+".",
		"If you did not, someone else may be using your account: tell your administrator at once")
}

func TestEmailChanged(t *testing.T) {
	n := notices.EmailChanged{To: "old@example.com", Name: "Ada", NewEmail: "new@example.org", At: expiresAt}
	m := mustRender(t, n, "")
	if m.Subject != "Your email address was changed" || m.To != "old@example.com" {
		t.Errorf("subject %q to %q, want the old address", m.Subject, m.To)
	}
	checkPlainHTML(t, m, "User management")
	wantIn(t, "HTML", m.HTML, "changed on "+expiresText+" to <strong>new@example.org</strong>",
		"<strong>If you did not</strong>, someone else may be using your account: contact your administrator")
	wantIn(t, "text", m.Text, "changed on "+expiresText+" to new@example.org.",
		"If you did not, someone else may be using your account: contact your administrator at once")
}

func TestSubjects(t *testing.T) {
	for _, tc := range []struct {
		n       notices.Notice
		product string
		want    string
	}{
		{invitation(), "", "Grace Hopper invited you to User management"},
		{invitation(), "Acme Portal", "Grace Hopper invited you to Acme Portal"},
		{&notices.PasswordReset{To: "a@x.com", Link: testLink, ExpiresAt: expiresAt}, "", "Reset your password"},
		{notices.PasswordChanged{To: "a@x.com", At: expiresAt}, "", "Your password was changed"},
		{notices.EmailChanged{To: "a@x.com", NewEmail: "b@x.com", At: expiresAt}, "", "Your email address was changed"},
	} {
		if m := mustRender(t, tc.n, tc.product); m.Subject != tc.want {
			t.Errorf("%T subject %q, want %q", tc.n, m.Subject, tc.want)
		}
	}
}

func TestFormatTime(t *testing.T) {
	for in, want := range map[time.Time]string{
		expiresAt: expiresText,
		time.Date(2027, 1, 1, 0, 30, 0, 0, time.FixedZone("PST", -8*3600)): "Friday 1 January 2027, 08:30 UTC",
		time.Date(2026, 3, 5, 9, 5, 59, 0, time.UTC):                       "Thursday 5 March 2026, 09:05 UTC",
	} {
		if got := formatTime(in); got != want {
			t.Errorf("formatTime(%v) = %q, want %q", in, got, want)
		}
	}
}

func TestRenderRefusesBadNotices(t *testing.T) {
	for name, n := range map[string]notices.Notice{
		"javascript link": func() notices.Notice { n := invitation(); n.Link = "javascript:alert('" + testToken + "')"; return n }(),
		"relative link":   func() notices.Notice { n := invitation(); n.Link = "/accept?token=" + testToken; return n }(),
		"link with space": func() notices.Notice { n := invitation(); n.Link = "https://x.com/a b?token=" + testToken; return n }(),
		"no expiry":       func() notices.Notice { n := invitation(); n.ExpiresAt = time.Time{}; return n }(),
		"reset no expiry": notices.PasswordReset{To: "a@x.com", Link: testLink},
		"changed no time": notices.PasswordChanged{To: "a@x.com"},
		"email no time":   notices.EmailChanged{To: "a@x.com"},
		"nil pointer":     (*notices.Invitation)(nil),
		"nil":             nil,
	} {
		_, err := Render(n, "")
		if err == nil {
			t.Errorf("%s: rendered", name)
			continue
		}
		if strings.Contains(err.Error(), testToken) {
			t.Errorf("%s: the error shows the token: %v", name, err)
		}
	}
}

// Every value the HTML part shows is escaped, whichever notice and field it
// comes from: each field holds markup and quotes, tagged with its name, which
// must show escaped (so the field is there) and never raw, in text or in an
// attribute.
func TestRenderEscapesEveryValue(t *testing.T) {
	evil := func(field string) string { return `<i>"'&` + field }
	link := "https://app.example.com/accept?token=" + testToken + "&x=" + evil("link")
	for _, tc := range []struct {
		n      notices.Notice
		fields []string
	}{
		{notices.Invitation{To: "a@x.com", InviterName: evil("inviter"), Role: evil("role"), TeamName: evil("team"),
			Message: evil("message"), Link: link, ExpiresAt: expiresAt}, []string{"inviter", "role", "team", "message", "link"}},
		{notices.PasswordReset{To: "a@x.com", Name: evil("name"), Link: link, ExpiresAt: expiresAt}, []string{"name", "link"}},
		{notices.PasswordReset{To: "a@x.com", ByAdmin: true, Link: link, ExpiresAt: expiresAt}, []string{"link"}},
		{notices.PasswordChanged{To: "a@x.com", Name: evil("name"), At: expiresAt}, []string{"name"}},
		{notices.EmailChanged{To: "a@x.com", Name: evil("name"), NewEmail: evil("new"), At: expiresAt}, []string{"name", "new"}},
	} {
		m := mustRender(t, tc.n, evil("product"))
		wantNotIn(t, "HTML", m.HTML, "<i>", `"'`)
		for _, f := range append(tc.fields, "product") {
			wantIn(t, "HTML", m.HTML, html.EscapeString(evil(f)))
			wantIn(t, "text", m.Text, evil(f))
		}
	}
}

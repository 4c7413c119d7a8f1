package email

import (
	"context"
	"html"
	"testing"
	"time"

	"github.com/usermgmt/ums/pkg/email/emailtest"
	"github.com/usermgmt/ums/pkg/notices"
)

func TestSendThroughEmulator(t *testing.T) {
	endpoint := emailtest.Endpoint(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	client, err := NewClient(ctx, "us-east-1", endpoint)
	if err != nil {
		t.Fatal(err)
	}
	s, err := NewSES(client, Config{From: "Acme <no-reply@acme.com>", Product: "Acme Portal"})
	if err != nil {
		t.Fatal(err)
	}

	addrs := map[string]string{} // one recipient of this run's own per notice
	to := func(who string) string {
		if addrs[who] == "" {
			addrs[who] = emailtest.Address(who, "example.com")
		}
		return addrs[who]
	}
	sent := map[string]Message{} // by message id
	for _, n := range []notices.Notice{
		notices.Invitation{To: to("invitee"), InviterName: "Grace Hopper", Role: "member", TeamName: "Compilers",
			Message: xssNote, Link: testLink, ExpiresAt: expiresAt},
		notices.PasswordReset{To: to("reset"), Name: "Ada", Link: "https://app.example.com/reset?token=" + testToken, ExpiresAt: expiresAt, ByAdmin: true},
		notices.PasswordChanged{To: to("changed"), Name: "Ada", At: expiresAt},
		notices.EmailChanged{To: to("old"), Name: "Ada", NewEmail: to("new"), At: expiresAt},
	} {
		id, err := s.Send(ctx, n)
		if err != nil {
			t.Fatalf("Send(%T): %v", n, err)
		}
		if id == "" {
			t.Fatalf("Send(%T): no message id", n)
		}
		m, _ := Render(n, "Acme Portal")
		sent[id] = m
	}

	got := map[string]emailtest.Mail{} // by recipient
	for _, e := range emailtest.All(t, endpoint) {
		want, ok := sent[e.MessageID]
		if !ok {
			continue
		}
		got[want.To] = e
		if len(e.Destination.To) != 1 || e.Destination.To[0] != want.To || len(e.Destination.Cc)+len(e.Destination.Bcc) != 0 {
			t.Errorf("%s: destination %+v, want only %s", want.Subject, e.Destination, want.To)
		}
		if e.From != `"Acme" <no-reply@acme.com>` {
			t.Errorf("%s: from %q", want.Subject, e.From)
		}
		if e.Subject != want.Subject || e.Body.HTML != want.HTML || e.Body.Text != want.Text {
			t.Errorf("%s: stored subject %q, html %d bytes, text %d bytes; want %q and the rendered bodies (%d, %d bytes)",
				want.Subject, e.Subject, len(e.Body.HTML), len(e.Body.Text), want.Subject, len(want.HTML), len(want.Text))
		}
	}
	if len(got) != len(sent) {
		t.Fatalf("found %d of the %d mails sent in the emulator's store", len(got), len(sent))
	}

	// What reached the emulator, checked against the notices too, not
	// only against what Render made of them.
	inv := got[to("invitee")]
	if inv.Subject != "Grace Hopper invited you to Acme Portal" {
		t.Errorf("invitation subject %q", inv.Subject)
	}
	wantIn(t, "stored invitation HTML", inv.Body.HTML, "Grace Hopper", "as a member, in the team <strong>Compilers</strong>",
		"&lt;script&gt;alert(1)&lt;/script&gt;<br>\nsecond line", expiresText, `href="`+html.EscapeString(testLink)+`"`, "Acme Portal</p>")
	wantNotIn(t, "stored invitation HTML", inv.Body.HTML, "<script>")
	wantIn(t, "stored invitation text", inv.Body.Text, "> <script>alert(1)</script>\n> second line", "\n"+testLink+"\n", expiresText)

	reset := got[to("reset")]
	if reset.Subject != "Reset your password" {
		t.Errorf("reset subject %q", reset.Subject)
	}
	for part, body := range map[string]string{"HTML": reset.Body.HTML, "text": reset.Body.Text} {
		wantIn(t, "stored reset "+part, body, "An administrator of Acme Portal", "token="+testToken, expiresText, "If you did not ask for this, ignore")
	}

	changed := got[to("changed")]
	if changed.Subject != "Your password was changed" {
		t.Errorf("password changed subject %q", changed.Subject)
	}
	for part, body := range map[string]string{"HTML": changed.Body.HTML, "text": changed.Body.Text} {
		wantIn(t, "stored password changed "+part, body, "was changed on "+expiresText, "If you did not")
	}

	moved := got[to("old")]
	if moved.Subject != "Your email address was changed" {
		t.Errorf("email changed subject %q", moved.Subject)
	}
	for part, body := range map[string]string{"HTML": moved.Body.HTML, "text": moved.Body.Text} {
		wantIn(t, "stored email changed "+part, body, to("new"), expiresText, "If you did not")
	}
}

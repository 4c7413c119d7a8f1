package email

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/usermgmt/ums/pkg/apperr"
	"github.com/usermgmt/ums/pkg/notices"
)

func TestPlainAddress(t *testing.T) {
	for _, ok := range []string{
		"a@x.com", "ada.lovelace+tag@mail.example.co.uk", "o'brien@x.com", "a_b-c@x-y.io", "1@2.de",
		"xn--bcher-kva@xn--bcher-kva.example",
	} {
		if !plainAddress(ok) {
			t.Errorf("plainAddress(%q) = false", ok)
		}
	}
	for _, bad := range []string{
		"", "a@x.com\r\nBcc: evil@x.com", "a@x.com\nBcc: evil@x.com", "a@x.com\r", "a@x.com, b@x.com", "a@x.com,b@x.com",
		"a@x.com;b@x.com", "<a@x.com>", "Ada <a@x.com>", `"Ada" <a@x.com>`, "a b@x.com", " a@x.com", "a@x.com ",
		"a@x.com\t", "a\x00@x.com", "a@x.com\x7f", "ädä@x.com", "a@bücher.de", "a@", "@x.com", "a", "a@@x.com",
		"a@b@x.com", ".a@x.com", "a.@x.com", "a..b@x.com", "a@x..com", "a@-x.com", "a@x-.com", "a@x.com.",
		`"a b"@x.com`, "a@[127.0.0.1]", "a(comment)@x.com", "a@x.com:25", "group: a@x.com;",
		"a@" + string(make([]byte, 250)), "a\u2028@x.com",
	} {
		if plainAddress(bad) {
			t.Errorf("plainAddress(%q) = true", bad)
		}
	}
}

func TestParseFrom(t *testing.T) {
	for in, want := range map[string]string{
		"no-reply@acme.com":           "no-reply@acme.com",
		"Acme <no-reply@acme.com>":    `"Acme" <no-reply@acme.com>`,
		`"Acme, Inc." <a@acme.com>`:   `"Acme, Inc." <a@acme.com>`,
		"Åcme Støre <a@acme.com>":     "=?utf-8?q?=C3=85cme_St=C3=B8re?= <a@acme.com>",
		"<no-reply@acme.com>":         "no-reply@acme.com",
		"  Acme  <no-reply@acme.com>": `"Acme" <no-reply@acme.com>`,
	} {
		got, err := parseFrom(in)
		if err != nil || got != want {
			t.Errorf("parseFrom(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for in, want := range map[string]error{
		"Acme <no-reply@acme.com>\r\nBcc: evil@x.com": ErrBadHeader,
		"Acme\r\n <no-reply@acme.com>":                ErrBadHeader,
		"Acme <no-reply@acme.com\n>":                  ErrBadHeader,
		"a@x.com, b@x.com":                            ErrBadAddress,
		"Acme <a@x.com>, Evil <b@x.com>":              ErrBadAddress,
		"Acme":                                        ErrBadAddress,
		"":                                            ErrBadAddress,
		"Acme <a@bücher.de>":                          ErrBadAddress,
	} {
		if _, err := parseFrom(in); !errors.Is(err, want) || apperr.KindOf(err) != apperr.KindInvalid {
			t.Errorf("parseFrom(%q): %v, want %v", in, err, want)
		}
	}
}

func TestCheckSubject(t *testing.T) {
	for _, bad := range []string{"", "  ", "Hi\r\nBcc: evil@x.com", "Hi\nthere", "Hi\rthere", "Hi\tthere", "Hi\x00", "Hi\u0085", "Hi\u2028", "Hi\xff"} {
		if err := checkSubject(bad); !errors.Is(err, ErrBadHeader) {
			t.Errorf("checkSubject(%q) = %v", bad, err)
		}
	}
	if err := checkSubject("Grâce Hopper invited you to User management ✓"); err != nil {
		t.Error(err)
	}
}

// notices returns one notice of each type, to to.
func allNotices(to string) []notices.Notice {
	return []notices.Notice{
		notices.Invitation{To: to, InviterName: "Grace Hopper", Role: "member", Link: testLink, ExpiresAt: expiresAt},
		notices.PasswordReset{To: to, Name: "Ada", Link: testLink, ExpiresAt: expiresAt},
		notices.PasswordChanged{To: to, Name: "Ada", At: expiresAt},
		notices.EmailChanged{To: to, Name: "Ada", NewEmail: "new@example.com", At: expiresAt},
	}
}

// Every refusal happens before SES is called: the fake fails the test if
// it is.
func TestHeaderInjectionRefusedBeforeSES(t *testing.T) {
	f := &fakeSES{t: t}
	s := fakeSender(t, f, Config{})
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()

	for _, to := range []string{
		"a@x.com\r\nBcc: evil@x.com", "a@x.com\nBcc: evil@x.com", "a@x.com, b@x.com", "<a@x.com>",
		"Ada <a@x.com>", "a@x.com;b@x.com", "a b@x.com", "", "a@x.com\r\n",
	} {
		for _, n := range allNotices(to) {
			_, err := s.Send(ctx, n)
			if !errors.Is(err, ErrBadAddress) || apperr.KindOf(err) != apperr.KindInvalid {
				t.Errorf("Send(%T to %q): %v, want ErrBadAddress", n, to, err)
			}
		}
	}

	for _, subject := range []string{"Hi\r\nBcc: evil@x.com", "Hi\nBcc: evil@x.com", "Hi\r"} {
		m := Message{To: "a@x.com", Subject: subject, HTML: "<p>x</p>", Text: "x"}
		if _, err := s.deliver(ctx, "test", m); !errors.Is(err, ErrBadHeader) || apperr.KindOf(err) != apperr.KindInvalid {
			t.Errorf("deliver(subject %q): %v, want ErrBadHeader", subject, err)
		}
	}

	client := fakeClient(f)
	for _, cfg := range []Config{
		{From: "Acme <no-reply@acme.com>\r\nBcc: evil@x.com"},
		{From: "Acme\n<no-reply@acme.com>"},
		{From: "no-reply@acme.com\r\n"},
		{From: "a@x.com, b@x.com"},
		{From: ""},
		{From: "a@x.com", Product: "Acme\r\nBcc: evil@x.com"},
		{From: "a@x.com", ConfigurationSet: "set\r\nX: y"},
	} {
		if s, err := NewSES(client, cfg); err == nil {
			t.Errorf("NewSES(%+q) accepted it", cfg)
			_, _ = s.Send(ctx, allNotices("a@x.com")[0])
		}
	}
	if _, err := NewSES(nil, Config{From: "a@x.com"}); err == nil {
		t.Error("NewSES(nil client) accepted it")
	}
	if n := f.Calls(); n != 0 {
		t.Errorf("SES was called %d times", n)
	}
}

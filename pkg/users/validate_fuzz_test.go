package users

import (
	"net/mail"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"
)

// nameSeeds are names people have, and text that only looks like one.
var nameSeeds = []string{"Zoë Ångström-Ó'Brien", "李", "محمد\u200f", "  Jane \t Mary ", "\u200b", "evil\u202egnp.exe", "a\u2066b",
	"\xff\xfe", "a\x00b", "a\r\nBcc: x@y.com", "\u00ad", strings.Repeat("é", 101), "Ａ", "O\u200cK", "\u0085x", "x\u2028y"}

// FuzzEmailRoundTrip: an address CheckEmail accepts is one the mail
// library reads back as exactly itself (so a header built from it says
// what was checked), and its normal form is accepted too and stable.
func FuzzEmailRoundTrip(f *testing.F) {
	for _, s := range []string{"a@x.com", "Jane.Doe+tag@Example.COM", "a!#$%&'*+/=?^_`{|}~-@x.co", "x@xn--bcher-kva.example", "a@x.com\r\nBcc: e@x.com", " a@x.com"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if CheckEmail(s) != "" {
			return
		}
		a, err := mail.ParseAddress(s)
		if err != nil || a.Address != s || a.Name != "" {
			t.Fatalf("accepted %q; the mail library reads %+v (%v)", s, a, err)
		}
		norm := NormalizeEmail(s)
		if CheckEmail(norm) != "" || NormalizeEmail(norm) != norm {
			t.Fatalf("accepted %q but not its normal form %q", s, norm)
		}
	})
}

// FuzzCheckUsername: an accepted username is 3 to 32 of the allowed ASCII
// characters, so never a login that reads as an email, and its normal
// form is accepted and stable.
func FuzzCheckUsername(f *testing.F) {
	for _, s := range []string{"abc", "jane.doe", "J_D-99", "_abc", "a@b", "jäne", "ab", strings.Repeat("a", 33)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if CheckUsername(s) != "" {
			return
		}
		if len(s) < 3 || len(s) > 32 || strings.ContainsAny(s, "@ \r\n") || strings.IndexFunc(s, func(r rune) bool { return r >= utf8.RuneSelf }) >= 0 {
			t.Fatalf("accepted %q", s)
		}
		if norm := NormalizeUsername(s); CheckUsername(norm) != "" || NormalizeUsername(norm) != norm {
			t.Fatalf("accepted %q but not its normal form %q", s, norm)
		}
	})
}

// FuzzCheckName: an accepted name is UTF-8 of at most 100 characters,
// shows something, and holds no control character (so no line break that
// could start a mail header) and nothing that reorders text; cleaning it
// keeps it accepted, and cleaning twice changes nothing more.
func FuzzCheckName(f *testing.F) {
	for _, s := range nameSeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		clean := CleanName(s)
		if CleanName(clean) != clean {
			t.Fatalf("CleanName(%q) = %q, and again %q", s, clean, CleanName(clean))
		}
		if CheckName(s) != "" {
			return
		}
		if !utf8.ValidString(s) || utf8.RuneCountInString(s) > 100 || strings.IndexFunc(s, unicode.IsControl) >= 0 ||
			strings.IndexFunc(s, isBidiControl) >= 0 || strings.IndexFunc(s, isVisible) < 0 {
			t.Fatalf("accepted %q", s)
		}
		if CheckName(clean) != "" {
			t.Fatalf("accepted %q but not its cleaned form %q: %s", s, clean, CheckName(clean))
		}
	})
}

// FuzzCheckText: accepted free text (a personal message) is UTF-8 within
// its limit, and its only control character is the line break.
func FuzzCheckText(f *testing.F) {
	for _, s := range nameSeeds {
		f.Add(s)
	}
	f.Add("Welcome!\nSee you soon.")
	f.Fuzz(func(t *testing.T, s string) {
		if CheckText(s, 500) != "" {
			return
		}
		if !utf8.ValidString(s) || utf8.RuneCountInString(s) > 500 || strings.IndexFunc(s, isBidiControl) >= 0 ||
			strings.IndexFunc(s, func(r rune) bool { return unicode.IsControl(r) && r != '\n' }) >= 0 {
			t.Fatalf("accepted %q", s)
		}
	})
}

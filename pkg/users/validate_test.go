package users

import (
	"strings"
	"testing"
)

func TestCheckEmail(t *testing.T) {
	good := []string{"a@x.co", "jane.doe+tag@example.com", "J_D@sub.example.org", "x@xn--bcher-kva.example", strings.Repeat("a", 64) + "@example.com"}
	bad := []string{"", "plain", "@example.com", "a@", "a@b", "a@@b.com", "a@b@c.com", "a b@x.com", "a@x.com\r\nBcc: evil@x.com",
		"a@x.com\nBcc:e@x.com", "<a@x.com>", "\"a\"@x.com", "a,b@x.com", ".a@x.com", "a.@x.com", "a..b@x.com", "a@-x.com", "a@x-.com",
		"a@x..com", "a@x.c", "a@x.123", strings.Repeat("a", 65) + "@example.com", "a@" + strings.Repeat("b", 250) + ".com", "ä@x.com", "a@x.com "}
	for _, e := range good {
		if msg := CheckEmail(e); msg != "" {
			t.Errorf("CheckEmail(%q) = %q, want ok", e, msg)
		}
	}
	for _, e := range bad {
		if CheckEmail(e) == "" {
			t.Errorf("CheckEmail(%q) accepted it", e)
		}
	}
}

// FuzzCheckEmail proves that nothing accepted can inject a header or exceed
// the limits, whatever the input.
func FuzzCheckEmail(f *testing.F) {
	for _, s := range []string{"a@x.com", "a@x.com\r\nBcc: e@x.com", "<a@x.com>", "a@b.c\x00"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if CheckEmail(s) != "" {
			return
		}
		if len(s) > 254 || strings.ContainsAny(s, "\r\n\t <>,;:\"()[]\\\x00") || strings.Count(s, "@") != 1 {
			t.Fatalf("accepted %q", s)
		}
	})
}

func TestCheckUsername(t *testing.T) {
	for _, u := range []string{"abc", "jane.doe", "j_d-99", strings.Repeat("a", 32)} {
		if msg := CheckUsername(u); msg != "" {
			t.Errorf("CheckUsername(%q) = %q", u, msg)
		}
	}
	for _, u := range []string{"", "ab", strings.Repeat("a", 33), "_abc", "a@b", "a b", "jäne", "a#b"} {
		if CheckUsername(u) == "" {
			t.Errorf("CheckUsername(%q) accepted it", u)
		}
	}
}

func TestCheckName(t *testing.T) {
	if checkName("", true, maxName) == "" || checkName("a\x07b", true, maxName) == "" || checkName(strings.Repeat("é", 101), true, maxName) == "" {
		t.Fatal("a bad name passed")
	}
	for _, good := range []string{"Zoë Ångström-Ó'Brien", "Skłodowska", "李", "محمد\u200f", "O\u200cK", "Ａ", "\u3164김", "⠁⠃", "👍\ufe0f"} {
		if msg := checkName(good, true, maxName); msg != "" {
			t.Errorf("checkName(%q) = %q", good, msg)
		}
	}
	// Names that show as nothing: default-ignorable code points, the
	// Hangul fillers (letters by category), the braille blank (a symbol).
	blanks := []string{"\u3164", "\u3164\u3164", "\u2800", "\u2800 \u2800", "\u115f\u1160", "\uffa0", "\ufe0f",
		"\U000e0041\U000e0042", "\U00016fe4", "\u2060", "\u034f", "\U0001d173", "\u3164 \u200b \u2800"}
	for _, bad := range append([]string{"\u200b", "\u200b\u200b", "evil\u202egnp.exe", "a\u2066b", "\xff\xfe", "a\u0000b", "\u00ad"}, blanks...) {
		if checkName(bad, true, maxName) == "" {
			t.Errorf("checkName(%q) accepted it", bad)
		}
	}
	if got := cleanName("  Jane \t  Mary  "); got != "Jane Mary" {
		t.Fatalf("cleanName = %q", got)
	}
}

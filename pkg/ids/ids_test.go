package ids

import (
	"strings"
	"testing"
)

func TestNewIsRandomAndValid(t *testing.T) {
	seen := map[string]bool{}
	for range 1000 {
		id := New("usr")
		if !Valid("usr", id) {
			t.Fatalf("Valid(%q) = false", id)
		}
		if seen[id] {
			t.Fatalf("duplicate id %q", id)
		}
		seen[id] = true
	}
}

func TestValidRejectsOthers(t *testing.T) {
	for _, id := range []string{"", "usr_", "ses_" + strings.Repeat("a", 26), "usr_" + strings.Repeat("a", 25),
		"usr_" + strings.Repeat("A", 26), "usr_" + strings.Repeat("1", 26), "usr_" + strings.Repeat("a", 26) + "#x"} {
		if Valid("usr", id) {
			t.Errorf("Valid(%q) = true", id)
		}
	}
}

func TestFromHashIsStableAndHidesTheSecret(t *testing.T) {
	s := Secret()
	if len(s) != 43 || strings.ContainsAny(s, ".=+/") {
		t.Fatalf("secret %q", s)
	}
	a, b := FromHash("ses", s), FromHash("ses", s)
	if a != b || !Valid("ses", a) || strings.Contains(a, s) {
		t.Fatalf("FromHash: %q %q", a, b)
	}
	if FromHash("ses", Secret()) == a {
		t.Fatal("two secrets gave one id")
	}
}

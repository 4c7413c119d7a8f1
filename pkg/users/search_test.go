package users

import (
	"slices"
	"strings"
	"testing"
)

func TestFold(t *testing.T) {
	for in, want := range map[string]string{
		"Skłodowska": "sklodowska", "ÆRØSKØBING": "aeroskobing", "Weiß": "weiss", "O'Brien": "obrien", "O’Neil": "oneil",
		"Ｆｕｌｌ": "full", "ﬁne": "fine", "Dvořák": "dvorak", "Þór": "thor", "Đorđe": "dorde", "İstanbul": "istanbul",
		"ada@example.com": "ada@example.com",
	} {
		if got := Fold(in); got != want {
			t.Errorf("Fold(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestSearchTerms(t *testing.T) {
	name := "Mcurie"
	u := &User{Email: "Marie.Curie@Example.com", Username: &name, GivenName: "Marie", FamilyName: "Skłodowska-Curie",
		DisplayName: "Marie Skłodowska-Curie", Status: StatusActive}
	want := []string{"marie.curie@example.com", "mcurie", "marie", "sklodowska-curie", "sklodowska", "curie"}
	if got := u.SearchTerms(); !slices.Equal(got, want) {
		t.Fatalf("terms %q, want %q", got, want)
	}
	// At most four name words: the fifth and later are not indexed.
	u.DisplayName = "Alpha Beta Gamma Delta"
	if got := u.SearchTerms(); len(got) != 2+maxNameTerms {
		t.Fatalf("terms %q: want the email, the username and %d name words", got, maxNameTerms)
	}
	// An invited user's display name is their email: no name words.
	inv := &User{Email: "rex-mundi@example.com", DisplayName: "rex-mundi@example.com", Status: StatusInvited}
	if got := inv.SearchTerms(); !slices.Equal(got, []string{"rex-mundi@example.com"}) {
		t.Fatalf("invited terms %q", got)
	}
	u.Status = StatusAnonymized
	if got := u.SearchTerms(); got != nil {
		t.Fatalf("anonymized terms %q", got)
	}
	// The most prefixes a user can have, which the largest rename deletes
	// and writes in one transaction.
	long := &User{Email: strings.Repeat("e", 60) + "@example.com", Username: &name, GivenName: "Aaaaaaaa Bbbbbbbb", FamilyName: "Cccccccc Dddddddd"}
	if got := len(SearchPrefixes(long.SearchTerms())); got != 6*(2+maxNameTerms) {
		t.Fatalf("%d prefixes, want %d", got, 6*(2+maxNameTerms))
	}
}

func TestParseSearch(t *testing.T) {
	s, msg := ParseSearch("  Marie   CUR marie ")
	if msg != "" || !slices.Equal(s.Words, []string{"marie", "cur"}) || s.Partition() != "marie" || s.Exact() {
		t.Fatalf("%+v %q partition %q", s, msg, s.Partition())
	}
	if s, _ := ParseSearch("Skłodowska"); s.Partition() != "sklodo" || s.Exact() {
		t.Fatalf("%+v partition %q", s, s.Partition())
	}
	if s, _ := ParseSearch("łukas"); s.Partition() != "lukas" || !s.Exact() {
		t.Fatalf("%+v partition %q", s, s.Partition())
	}
	if s, _ := ParseSearch(" \t "); !s.Empty() {
		t.Fatal("a blank search searches")
	}
	for _, bad := range []string{strings.Repeat("x", 101), "a b c d e", "\xff"} {
		if _, msg := ParseSearch(bad); msg == "" {
			t.Errorf("ParseSearch(%q) accepted", bad)
		}
	}
	terms := []string{"marie.curie@example.com", "marie", "curie"}
	for q, want := range map[string]bool{"cur": true, "marie cur": true, "urie": false, "curie x": false, "marie.curie@": true} {
		s, _ := ParseSearch(q)
		if got := s.Matches(terms); got != want {
			t.Errorf("%q matches %v, want %v", q, got, want)
		}
	}
}

package dynamo

import (
	"encoding/base64"
	"encoding/json"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/usermgmt/ums/pkg/ids"
)

// lists are the cursor checks of every list: which table keys may be one
// of its items, and the shape of its index sort key (nil: "<time>#<id>").
var lists = []struct {
	name    string
	base    func(pk, sk string) bool
	sortKey func(string) bool
}{
	{"users", isUserKey, nil},
	{"sessions", isSessionKey, nil},
	{"login-attempts", isAttemptKey, nil},
	{"invitations", isInviteKey, nil},
	{"audit-events", isAuditKey, nil},
	{"api-keys", isSystemKeyKey, nil},
	{"teams", isTeamKey, validTeamSortKey},
}

// cursorSeeds are cursors each list could issue, and forgeries of them.
func cursorSeeds() []string {
	at := "2026-11-23T14:00:00.000000000Z"
	var out []string
	for _, c := range []cursor{
		{S: at + "#" + ids.New("usr"), PK: userPrefix + ids.New("usr"), SK: skProfile},
		{S: at + "#x", PK: userPrefix + ids.New("usr"), SK: skSession + ids.New("ses")},
		{S: at + "#x", PK: "ATTEMPT#" + ids.New("att"), SK: "ATTEMPT"},
		{S: at + "#x", PK: "INVITE#" + ids.New("inv"), SK: "INVITE"},
		{S: at + "#x", PK: "AUDIT#" + ids.New("evt"), SK: "AUDIT"},
		{S: "acme" + teamSortSep + ids.New("team"), PK: "TEAM#" + ids.New("team"), SK: "TEAM"},
		{S: at + "#", PK: "META", SK: "META"},
		{S: "", PK: "", SK: ""},
	} {
		out = append(out, *encodeCursor(c))
	}
	return append(out, "", "e30", "bnVsbA", "eyJzIjoxfQ", "!!!", base64.RawURLEncoding.EncodeToString([]byte(`{"s":"\ud800","p":"USER#x"}`)),
		strings.Repeat("A", 2000))
}

// FuzzDecodeCursor gives every list any cursor. None panics; a cursor is
// taken only if every key it would hand DynamoDB is valid UTF-8, not empty
// and within DynamoDB's key sizes (anything else is a ValidationException,
// a 500), names an item of that list, and reads back the same from its
// own encoding.
func FuzzDecodeCursor(f *testing.F) {
	for _, s := range cursorSeeds() {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		for _, l := range lists {
			c, ok := decodeCursor(s, l.base, l.sortKey)
			if !ok {
				continue
			}
			for _, k := range []string{c.S, c.PK, c.SK} {
				if k == "" || len(k) > 1024 || !utf8.ValidString(k) {
					t.Fatalf("%s took %q: a key %q DynamoDB refuses", l.name, s, k)
				}
			}
			if !l.base(c.PK, c.SK) {
				t.Fatalf("%s took %q for %s/%s, not one of its items", l.name, s, c.PK, c.SK)
			}
			again, ok := decodeCursor(*encodeCursor(c), l.base, l.sortKey)
			if !ok || again != c {
				t.Fatalf("%s: %+v re-encoded reads back as %+v (%v)", l.name, c, again, ok)
			}
		}
	})
}

// FuzzCursorRoundTrip: a cursor a list issues for any of its items reads
// back as that position, for that list.
func FuzzCursorRoundTrip(f *testing.F) {
	f.Add("2026-11-23T14:00:00.000000000Z#usr_x", "ab", "acme")
	f.Add("", "\xff", "Ünïcode name")
	f.Fuzz(func(t *testing.T, s, a, name string) {
		id := ids.FromHash("x", a)[2:]
		for _, c := range []struct {
			list string
			c    cursor
		}{
			{"users", cursor{S: s, PK: userPrefix + "usr_" + id, SK: skProfile}},
			{"sessions", cursor{S: s, PK: userPrefix + "usr_" + id, SK: skSession + "ses_" + id}},
			{"teams", cursor{S: name + teamSortSep + "team_" + id, PK: "TEAM#team_" + id, SK: "TEAM"}},
		} {
			for _, l := range lists {
				if l.name != c.list {
					continue
				}
				sortKey := l.sortKey
				if sortKey == nil {
					sortKey = validSortKey
				}
				if !utf8.ValidString(c.c.S) || !sortKey(c.c.S) {
					continue // no item of the list has this sort key
				}
				got, ok := decodeCursor(*encodeCursor(c.c), l.base, l.sortKey)
				if !ok || got != c.c {
					b, _ := json.Marshal(c.c)
					t.Fatalf("%s: the cursor of %s reads back as %+v (%v)", l.name, b, got, ok)
				}
			}
		}
	})
}

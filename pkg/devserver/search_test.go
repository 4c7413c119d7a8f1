package devserver_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/usermgmt/ums/pkg/users"
)

// searched returns the ids a search lists, page after page, checking that
// every page but the last is full.
func (e *env) searched(token, query string, limit int) []string {
	e.t.Helper()
	var seen []string
	cursor := ""
	for range 100 {
		path := fmt.Sprintf("/users?limit=%d&%s", limit, query)
		if cursor != "" {
			path += "&cursor=" + url.QueryEscape(cursor)
		}
		r := e.must(200, e.do("GET", path, token, nil))
		items := r.get("items").([]any)
		for _, it := range items {
			seen = append(seen, it.(map[string]any)["id"].(string))
		}
		c, _ := r.get("next_cursor").(string)
		if c == "" {
			return seen
		}
		if len(items) != limit {
			e.fatalf("%s: a page of %d before the last, want %d: %s", query, len(items), limit, r.raw)
		}
		cursor = c
	}
	e.fatalf("%s: paging does not end", query)
	return nil
}

func (e *env) search(token, q string) []string {
	e.t.Helper()
	return e.searched(token, "search="+url.QueryEscape(q), 50)
}

// checkSearchIndex proves the search items are exactly what the users'
// terms make them: for each user, one item per prefix, under the user's
// sort key, holding the terms; none for a user that is gone or anonymized.
func (e *env) checkSearchIndex() {
	e.t.Helper()
	want := map[string]string{} // pk|sk -> t
	got := map[string]string{}
	p := dynamodb.NewScanPaginator(e.ddb, &dynamodb.ScanInput{TableName: &e.table, ConsistentRead: new(true)})
	for p.HasMorePages() {
		out, err := p.NextPage(context.Background())
		if err != nil {
			e.fatalf("scan: %v", err)
		}
		for _, item := range out.Items {
			var it struct {
				PK          string `dynamodbav:"pk"`
				SK          string `dynamodbav:"sk"`
				T           string `dynamodbav:"t"`
				Email       string `dynamodbav:"email"`
				Username    string `dynamodbav:"username"`
				GivenName   string `dynamodbav:"given_name"`
				FamilyName  string `dynamodbav:"family_name"`
				DisplayName string `dynamodbav:"display_name"`
				Status      string `dynamodbav:"status"`
				GSI1SK      string `dynamodbav:"gsi1sk"`
				Terms       string `dynamodbav:"terms"`
			}
			if err := attributevalue.UnmarshalMap(item, &it); err != nil {
				e.fatalf("%v", err)
			}
			switch {
			case strings.HasPrefix(it.PK, "SEARCH#"):
				got[it.PK+"|"+it.SK] = it.T
			case strings.HasPrefix(it.PK, "USER#") && it.SK == "PROFILE":
				u := &users.User{Email: it.Email, GivenName: it.GivenName, FamilyName: it.FamilyName, DisplayName: it.DisplayName, Status: users.Status(it.Status)}
				if it.Username != "" {
					u.Username = &it.Username
				}
				terms := u.SearchTerms()
				if it.Terms != users.JoinTerms(terms) {
					e.fatalf("user %s carries terms %q, want %q", it.PK, it.Terms, users.JoinTerms(terms))
				}
				for _, prefix := range users.SearchPrefixes(terms) {
					sum := sha256.Sum256([]byte(prefix))
					want["SEARCH#"+hex.EncodeToString(sum[:12])+"|"+it.GSI1SK] = users.JoinTerms(terms)
				}
			}
		}
	}
	for k, t := range want {
		if g, ok := got[k]; !ok || g != t {
			e.fatalf("search item %s: %q (present %v), want %q", k, g, ok, t)
		}
	}
	for k := range got {
		if _, ok := want[k]; !ok {
			e.fatalf("search item %s belongs to no user's terms", k)
		}
	}
}

func TestSearchFindsPrefixesOfEmailUsernameAndNameWords(t *testing.T) {
	e := newEnv(t)
	marie := e.createUser("marie.curie@example.com", "member", map[string]any{
		"given_name": "Marie", "family_name": "Skłodowska-Curie", "username": "mcurie"})
	pierre := e.createUser("pierre@example.com", "member", map[string]any{"given_name": "Pierre", "family_name": "Curie"})
	ada := e.createUser("ada@lovelace.org", "manager", map[string]any{"given_name": "Ada", "family_name": "Lovelace"})
	e.must(200, e.do("PATCH", "/users/"+ada, e.admin, map[string]any{"display_name": "Countess Ada"}))
	obrien := e.createUser("conan@example.com", "member", map[string]any{"given_name": "Conan", "family_name": "O'Brien"})
	for q, want := range map[string][]string{
		"sklodowska":         {marie},         // accents folded, a word of the name
		"SKŁODOWSKA":         {marie},         // and case
		"curie":              {pierre, marie}, // the part of a hyphenated name too; newest first
		"cur":                {pierre, marie}, // a prefix
		"mcu":                {marie},         // the username
		"marie.curie@exa":    {marie},         // the email, longer than an indexed prefix
		"ada@lovelace.org":   {ada},           // a whole email
		"countess":           {ada},           // a word of the display name
		"marie cur":          {marie},         // every word must match
		"curie pierre":       {pierre},        // in any order
		"obrien":             {obrien},        // apostrophes dropped
		"o'brien":            {obrien},        //
		"urie":               nil,             // not a substring in the middle of a word
		"example.com":        nil,             // nor the domain alone
		"skłodowska-curie":   {marie},         // the hyphenated word whole
		"marie curie absent": nil,             // a word that matches nothing
		"zzz":                nil,             //
	} {
		got := e.search(e.admin, q)
		if !slices.Equal(got, want) && !(len(got) == 0 && len(want) == 0) {
			t.Errorf("search %q: %v, want %v", q, got, want)
		}
	}
	if got, all := e.search(e.admin, "   "), e.searched(e.admin, "", 50); len(all) != 5 || !slices.Equal(got, all) {
		t.Errorf("a blank search %v, want every user %v", got, all)
	}
	e.checkSearchIndex()

	// The search parameter is checked like every other.
	for _, q := range []string{"search=" + strings.Repeat("a", 101), "search=a+b+c+d+e", "search=a&search=b"} {
		e.problem(400, "validation_failed", e.do("GET", "/users?"+q, e.admin, nil))
	}
	// A cursor is only good for the list that issued it.
	r := e.must(200, e.do("GET", "/users?limit=1&search=curie", e.admin, nil))
	c := url.QueryEscape(r.str("next_cursor"))
	e.problem(400, "validation_failed", e.do("GET", "/users?limit=1&search=marie&cursor="+c, e.admin, nil))
	e.problem(400, "validation_failed", e.do("GET", "/users?limit=1&cursor="+c, e.admin, nil))
	e.must(200, e.do("GET", "/users?limit=1&search=curie&cursor="+c, e.admin, nil))
}

// A search alone returns full pages, newest first, through a cursor, for
// a word of any length, a prefix of several words and more users than a
// page.
func TestSearchPagesAreFull(t *testing.T) {
	e := newEnv(t)
	var zeta []string
	for i := range 7 {
		zeta = append(zeta, e.createUser(fmt.Sprintf("z%d@example.com", i), "member", map[string]any{"given_name": "Zetaphoria", "family_name": fmt.Sprintf("N%d", i)}))
		if i%2 == 0 {
			// Users that share the indexed prefix but not the word.
			e.createUser(fmt.Sprintf("y%d@example.com", i), "member", map[string]any{"given_name": "Zetaphxx"})
		}
	}
	slices.Reverse(zeta)
	for _, q := range []string{"zetaph", "zetaphoria", "zetaphoria n", "zet"} {
		for _, limit := range []int{1, 3, 7} {
			got := e.searched(e.admin, "search="+url.QueryEscape(q), limit)
			want := zeta
			if q == "zetaph" || q == "zet" {
				if len(got) != 11 {
					t.Errorf("search %q limit %d: %d users, want 11", q, limit, len(got))
				}
				continue
			}
			if !slices.Equal(got, want) {
				t.Errorf("search %q limit %d: %v, want %v", q, limit, got, want)
			}
		}
	}
}

// A search combines with the other filters; a manager's search stays in
// their team and leaves admins out.
func TestSearchCombinesWithFilters(t *testing.T) {
	e := newEnv(t)
	red, blue := e.team("Red"), e.team("Blue")
	a := e.createUser("kim.a@example.com", "member", map[string]any{"given_name": "Kim", "team_id": red})
	b := e.createUser("kim.b@example.com", "manager", map[string]any{"given_name": "Kim", "team_id": red})
	c := e.createUser("kim.c@example.com", "admin", map[string]any{"given_name": "Kim", "team_id": red})
	d := e.createUser("kim.d@example.com", "member", map[string]any{"given_name": "Kim", "team_id": blue})
	f := e.createUser("kim.f@example.com", "member", map[string]any{"given_name": "Kim"})
	e.must(200, e.do("POST", "/users/"+f+"/deactivate", e.admin, nil))
	e.login("kim.a@example.com", pw("kim.a@example.com"))
	for q, want := range map[string][]string{
		"search=kim":                                   {f, d, c, b, a},
		"search=kim&team_id=" + red:                    {c, b, a},
		"search=kim&role=member":                       {f, d, a},
		"search=kim&status=deactivated":                {f},
		"search=kim&usage=connected":                   {a},
		"search=kim&role=member&status=active":         {d, a},
		"search=kim.b&team_id=" + red:                  {b},
		"search=kim+kim.c&team_id=" + red:              {c},
		"search=kim&team_id=" + blue + "&role=manager": nil,
	} {
		for _, limit := range []int{1, 2, 50} {
			if got := e.searched(e.admin, q, limit); !slices.Equal(got, want) && len(got)+len(want) > 0 {
				t.Errorf("%s limit %d: %v, want %v", q, limit, got, want)
			}
		}
	}
	manager := e.login("kim.b@example.com", pw("kim.b@example.com"))
	if got := e.search(manager, "kim"); !slices.Equal(got, []string{b, a}) {
		t.Errorf("the manager's search %v, want their team without admins %v", got, []string{b, a})
	}
	e.problem(403, "forbidden", e.do("GET", "/users?search=kim&team_id="+blue, manager, nil))
}

// The search items follow the users through every change of what they are
// found by, in the same transactions: a rename, a new email or username,
// an invitation and its end or acceptance, anonymization and purge.
func TestSearchIndexFollowsTheUsers(t *testing.T) {
	e := newEnv(t)
	id := e.createUser("grace@example.com", "member", map[string]any{"given_name": "Grace", "family_name": "Hopper", "username": "ghopper"})
	e.checkSearchIndex()
	e.must(200, e.do("PATCH", "/users/"+id, e.admin, map[string]any{"family_name": "Murray", "username": "gmurray", "email": "gm@example.com"}))
	e.checkSearchIndex()
	for q, want := range map[string]int{"hopper": 0, "ghop": 0, "grace@": 0, "murray": 1, "gmur": 1, "gm@ex": 1, "grace": 1} {
		if got := len(e.search(e.admin, q)); got != want {
			t.Errorf("after the rename, search %q finds %d, want %d", q, got, want)
		}
	}

	// Invited users are found by their email; the invitation's end takes
	// them out, its acceptance adds their names.
	e.invite("ivy@example.com", nil)
	revoked := e.invite("rex-mundi@example.com", nil).str("id")
	if len(e.search(e.admin, "ivy@")) != 1 || len(e.search(e.admin, "rex")) != 1 {
		t.Fatal("an invited user is not found by their email")
	}
	if got := e.search(e.admin, "mundi"); len(got) != 0 {
		t.Fatalf("an invited user is found by a part of their email, as if it were a name: %v", got)
	}
	e.must(204, e.do("DELETE", "/invitations/"+revoked, e.admin, nil))
	if len(e.search(e.admin, "rex")) != 0 {
		t.Fatal("a revoked invitation's user is still found")
	}
	e.must(201, e.do("POST", "/invitations/accept", "", map[string]any{
		"token": e.tokenIn("ivy@example.com"), "password": "ivy's password", "given_name": "Ivy", "family_name": "Bridge"}))
	if len(e.search(e.admin, "bridge")) != 1 {
		t.Fatal("an accepted invitation's user is not found by name")
	}
	e.checkSearchIndex()

	// Anonymization removes them all, and so does purge.
	e.must(200, e.do("POST", "/users/"+id+"/deactivate", e.admin, nil))
	e.must(200, e.do("POST", "/users/"+id+"/anonymize", e.admin, nil))
	for _, q := range []string{"grace", "murray", "gm", "anonym"} {
		if got := e.search(e.admin, q); len(got) != 0 {
			t.Errorf("an anonymized user is found by %q: %v", q, got)
		}
	}
	e.checkSearchIndex()
	gone := e.createUser("gone@example.com", "member", map[string]any{"given_name": "Gone"})
	e.must(202, e.do("DELETE", "/users/"+gone, e.admin, nil))
	if len(e.search(e.admin, "gone")) != 1 {
		t.Fatal("a user in deletion is no longer found: they can still be restored")
	}
	if rep := e.runJob("purge-deleted-users", e.clock.Now().Add(31*24*time.Hour)); rep.Done != 1 {
		t.Fatalf("purge %+v", rep)
	}
	if len(e.search(e.admin, "gone")) != 0 {
		t.Fatal("a purged user is still found")
	}
	e.checkSearchIndex()
}

// The largest change of what a user is found by (every term at its
// longest, all replaced, with the team) fits in its one transaction.
func TestSearchLargestRenameFitsOneTransaction(t *testing.T) {
	e := newEnv(t)
	red, blue := e.team("Red"), e.team("Blue")
	id := e.createUser("abcdefghij@example.com", "member", map[string]any{
		"given_name": "Klmnopq Rstuvw", "family_name": "Xyzabc-Defghi", "username": "uvwxyzab", "team_id": red})
	e.must(200, e.do("PATCH", "/users/"+id, e.admin, map[string]any{"display_name": "Jklmno Pqrstu Vwxyza"}))
	e.must(200, e.do("PATCH", "/users/"+id, e.admin, map[string]any{
		"given_name": "Bcdefg Hijklm", "family_name": "Nopqrs-Tuvwxy", "display_name": "Zabcde Fghijk", "username": "lmnopqrs",
		"email": "tuvwxyza@example.org", "team_id": blue, "role": "manager"}))
	e.checkSearchIndex()
	if got := e.search(e.admin, "nopqrs-tu"); len(got) != 1 {
		t.Fatalf("not found by the new name: %v", got)
	}
}

// Concurrent renames of one user leave the index exactly as the winner's
// terms make it, and concurrent creations all land in it.
func TestSearchIndexUnderConcurrentChanges(t *testing.T) {
	e := newEnv(t)
	id := e.createUser("race@example.com", "member", map[string]any{"given_name": "Race"})
	rs := parallel(e, 8, func(w *env, i int) response {
		return w.do("PATCH", "/users/"+id, e.admin, map[string]any{"family_name": fmt.Sprintf("Runner%c", 'a'+i), "username": fmt.Sprintf("runner%c", 'a'+i)})
	})
	if got := statuses(rs); got[200] == 0 || got[200]+got[412]+got[409] != 8 {
		t.Fatalf("statuses %v", got)
	}
	e.checkSearchIndex()
	final := e.must(200, e.do("GET", "/users/"+id, e.admin, nil)).str("family_name")
	for i := range 8 {
		name := fmt.Sprintf("runner%c", 'a'+i)
		want := 0
		if strings.EqualFold(final, name) {
			want = 1
		}
		if got := len(e.search(e.admin, name)); got != want {
			t.Errorf("search %q finds %d, want %d (final name %s)", name, got, want, final)
		}
	}
	parallel(e, 12, func(w *env, i int) response {
		return w.must(201, w.do("POST", "/users", e.admin, map[string]any{"email": fmt.Sprintf("swarm%d@example.com", i),
			"password": "a fine password", "given_name": "Swarm", "family_name": "Bee", "role": "member"}))
	})
	if got := len(e.search(e.admin, "swarm")); got != 12 {
		t.Fatalf("%d of 12 concurrent creations found", got)
	}
	e.checkSearchIndex()
}

package dynamo

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"text/tabwriter"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go/middleware"

	"github.com/usermgmt/ums/pkg/access"
	"github.com/usermgmt/ums/pkg/dynamo/capacity"
	"github.com/usermgmt/ums/pkg/ids"
	"github.com/usermgmt/ums/pkg/users"
)

// recorder records the DynamoDB calls made and the read capacity they
// consumed, asking each read for it (ReturnConsumedCapacity).
type recorder struct {
	mu    sync.Mutex
	ops   []string
	units float64
}

func (c *recorder) middleware(st *middleware.Stack) error {
	return st.Initialize.Add(middleware.InitializeMiddlewareFunc("ScaleCapacity",
		func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
			capacity.Ask(in.Parameters)
			out, md, err := next.HandleInitialize(ctx, in)
			units, _ := capacity.Consumed(middleware.GetOperationName(ctx), out.Result)
			c.mu.Lock()
			c.ops = append(c.ops, middleware.GetOperationName(ctx))
			c.units += units
			c.mu.Unlock()
			return out, md, err
		}), middleware.Before)
}

func (c *recorder) take() ([]string, float64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	ops, units := c.ops, c.units
	c.ops, c.units = nil, 0
	return ops, units
}

// Names to seed with: accented and hyphenated ones among them, so that the
// search partitions are as uneven as real names make them.
var (
	givenNames  = strings.Fields("Marie Pierre Ada Alan Grace Linus Ada Ángel Zoë Søren Łukasz Anne-Sophie Émile Björn Chloé José Mia Noah Lena Omar Ana Ines Kai Yuki Sven Olga Ivan Amir Lucía Théo")
	familyNames = strings.Fields("Curie Lovelace Turing Hopper Torvalds Skłodowska Müller García Nørgaard Dvořák Lefèvre O'Neil Smith-Jones Kowalski Rossi Novak Ibáñez Andersen Haddad Tanaka Petrov Silva Moreau Weiß Lund Costa Byrne Schmidt Popescu Öztürk")
)

// seedUser is the i-th user of the scale table: mostly active members,
// some managers and admins, some deactivated, invited or in deletion, in 50
// teams (team 0 is one in a hundred users), newest last.
func seedUser(i int, teams []string, base time.Time) *users.User {
	given, family := givenNames[i%len(givenNames)], familyNames[(i/len(givenNames))%len(familyNames)]
	u := &users.User{
		ID:        ids.New("usr"),
		Email:     fmt.Sprintf("%s.%s.%d@example.com", users.Fold(given), users.Fold(strings.ReplaceAll(family, "'", "")), i),
		GivenName: given, FamilyName: family, DisplayName: given + " " + family,
		Role: access.Member, Status: users.StatusActive,
		CreatedAt: base.Add(time.Duration(i) * time.Millisecond), Version: 1, SessionGen: 1,
	}
	u.UpdatedAt = u.CreatedAt
	switch {
	case i%97 == 0:
		u.Role = access.Admin
	case i%13 == 0:
		u.Role = access.Manager
	}
	if i%3 == 0 {
		name := fmt.Sprintf("user%d", i)
		u.Username = &name
	}
	usage := []users.Usage{users.UsageRegistered, users.UsageConnected, users.UsageUsed, users.UsageUsed}[i%4]
	u.Usage = &usage
	switch {
	case i%50 == 7:
		u.Status = users.StatusDeactivated
	case i%200 == 11:
		u.Status, u.Usage = users.StatusInvited, nil
		u.GivenName, u.FamilyName, u.DisplayName = "", "", u.Email
	}
	if u.Role != access.Admin && i%2 == 0 {
		u.TeamID = &teams[i%len(teams)]
	}
	return u
}

// shape is one query shape the list serves.
type shape struct {
	name string
	q    users.ListQuery
	// full says a single index serves the shape: a page holds limit users
	// whenever that many match.
	full bool
}

func shapes(teams []string) []shape {
	search := func(s string) users.Search {
		w, msg := users.ParseSearch(s)
		if msg != "" {
			panic(msg)
		}
		return w
	}
	small := teams[0]
	return []shape{
		{"no filter", users.ListQuery{}, true},
		{"status=active", users.ListQuery{Status: users.StatusActive}, true},
		{"status=deactivated", users.ListQuery{Status: users.StatusDeactivated}, true},
		{"role=manager", users.ListQuery{Role: access.Manager}, true},
		{"team_id", users.ListQuery{TeamID: small}, true},
		{"usage=registered", users.ListQuery{Usage: users.UsageRegistered}, true},
		{"status=active&role=member", users.ListQuery{Status: users.StatusActive, Role: access.Member}, false},
		{"status=deactivated&role=admin (rare)", users.ListQuery{Status: users.StatusDeactivated, Role: access.Admin}, false},
		{"search=a (one letter)", users.ListQuery{Words: search("a")}, true},
		{"search=lovel", users.ListQuery{Words: search("lovel")}, true},
		{"search=sklodowska (folded, longer than a prefix)", users.ListQuery{Words: search("sklodowska")}, true},
		{"search=ada turing (two words)", users.ListQuery{Words: search("ada turing")}, false},
		{"search=user42 (username)", users.ListQuery{Words: search("user42")}, true},
		{"search=grace&status=active", users.ListQuery{Words: search("grace"), Status: users.StatusActive}, false},
		{"search=curie&role=manager", users.ListQuery{Words: search("curie"), Role: access.Manager}, false},
		{"search=marie&team_id (a manager's)", users.ListQuery{Words: search("marie"), TeamID: small, Hide: access.Admin}, false},
	}
}

// measured is what the first page of a shape cost.
type measured struct {
	ops   []string
	units float64
	items int
}

func measure(t *testing.T, s *Store, c *recorder, sh shape, limit int) measured {
	t.Helper()
	q := sh.q
	q.Limit = limit
	c.take()
	p, err := s.ListUsers(context.Background(), q)
	if err != nil {
		t.Fatalf("%s: %v", sh.name, err)
	}
	for _, u := range p.Items {
		if !q.Admits(u) || (!q.Words.Empty() && !q.Words.Matches(u.SearchTerms())) {
			t.Fatalf("%s: listed %s, which does not match", sh.name, u.Email)
		}
	}
	ops, units := c.take()
	return measured{ops: ops, units: units, items: len(p.Items)}
}

// The first page of every query shape costs the same number of calls at
// 100,000 users as at 100, and no more read capacity than its bound: no
// Scan, no reading of a whole partition. Users are seeded through batch
// writes (SeedUsers), exactly as the transactions would write them.
//
// UMS_SCALE_USERS sets the size: 10,000 by default, as make test runs it;
// make scale (which CI runs too) runs it at 100,000.
func TestFirstPagesCostTheSameAt100AndAtScale(t *testing.T) {
	size := 10_000
	if v := os.Getenv("UMS_SCALE_USERS"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1000 {
			t.Fatalf("UMS_SCALE_USERS=%q: want a number of users of at least 1000", v)
		}
		size = n
	}
	c := &recorder{}
	s := newTestStoreWith(t, c.middleware)
	ctx := context.Background()
	teams := make([]string, 50)
	for i := range teams {
		teams[i] = ids.New("team")
		item := map[string]types.AttributeValue{"pk": str(teamKey(teams[i]).pk), "sk": str(teamKey(teams[i]).sk), "id": str(teams[i]), "member_count": num(0)}
		if err := s.putBatch(ctx, []map[string]types.AttributeValue{item}); err != nil {
			t.Fatal(err)
		}
	}
	base := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	// The seeding goes through a client that asks for no capacity: a batch
	// write that reports its units costs DynamoDB Local a sixth more.
	plain, err := NewClient(ctx, "us-east-1", os.Getenv("DYNAMODB_ENDPOINT"))
	if err != nil {
		t.Fatal(err)
	}
	seeder := New(plain, s.table)
	seed := func(from, to int) {
		us := make([]*users.User, 0, to-from)
		for i := from; i < to; i++ {
			us = append(us, seedUser(i, teams, base))
		}
		if err := seeder.SeedUsers(ctx, us, 16); err != nil {
			t.Fatal(err)
		}
	}
	const limit = 50
	// What each shape matches among the first 100 users and among all,
	// from the users themselves.
	matches := func(n int) []int {
		counts := make([]int, len(shapes(teams)))
		for i := range n {
			u := seedUser(i, teams, base)
			for j, sh := range shapes(teams) {
				if sh.q.Admits(u) && (sh.q.Words.Empty() || sh.q.Words.Matches(u.SearchTerms())) {
					counts[j]++
				}
			}
		}
		return counts
	}
	matchSmall, matchLarge := matches(100), matches(size)
	seed(0, 100)
	c.take()
	var small []measured
	for _, sh := range shapes(teams) {
		small = append(small, measure(t, s, c, sh, limit))
	}
	start := time.Now()
	seed(100, size)
	seeded := time.Since(start)
	// The counters are those of the users seeded, as if each was created.
	var want users.Delta
	for i := range size {
		want = want.Plus(users.DeltaOf(nil, seedUser(i, teams, base)))
	}
	if _, got, err := s.GetCounts(ctx); err != nil || got != users.Counts(want) {
		t.Fatalf("counts %+v (%v), want %+v", got, err, want)
	}

	var b strings.Builder
	tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "first page of %d\tcalls\tRCU @100\tRCU @%d\titems @100\titems @%d\t\n", limit, size, size)
	for i, sh := range shapes(teams) {
		large := measure(t, s, c, sh, limit)
		fmt.Fprintf(tw, "%s\t%s\t%.1f\t%.1f\t%d of %d\t%d of %d\t\n", sh.name, strings.Join(large.ops, "+"),
			small[i].units, large.units, small[i].items, matchSmall[i], large.items, matchLarge[i])
		// One Query; a search not narrowed to a team fetches its page's
		// users too, if it found any.
		want := []string{"Query"}
		if !sh.q.Words.Empty() && sh.q.TeamID == "" {
			want = append(want, "BatchGetItem")
		}
		for j, m := range []measured{small[i], large} {
			if got := strings.Join(m.ops, "+"); got != strings.Join(want, "+") && !(m.items == 0 && got == "Query") {
				t.Errorf("%s: calls %s at %d users, want %s", sh.name, got, []int{100, size}[j], strings.Join(want, "+"))
			}
			if n := min(limit, []int{matchSmall[i], matchLarge[i]}[j]); sh.full && m.items != n {
				t.Errorf("%s: a page of %d at %d users, want %d: a single index serves it", sh.name, m.items, []int{100, size}[j], n)
			}
		}
		switch {
		case sh.full && small[i].items == limit && large.units > 1.5*small[i].units+1:
			t.Errorf("%s: %.1f RCU at %d users, %.1f at 100 for the same full page", sh.name, large.units, size, small[i].units)
		case large.units > pageBound(sh):
			t.Errorf("%s: %.1f RCU at %d users, over its bound of %.0f", sh.name, large.units, size, pageBound(sh))
		}
	}
	_ = tw.Flush()
	t.Logf("seeded %d users in %s through batch writes\n%s", size, seeded.Round(time.Second), b.String())
}

// pageBound is the most read capacity a first page of the shape may cost:
// a filtered index page reads at most FilterWindow items (user items of
// about 1 KB, 0.5 RCU per 4 KB read eventually consistent); a search page
// reads one partition of small items (strongly consistent), at most
// FilterWindow of them, and fetches at most searchWindow users (1 RCU each,
// strongly consistent).
func pageBound(sh shape) float64 {
	switch {
	case !sh.q.Words.Empty() && sh.q.TeamID == "":
		return float64(FilterWindow)*0.3/4 + searchWindow
	default:
		return float64(FilterWindow) * 1.2 / 4 / 2
	}
}

package main

import (
	"context"
	"fmt"

	"github.com/usermgmt/ums/pkg/users"
)

// teamFixtures makes the teams the team cases act on, one per request index
// and purpose, outside the measured calls: each deletion needs a team of
// its own. It is safe for concurrent use (prefetch).
type teamFixtures struct {
	b    *bench
	made onceEach[string]
}

// get returns the team of purpose and index i, made once.
func (f *teamFixtures) get(purpose string, i int) string {
	return f.made.get(fmt.Sprint(purpose, i), func() string {
		res, err := f.b.sendFixture("POST", "/teams", f.b.admin, map[string]any{"name": fmt.Sprintf("bench %s %d%s", purpose, i, f.b.tag())}, 201)
		if err != nil {
			panic(fmt.Sprintf("bench: a team to %s: %v", purpose, err))
		}
		return res.str("id")
	})
}

// teamCases are the cases of the team routes.
func (b *bench) teamCases(n int) []request {
	admin := func(int) string { return b.admin }
	fx := &teamFixtures{b: b}
	var manager string
	managed := func() {
		team := fx.get("managed", 0)
		ctx := b.asAdmin(context.Background())
		email := b.email("team-manager")
		if _, err := b.cheapUser(ctx, users.CreateInput{Email: email, Password: password, GivenName: "Team", FamilyName: "Manager",
			Role: "manager", TeamID: &team}); err != nil {
			panic(fmt.Sprintf("bench: a manager: %v", err))
		}
		res, err := b.send("POST", "/auth/login", "", loginBody(email), 200)
		if err != nil {
			panic(err)
		}
		manager = res.str("token")
	}
	return []request{
		{route: "list-teams", token: admin, query: "?limit=20", status: 200, samples: n, cpu: true,
			before: func() {
				for i := range 3 {
					fx.get("listed", i)
				}
			}},
		{route: "list-teams", label: "as a manager: their own team", token: func(int) string { return manager }, status: 200, samples: n,
			before: managed},
		{route: "create-team", token: admin, status: 201, samples: n, cpu: true,
			body: func(i int) any { return map[string]any{"name": fmt.Sprintf("bench created %d", i)} }},
		{route: "update-team", id: fx.get("renamed", 0), token: admin, status: 200, samples: n, cpu: true,
			body: func(i int) any { return map[string]any{"name": fmt.Sprintf("bench renamed %d", i)} }},
		{route: "delete-team", made: true, label: "an empty team", token: admin, idOf: func(i int) string { return fx.get("deleted", i) },
			status: 204, samples: n, cpu: true},
	}
}

package devserver_test

import (
	"strings"
	"testing"

	"github.com/usermgmt/ums/pkg/routes"
)

// A manager sees and acts only on the non-admin users of their own team, on
// every route that takes a user, an invitation or a session, whether signed
// in, with their personal key or as a manager-role system key: the others
// do not exist for them (404, not 403, so their ids do not leak).
func TestManagersSeeOnlyTheirTeam(t *testing.T) {
	e := newEnv(t)
	teamA, teamB := e.team("A"), e.team("B")
	e.createUser("manager-a@example.com", "manager", map[string]any{"team_id": teamA})
	session := e.login("manager-a@example.com", "pw for manager-a@example.com")
	callers := map[string]string{
		"session":      session,
		"personal-key": e.must(201, e.do("POST", "/me/api-keys", session, map[string]any{"name": "a"})).str("key"),
		"system-key":   e.systemKey("manager", teamA, 0),
	}
	hidden := map[string]string{
		"a team-B member":     e.createUser("b-member@example.com", "member", map[string]any{"team_id": teamB}),
		"an admin of team A":  e.createUser("a-admin@example.com", "admin", map[string]any{"team_id": teamA}),
		"a user with no team": e.createUser("no-team@example.com", "member", nil),
	}
	for _, r := range routes.All {
		if !strings.HasPrefix(r.Path, "/users/{id}") || r.Access != routes.Manager {
			continue
		}
		body := exampleBody(t, r)
		for caller, tok := range callers {
			for who, id := range hidden {
				t.Run(r.Name+"/"+caller+"/"+who, func(t *testing.T) {
					e := e.in(t)
					e.problem(404, "not_found", e.do(r.Method, strings.Replace(r.Path, "{id}", id, 1), tok, body))
				})
			}
			t.Run(r.Name+"/"+caller+"/a team-A member", func(t *testing.T) {
				e := e.in(t)
				id := e.createUser(strings.ReplaceAll(r.Name+"-"+caller, "_", "-")+"@example.com", "member", map[string]any{"team_id": teamA})
				body := body
				if r.Name == "update-user" {
					body = map[string]any{"given_name": "Renamed"} // roles and teams are for admins
				}
				got := e.do(r.Method, strings.Replace(r.Path, "{id}", id, 1), tok, body)
				if got.status == 404 || got.status == 403 || got.status >= 500 {
					t.Fatalf("%s on their own team's member: %d %s", r.Pattern(), got.status, got.raw)
				}
			})
		}
	}

	// Lists leave the others out.
	for caller, tok := range callers {
		l := e.must(200, e.do("GET", "/users?limit=100", tok, nil))
		for _, u := range l.list("items") {
			u := u.(map[string]any)
			if u["team_id"] != teamA || u["role"] == "admin" {
				t.Fatalf("%s lists %v", caller, u)
			}
		}
		e.problem(403, "forbidden", e.do("GET", "/users?team_id="+teamB, tok, nil))
	}

	// Invitations and sessions alike.
	invB := e.must(201, e.do("POST", "/invitations", e.admin, map[string]any{"email": "inv-b@example.com", "role": "member", "team_id": teamB})).str("id")
	invAdmin := e.must(201, e.do("POST", "/invitations", e.admin, map[string]any{"email": "inv-a-admin@example.com", "role": "admin", "team_id": teamA})).str("id")
	e.login("b-member@example.com", "pw for b-member@example.com")
	e.login("a-admin@example.com", "pw for a-admin@example.com")
	sessB := e.must(200, e.do("GET", "/users/"+hidden["a team-B member"]+"/sessions", e.admin, nil)).str("items", "0", "id")
	for caller, tok := range callers {
		for _, inv := range []string{invB, invAdmin} {
			e.problem(404, "not_found", e.do("POST", "/invitations/"+inv+"/resend", tok, nil))
			e.problem(404, "not_found", e.do("DELETE", "/invitations/"+inv, tok, nil))
		}
		l := e.must(200, e.do("GET", "/invitations", tok, nil))
		for _, inv := range l.list("items") {
			if id := inv.(map[string]any)["id"]; id == invB || id == invAdmin {
				t.Fatalf("%s lists invitation %v", caller, id)
			}
		}
		e.problem(404, "not_found", e.do("DELETE", "/sessions/"+sessB, tok, nil))
		s := e.must(200, e.do("GET", "/sessions?limit=100", tok, nil))
		for _, x := range s.list("items") {
			if uid := x.(map[string]any)["user_id"]; uid != nil && uid != "" {
				if uid == hidden["a team-B member"] || uid == hidden["an admin of team A"] {
					t.Fatalf("%s lists a session of %v", caller, uid)
				}
			}
		}
	}
	// A manager's powers end on the next request when they leave the team.
	mgr := e.userByEmail("manager-a@example.com").ID
	member := e.createUser("a-member@example.com", "member", map[string]any{"team_id": teamA})
	e.must(200, e.do("GET", "/users/"+member, session, nil))
	e.must(200, e.do("PATCH", "/users/"+mgr, e.admin, map[string]any{"team_id": teamB}))
	e.problem(404, "not_found", e.do("GET", "/users/"+member, session, nil))
	e.problem(404, "not_found", e.do("GET", "/users/"+member, callers["personal-key"], nil))
}

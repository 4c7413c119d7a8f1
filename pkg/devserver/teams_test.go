package devserver_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// createTeam creates a team through the API as the admin and returns it.
func (e *env) createTeam(name string) response {
	e.t.Helper()
	return e.must(201, e.do("POST", "/teams", e.admin, map[string]any{"name": name}))
}

// teamsListed returns the names GET /teams lists for token, page after
// page of limit.
func (e *env) teamsListed(token string, limit int) []string {
	e.t.Helper()
	var names []string
	cursor := ""
	for {
		path := fmt.Sprintf("/teams?limit=%d", limit)
		if cursor != "" {
			path += "&cursor=" + cursor
		}
		r := e.must(200, e.do("GET", path, token, nil))
		for _, it := range r.list("items") {
			names = append(names, it.(map[string]any)["name"].(string))
		}
		cursor = r.str("next_cursor")
		if cursor == "" {
			return names
		}
	}
}

// teamOf returns the team as the admin's list shows it, or nil.
func (e *env) teamOf(id string) map[string]any {
	e.t.Helper()
	cursor := ""
	for {
		path := "/teams?limit=100"
		if cursor != "" {
			path += "&cursor=" + cursor
		}
		r := e.must(200, e.do("GET", path, e.admin, nil))
		for _, it := range r.list("items") {
			if m := it.(map[string]any); m["id"] == id {
				return m
			}
		}
		if cursor = r.str("next_cursor"); cursor == "" {
			return nil
		}
	}
}

// teamEvents counts the audit events of an action on a team.
func (e *env) teamEvents(action, id string) int {
	e.t.Helper()
	ev, err := e.app.Store.RecentAuditEvents(e.systemCtx(), 1000)
	if err != nil {
		e.fatalf("%v", err)
	}
	n := 0
	for _, x := range ev {
		if x.Action == action && x.TargetID == id {
			n++
		}
	}
	return n
}

// listedIDs returns the ids of every item of a list route, page after page.
func (e *env) listedIDs(path string) []string {
	e.t.Helper()
	var out []string
	cursor := ""
	for {
		p := path + "&limit=100"
		if cursor != "" {
			p += "&cursor=" + cursor
		}
		r := e.must(200, e.do("GET", p, e.admin, nil))
		for _, it := range r.list("items") {
			out = append(out, it.(map[string]any)["id"].(string))
		}
		if cursor = r.str("next_cursor"); cursor == "" {
			return out
		}
	}
}

func TestTeamsCreateAndList(t *testing.T) {
	e := newEnv(t)
	r := e.createTeam("  Platform   Engineering ")
	id := r.str("id")
	if !strings.HasPrefix(id, "team_") || r.header.Get("Location") != "/teams/"+id || r.header.Get("ETag") != `"1"` {
		t.Fatalf("id %q location %q etag %q", id, r.header.Get("Location"), r.header.Get("ETag"))
	}
	if r.str("name") != "Platform Engineering" || r.num("member_count") != 0 || r.str("created_at") == "" || strings.Contains(r.raw, "version") {
		t.Fatalf("team %s", r.raw)
	}
	if e.teamEvents("team.created", id) != 1 {
		t.Fatal("no team.created event")
	}
	// Unique ignoring case and white space.
	e.problem(409, "team_name_taken", e.do("POST", "/teams", e.admin, map[string]any{"name": "platform ENGINEERING"}))
	for _, n := range []string{"beta", "Alpha", "delta", "Charlie", "écoute", "alpha two"} {
		e.createTeam(n)
	}
	want := []string{"Alpha", "alpha two", "beta", "Charlie", "delta", "Platform Engineering", "écoute"}
	for _, limit := range []int{2, 3, 100} {
		if got := e.teamsListed(e.admin, limit); !slices.Equal(got, want) {
			t.Fatalf("limit %d: %v, want %v", limit, got, want)
		}
	}
	// Cursors are checked: another list's, or a forged one, are refused.
	e.createUser("second@example.com", "member", nil)
	users := e.must(200, e.do("GET", "/users?limit=1", e.admin, nil))
	for _, c := range []string{users.str("next_cursor"), "garbage", "eyJzIjoiYSIsInAiOiJURUFNI3giLCJrIjoiVEVBTSJ9"} {
		e.problem(400, "validation_failed", e.do("GET", "/teams?cursor="+c, e.admin, nil))
	}
	e.problem(400, "validation_failed", e.do("GET", "/teams?limit=0", e.admin, nil))
	e.problem(400, "validation_failed", e.do("GET", "/teams?name=x", e.admin, nil))
}

func TestTeamValidation(t *testing.T) {
	e := newEnv(t)
	id := e.createTeam("Kept").str("id")
	for name, body := range map[string]any{
		"missing":       map[string]any{},
		"null":          map[string]any{"name": nil},
		"blank":         map[string]any{"name": "   "},
		"too long":      map[string]any{"name": strings.Repeat("é", 101)},
		"control":       map[string]any{"name": "a\x00b"},
		"wrong type":    map[string]any{"name": 5},
		"unknown field": map[string]any{"name": "X", "member_count": 3},
	} {
		t.Run(name, func(t *testing.T) {
			e := e.in(t)
			e.problem(400, "validation_failed", e.do("POST", "/teams", e.admin, body))
			e.problem(400, "validation_failed", e.do("PATCH", "/teams/"+id, e.admin, body))
		})
	}
	// 100 characters is fine.
	e.createTeam(strings.Repeat("é", 100))
	if got := e.teamsListed(e.admin, 100); len(got) != 2 || got[0] != "Kept" {
		t.Fatalf("teams %v", got)
	}
	e.problem(404, "not_found", e.do("PATCH", "/teams/team_aaaaaaaaaaaaaaaaaaaaaaaaaa", e.admin, map[string]any{"name": "X"}))
	e.problem(404, "not_found", e.do("PATCH", "/teams/nope", e.admin, map[string]any{"name": "X"}))
	e.problem(404, "not_found", e.do("DELETE", "/teams/team_aaaaaaaaaaaaaaaaaaaaaaaaaa", e.admin, nil))
	e.problem(404, "not_found", e.do("DELETE", "/teams/nope", e.admin, nil))
}

// Managers list their own team only; members are refused; only admins
// change teams.
func TestTeamAccess(t *testing.T) {
	e := newEnv(t)
	a := e.createTeam("Team A").str("id")
	b := e.createTeam("Team B").str("id")
	e.createUser("mgr-a@example.com", "manager", map[string]any{"team_id": a})
	e.createUser("mgr-none@example.com", "manager", nil)
	e.createUser("member-a@example.com", "member", map[string]any{"team_id": a})
	mgr := e.login("mgr-a@example.com", pw("mgr-a@example.com"))
	lone := e.login("mgr-none@example.com", pw("mgr-none@example.com"))
	member := e.login("member-a@example.com", pw("member-a@example.com"))

	r := e.must(200, e.do("GET", "/teams", mgr, nil))
	if items := r.list("items"); len(items) != 1 || items[0].(map[string]any)["id"] != a || r.get("next_cursor") != nil ||
		items[0].(map[string]any)["member_count"] != float64(2) {
		t.Fatalf("the manager's teams %s", r.raw)
	}
	e.problem(400, "validation_failed", e.do("GET", "/teams?cursor=abc", mgr, nil))
	if r := e.must(200, e.do("GET", "/teams", lone, nil)); len(r.list("items")) != 0 {
		t.Fatalf("a manager without a team sees %s", r.raw)
	}
	for _, tok := range []string{mgr, member} {
		e.problem(403, "forbidden", e.do("POST", "/teams", tok, map[string]any{"name": "Mine"}))
		e.problem(403, "forbidden", e.do("PATCH", "/teams/"+b, tok, map[string]any{"name": "Mine"}))
		e.problem(403, "forbidden", e.do("DELETE", "/teams/"+b, tok, nil))
	}
	e.problem(403, "forbidden", e.do("GET", "/teams", member, nil))
	if got := e.teamsListed(e.admin, 100); !slices.Equal(got, []string{"Team A", "Team B"}) {
		t.Fatalf("teams %v", got)
	}
}

func TestConcurrentTeamCreates(t *testing.T) {
	e := newEnv(t)
	rs := parallel(e, 6, func(w *env, i int) response {
		return w.do("POST", "/teams", e.admin, map[string]any{"name": []string{"Same Name", "same name", "SAME  NAME "}[i%3]})
	})
	if got := statuses(rs); got[201] != 1 || got[409] != 5 {
		t.Fatalf("statuses %v", got)
	}
	for _, r := range rs {
		if r.status == 409 && r.str("code") != "team_name_taken" {
			t.Fatalf("code %q", r.str("code"))
		}
	}
	if got := e.teamsListed(e.admin, 100); len(got) != 1 {
		t.Fatalf("teams %v", got)
	}
}

func TestTeamRenames(t *testing.T) {
	e := newEnv(t)
	var ids []string
	for i := range 6 {
		ids = append(ids, e.createTeam(fmt.Sprintf("Team %d", i)).str("id"))
	}
	rs := parallel(e, 6, func(w *env, i int) response {
		return w.do("PATCH", "/teams/"+ids[i], e.admin, map[string]any{"name": []string{"Winner", "WINNER"}[i%2]})
	})
	if got := statuses(rs); got[200] != 1 || got[409] != 5 {
		t.Fatalf("statuses %v", got)
	}
	winner := ""
	for i, r := range rs {
		switch {
		case r.status == 409 && r.str("code") != "team_name_taken":
			t.Fatalf("code %q", r.str("code"))
		case r.status == 200:
			winner = ids[i]
			if r.header.Get("ETag") != `"2"` {
				t.Fatalf("etag %q", r.header.Get("ETag"))
			}
		}
	}
	listed := e.teamsListed(e.admin, 100)
	if n := len(listed); n != 6 || !slices.ContainsFunc(listed, func(s string) bool { return strings.EqualFold(s, "winner") }) {
		t.Fatalf("teams %v", listed)
	}
	// The winner's old name is free; a change of case keeps the name.
	old := ""
	for i := range 6 {
		if ids[i] == winner {
			old = fmt.Sprintf("Team %d", i)
		}
	}
	e.createTeam(old)
	r := e.must(200, e.do("PATCH", "/teams/"+winner, e.admin, map[string]any{"name": "wInNeR"}))
	if r.str("name") != "wInNeR" {
		t.Fatalf("rename %s", r.raw)
	}
	e.problem(409, "team_name_taken", e.do("POST", "/teams", e.admin, map[string]any{"name": "Winner"}))
	// The same name writes nothing.
	events := e.teamEvents("team.updated", winner)
	r = e.must(200, e.do("PATCH", "/teams/"+winner, e.admin, map[string]any{"name": " wInNeR "}))
	if r.header.Get("ETag") != `"3"` || e.teamEvents("team.updated", winner) != events {
		t.Fatalf("a rename to the same name wrote: %s %s", r.header.Get("ETag"), r.raw)
	}
	// Renaming to a taken name changes nothing.
	e.problem(409, "team_name_taken", e.do("PATCH", "/teams/"+ids[0], e.admin, map[string]any{"name": old}))
	if winner != ids[0] {
		if got := e.teamOf(ids[0]); got["name"] == old {
			t.Fatalf("a refused rename took effect: %v", got)
		}
	}
}

// If-Match: a stale version is 412 and changes nothing.
func TestTeamIfMatch(t *testing.T) {
	e := newEnv(t)
	r := e.createTeam("Versioned")
	id, etag := r.str("id"), r.header.Get("ETag")
	r = e.must(200, e.send("PATCH", "/teams/"+id, e.admin, map[string]any{"name": "Versioned 2"}, http.Header{"If-Match": {etag}}))
	next := r.header.Get("ETag")
	if next == etag || next == "" {
		t.Fatalf("etag %q after %q", next, etag)
	}
	for _, tag := range []string{etag, `W/` + next, `"x"`} {
		e.problem(412, "precondition_failed", e.send("PATCH", "/teams/"+id, e.admin, map[string]any{"name": "Lost"}, http.Header{"If-Match": {tag}}))
	}
	if got := e.teamOf(id); got["name"] != "Versioned 2" {
		t.Fatalf("team %v", got)
	}
	if n := e.teamEvents("team.updated", id); n != 1 {
		t.Fatalf("%d team.updated events", n)
	}
	// The name refused with the stale tag is not taken.
	e.createTeam("Lost")
	e.must(200, e.send("PATCH", "/teams/"+id, e.admin, map[string]any{"name": "Versioned 3"}, http.Header{"If-Match": {`"0", ` + next}}))
}

// member_count is the number of the team's users, whatever happens to them:
// created into it, moved in and out, invited, cancelled, deleted and purged.
func TestTeamMemberCount(t *testing.T) {
	e := newEnv(t)
	ta, tb := e.createTeam("Counted A").str("id"), e.createTeam("Counted B").str("id")
	teamsOf := []string{ta, tb, ""}
	rng := rand.New(rand.NewPCG(7, 11))
	var userIDs, invites, deleted []string
	for i := range 40 {
		switch op := rng.IntN(6); {
		case op <= 1 || len(userIDs) == 0:
			extra := map[string]any{}
			if team := teamsOf[rng.IntN(3)]; team != "" {
				extra["team_id"] = team
			}
			userIDs = append(userIDs, e.createUser(fmt.Sprintf("count%d@example.com", i), "member", extra))
		case op == 2:
			var team any
			if tid := teamsOf[rng.IntN(3)]; tid != "" {
				team = tid
			}
			e.must(200, e.do("PATCH", "/users/"+userIDs[rng.IntN(len(userIDs))], e.admin, map[string]any{"team_id": team}))
		case op == 3:
			invites = append(invites, e.invite(fmt.Sprintf("invited%d@example.com", i), map[string]any{"team_id": teamsOf[rng.IntN(2)]}).str("id"))
		case op == 4 && len(invites) > 0:
			j := rng.IntN(len(invites))
			e.must(204, e.do("DELETE", "/invitations/"+invites[j], e.admin, nil))
			invites = slices.Delete(invites, j, j+1)
		default:
			j := rng.IntN(len(userIDs))
			e.must(202, e.do("DELETE", "/users/"+userIDs[j], e.admin, nil))
			deleted = append(deleted, userIDs[j])
			userIDs = slices.Delete(userIDs, j, j+1)
		}
	}
	t.Logf("%d users, %d invitations, %d deleted", len(userIDs), len(invites), len(deleted))
	check := func(when string) {
		t.Helper()
		for _, id := range []string{ta, tb} {
			members := e.listedIDs("/users?team_id=" + id)
			if got := e.teamOf(id)["member_count"]; got != float64(len(members)) {
				t.Fatalf("%s: team %s counts %v, lists %d users", when, id, got, len(members))
			}
			// The team's invitations are those of its invited users.
			for _, inv := range e.listedIDs("/invitations?status=pending&team_id=" + id) {
				if !slices.Contains(invites, inv) {
					t.Fatalf("%s: invitation %s listed for team %s", when, inv, id)
				}
			}
		}
	}
	check("after the sequence")
	if len(deleted) == 0 {
		t.Fatal("the sequence deleted nobody")
	}
	if rep := e.runJob("purge-deleted-users", e.clock.Now().Add(31*24*time.Hour)); rep.Done != len(deleted) {
		t.Fatalf("purged %+v of %d", rep, len(deleted))
	}
	check("after the purge")
}

// seedTeam creates n members of the team through the API, a few at a time.
func (e *env) seedTeam(team string, n int, prefix string) []string {
	e.t.Helper()
	out := make([]string, n)
	var wg sync.WaitGroup
	sem := make(chan struct{}, 6)
	for i := range n {
		w := *e
		w.worker = true
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			out[i] = w.createUser(fmt.Sprintf("%s%d@example.com", prefix, i), "member", map[string]any{"team_id": team})
		})
	}
	wg.Wait()
	if e.t.Failed() {
		e.t.FailNow()
	}
	return out
}

// holdsTeam returns the stored items, but audit events, that name the team.
func (e *env) holdsTeam(team string) []string {
	e.t.Helper()
	var out []string
	for line := range strings.SplitSeq(e.scanTable(), "\n") {
		if line == "" || !strings.Contains(line, team) {
			continue
		}
		var m map[string]any
		_ = json.Unmarshal([]byte(line), &m)
		if pk, _ := m["pk"].(string); !strings.HasPrefix(pk, "AUDIT#") {
			out = append(out, line)
		}
	}
	return out
}

// Deleting a team with more users than one transaction holds unassigns
// them all, with their sessions and the team's invitations, and frees its
// name; the audit has one event of it.
func TestDeleteTeamWithManyUsers(t *testing.T) {
	e := newEnv(t)
	team := e.createTeam("Big Team").str("id")
	other := e.createTeam("Other").str("id")
	ids := e.seedTeam(team, 150, "big")
	e.createUser("big-manager@example.com", "manager", map[string]any{"team_id": team})
	e.createUser("big-admin@example.com", "admin", map[string]any{"team_id": team})
	keep := e.createUser("other@example.com", "member", map[string]any{"team_id": other})
	var tokens []string
	for i := range 30 {
		tokens = append(tokens, e.login(fmt.Sprintf("big%d@example.com", i), pw(fmt.Sprintf("big%d@example.com", i))))
	}
	for range 3 {
		tokens = append(tokens, e.login("big-manager@example.com", pw("big-manager@example.com")))
	}
	adminTok := e.login("big-admin@example.com", pw("big-admin@example.com"))
	pending := e.invite("pending@example.com", map[string]any{"team_id": team}).str("id")
	cancelled := e.invite("cancelled@example.com", map[string]any{"team_id": team}).str("id")
	e.must(204, e.do("DELETE", "/invitations/"+cancelled, e.admin, nil))
	if got := e.teamOf(team)["member_count"]; got != float64(153) {
		t.Fatalf("member_count %v before", got)
	}
	before, err := e.app.Store.GetUser(e.systemCtx(), ids[0])
	if err != nil {
		t.Fatal(err)
	}

	e.clock.Advance(time.Minute)
	e.must(204, e.do("DELETE", "/teams/"+team, e.admin, nil))

	if left := e.holdsTeam(team); len(left) > 0 {
		t.Fatalf("%d items still name the team, e.g. %s", len(left), left[0])
	}
	if n := len(e.listedIDs("/users?team_id=" + team)); n != 0 {
		t.Fatalf("%d users still listed in the team", n)
	}
	if n := len(e.listedIDs("/invitations?team_id=" + team)); n != 0 {
		t.Fatalf("%d invitations still listed in the team", n)
	}
	after, err := e.app.Store.GetUser(e.systemCtx(), ids[0])
	if err != nil {
		t.Fatal(err)
	}
	if after.TeamID != nil || after.Version != before.Version+1 || !after.UpdatedAt.Equal(e.clock.Now().Truncate(time.Millisecond)) {
		t.Fatalf("user after %+v (before %+v)", after, before)
	}
	// The manager, now without a team, sees none; the sessions work on.
	for _, tok := range tokens[:3] {
		e.must(200, e.do("GET", "/me", tok, nil))
	}
	if r := e.must(200, e.do("GET", "/teams", tokens[len(tokens)-1], nil)); len(r.list("items")) != 0 {
		t.Fatalf("the manager sees %s", r.raw)
	}
	e.must(200, e.do("GET", "/teams", adminTok, nil))
	if got := e.teamsListed(e.admin, 100); !slices.Equal(got, []string{"Other"}) {
		t.Fatalf("teams %v", got)
	}
	if e.teamOf(other)["member_count"] != float64(1) || e.must(200, e.do("GET", "/users/"+keep, e.admin, nil)).str("team_id") != other {
		t.Fatal("the other team changed")
	}
	// The pending invitation closes as any other, its name is free, and
	// the deletion is one event.
	e.must(204, e.do("DELETE", "/invitations/"+pending, e.admin, nil))
	e.createTeam("big team")
	if n := e.teamEvents("team.deleted", team); n != 1 {
		t.Fatalf("%d team.deleted events", n)
	}
	e.problem(404, "not_found", e.do("DELETE", "/teams/"+team, e.admin, nil))
	e.problem(404, "not_found", e.do("PATCH", "/teams/"+team, e.admin, map[string]any{"name": "Back"}))
}

// A team whose deletion stopped halfway is no team to join: it is not
// listed, takes no user, and deleting it again finishes it.
func TestDeletingTeamRefusesMembers(t *testing.T) {
	e := newEnv(t)
	team := e.createTeam("Half").str("id")
	target := e.createTeam("Target").str("id")
	inTeam := e.seedTeam(team, 3, "half")
	outside := e.createUser("outside@example.com", "member", map[string]any{"team_id": target})
	// The first transaction lands (the mark and the unassignments); the
	// delete of the team fails.
	e.hooks.Before("delete-team", "TransactWriteItems", func(context.Context) {
		e.hooks.Fail("delete-team", "TransactWriteItems", errors.New("injected fault: connection reset"))
	})
	e.problem(500, "internal", e.do("DELETE", "/teams/"+team, e.admin, nil))

	if got := e.teamsListed(e.admin, 100); !slices.Equal(got, []string{"Target"}) {
		t.Fatalf("teams %v while deleting", got)
	}
	e.problem(404, "not_found", e.do("PATCH", "/teams/"+team, e.admin, map[string]any{"name": "Renamed"}))
	noTeam := func(r response) {
		t.Helper()
		e.problem(400, "validation_failed", r)
		if !strings.Contains(r.raw, `"team_id"`) {
			t.Fatalf("errors %s", r.raw)
		}
	}
	noTeam(e.do("POST", "/users", e.admin, map[string]any{"email": "late@example.com", "password": "pw for late@example.com",
		"given_name": "A", "family_name": "B", "role": "member", "team_id": team}))
	noTeam(e.do("PATCH", "/users/"+outside, e.admin, map[string]any{"team_id": team}))
	noTeam(e.do("POST", "/invitations", e.admin, map[string]any{"email": "late-invite@example.com", "role": "member", "team_id": team}))
	// Its name is free already.
	e.createTeam("HALF")
	for _, id := range inTeam {
		u, err := e.app.Store.GetUser(e.systemCtx(), id)
		if err != nil || u.TeamID != nil {
			t.Fatalf("user %s still in the team: %v %v", id, u, err)
		}
	}
	// Deleting it again resumes and finishes it, with no second event.
	e.must(204, e.do("DELETE", "/teams/"+team, e.admin, nil))
	e.problem(404, "not_found", e.do("DELETE", "/teams/"+team, e.admin, nil))
	if n := e.teamEvents("team.deleted", team); n != 1 {
		t.Fatalf("%d team.deleted events", n)
	}
	if _, err := e.app.Store.ReadTeam(e.systemCtx(), team); err == nil {
		t.Fatal("the team is still stored")
	}
	if u, _ := e.app.Store.GetUser(e.systemCtx(), outside); u.Team() != target {
		t.Fatalf("outside user %+v", u)
	}
}

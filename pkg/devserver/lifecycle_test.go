package devserver_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/usermgmt/ums/pkg/email/emailtest"
	"github.com/usermgmt/ums/pkg/jobs"
	"github.com/usermgmt/ums/pkg/users"
)

// pw is the password createUser gives a user.
func pw(email string) string { return "pw for " + email }

// runJob runs a scheduled job at a time, as EventBridge would.
func (e *env) runJob(name string, at time.Time) jobs.Report {
	e.t.Helper()
	job, err := e.app.Job(name)
	if err != nil {
		e.fatalf("%v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	rep, err := job(ctx, events.EventBridgeEvent{ID: fmt.Sprintf("evt-%d", at.UnixNano()), DetailType: "Scheduled Event", Time: at})
	if err != nil {
		e.fatalf("%s: %v", name, err)
	}
	return rep
}

// Deactivation ends every session on the very next request, and the user
// cannot sign in until activated; activation checks the seats.
func TestDeactivateAndActivate(t *testing.T) {
	e := newEnv(t)
	addr := "deact@example.com"
	id := e.createUser(addr, "member", nil)
	phone, laptop := e.login(addr, pw(addr)), e.login(addr, pw(addr))
	e.must(200, e.do("GET", "/me", phone, nil))

	r := e.must(200, e.do("POST", "/users/"+id+"/deactivate", e.admin, nil))
	if r.str("status") != "deactivated" {
		t.Fatalf("deactivate %s", r.raw)
	}
	for _, tok := range []string{phone, laptop} {
		e.problem(401, "unauthorized", e.do("GET", "/me", tok, nil))
	}
	if s := e.must(200, e.do("GET", "/users/"+id+"/sessions", e.admin, nil)); len(s.list("items")) != 0 {
		t.Fatalf("sessions after deactivation: %s", s.raw)
	}
	e.problem(401, "invalid_credentials", e.do("POST", "/auth/login", "", map[string]any{"login": addr, "password": pw(addr)}))
	e.problem(409, "invalid_state", e.do("POST", "/users/"+id+"/deactivate", e.admin, nil))
	if s := e.must(200, e.do("GET", "/summary", e.admin, nil)); s.num("by_status", "deactivated") != 1 || s.num("licenses") != 0 {
		t.Fatalf("summary %s", s.raw)
	}

	// The freed seat is taken meanwhile: activation waits for one.
	e.must(200, e.do("PATCH", "/settings", e.admin, map[string]any{"license_count": 2}))
	e.createUser("seat@example.com", "member", nil)
	e.problem(409, "no_seats", e.do("POST", "/users/"+id+"/activate", e.admin, nil))
	e.must(200, e.do("PATCH", "/settings", e.admin, map[string]any{"license_count": 0}))
	r = e.must(200, e.do("POST", "/users/"+id+"/activate", e.admin, nil))
	if r.str("status") != "active" {
		t.Fatalf("activate %s", r.raw)
	}
	e.problem(409, "invalid_state", e.do("POST", "/users/"+id+"/activate", e.admin, nil))
	e.login(addr, pw(addr))
	e.problem(401, "unauthorized", e.do("GET", "/me", phone, nil)) // ended sessions stay ended

	ev, _ := e.app.Store.RecentAuditEvents(e.systemCtx(), 20)
	var actions []string
	for _, x := range ev {
		if x.TargetID == id {
			actions = append(actions, x.Action)
		}
	}
	if !strings.Contains(strings.Join(actions, ","), "user.activated,user.deactivated") {
		t.Fatalf("audit of %s: %v", id, actions)
	}
}

// No one deactivates, deletes or anonymizes themselves; the last active
// admin cannot be removed, even by two admins removing each other at once;
// managers act only on their own team's non-admin users.
func TestGuards(t *testing.T) {
	e := newEnv(t)
	root := e.must(200, e.do("GET", "/me", e.admin, nil)).str("id")
	for _, act := range []string{"deactivate", "anonymize"} {
		e.problem(403, "self_action", e.do("POST", "/users/"+root+"/"+act, e.admin, nil))
	}
	e.problem(403, "self_action", e.do("DELETE", "/users/"+root, e.admin, nil))

	second := e.createUser("admin2@example.com", "admin", nil)
	other := e.login("admin2@example.com", pw("admin2@example.com"))
	for round := range 3 {
		// Two admins, each deactivating the other at the same moment.
		rs := parallel(e, 2, func(w *env, i int) response {
			if i == 0 {
				return w.do("POST", "/users/"+second+"/deactivate", e.admin, nil)
			}
			return w.do("POST", "/users/"+root+"/deactivate", other, nil)
		})
		won := 0
		for _, r := range rs {
			switch {
			case r.status == 200:
				won++
			case r.status == 409 && r.str("code") == "last_admin", r.status == 401:
			default:
				t.Fatalf("round %d: %d %s", round, r.status, r.raw)
			}
		}
		if won != 1 {
			t.Fatalf("round %d: %d of two mutual deactivations won", round, won)
		}
		{
			// Bring the loser back, with a token of whoever is still admin.
			if rs[0].status == 200 {
				e.must(200, e.do("POST", "/users/"+second+"/activate", e.admin, nil))
				other = e.login("admin2@example.com", pw("admin2@example.com"))
			} else {
				e.must(200, e.do("POST", "/users/"+root+"/activate", other, nil))
				e.admin = e.login(adminEmail, adminPassword)
			}
		}
	}
	e.must(200, e.do("POST", "/users/"+second+"/deactivate", e.admin, nil))
	// No one demotes themselves; an admin-role system key cannot demote
	// the last admin.
	e.problem(403, "self_action", e.do("PATCH", "/users/"+root, e.admin, map[string]any{"role": "member"}))
	sys := e.must(201, e.do("POST", "/api-keys", e.admin, map[string]any{"name": "ops", "role": "admin"})).str("key")
	e.problem(409, "last_admin", e.do("PATCH", "/users/"+root, sys, map[string]any{"role": "member"}))

	red, blue := e.team("Red"), e.team("Blue")
	e.createUser("mgr@example.com", "manager", map[string]any{"team_id": red})
	mgr := e.login("mgr@example.com", pw("mgr@example.com"))
	inRed := e.createUser("r@example.com", "member", map[string]any{"team_id": red})
	inBlue := e.createUser("b@example.com", "member", map[string]any{"team_id": blue})
	redAdmin := e.createUser("ra@example.com", "admin", map[string]any{"team_id": red})
	e.must(200, e.do("POST", "/users/"+inRed+"/deactivate", mgr, nil))
	e.problem(404, "not_found", e.do("POST", "/users/"+inBlue+"/deactivate", mgr, nil))
	// An admin, even of their team, does not exist for a manager.
	e.problem(404, "not_found", e.do("POST", "/users/"+redAdmin+"/deactivate", mgr, nil))
	e.problem(404, "not_found", e.do("DELETE", "/users/"+redAdmin, mgr, nil))
	e.problem(404, "not_found", e.do("PUT", "/users/"+redAdmin+"/password", mgr, map[string]any{"password": "a new and unusual passphrase"}))
	e.problem(404, "not_found", e.do("POST", "/users/usr_aaaaaaaaaaaaaaaaaaaaaaaaaa/activate", e.admin, nil))
}

// Deleting puts a user in deletion until purge_after; restoring brings back
// the status they had, and only before that date.
func TestDeleteAndRestore(t *testing.T) {
	e := newEnv(t)
	addr := "del@example.com"
	id := e.createUser(addr, "member", nil)
	tok := e.login(addr, pw(addr))
	r := e.must(202, e.do("DELETE", "/users/"+id, e.admin, nil))
	purge, err := time.Parse(time.RFC3339, r.str("purge_after"))
	if r.str("status") != "in_deletion" || err != nil || purge.Sub(e.clock.Now()).Round(time.Hour) != 30*24*time.Hour {
		t.Fatalf("delete %s", r.raw)
	}
	e.problem(401, "unauthorized", e.do("GET", "/me", tok, nil))
	e.problem(401, "invalid_credentials", e.do("POST", "/auth/login", "", map[string]any{"login": addr, "password": pw(addr)}))
	e.problem(409, "invalid_state", e.do("DELETE", "/users/"+id, e.admin, nil))
	e.problem(409, "email_taken", e.do("POST", "/users", e.admin, map[string]any{"email": addr, "password": "a long passphrase here", "given_name": "A", "family_name": "B", "role": "member"}))
	if s := e.must(200, e.do("GET", "/summary", e.admin, nil)); s.num("by_status", "in_deletion") != 1 {
		t.Fatalf("summary %s", s.raw)
	}
	r = e.must(200, e.do("POST", "/users/"+id+"/restore", e.admin, nil))
	if r.str("status") != "active" || r.get("purge_after") != nil {
		t.Fatalf("restore %s", r.raw)
	}
	e.login(addr, pw(addr))
	e.problem(409, "invalid_state", e.do("POST", "/users/"+id+"/restore", e.admin, nil))

	// A deactivated user comes back deactivated; past the purge date, not at all.
	e.must(200, e.do("POST", "/users/"+id+"/deactivate", e.admin, nil))
	e.must(202, e.do("DELETE", "/users/"+id, e.admin, nil))
	if r := e.must(200, e.do("POST", "/users/"+id+"/restore", e.admin, nil)); r.str("status") != "deactivated" {
		t.Fatalf("restore of a deactivated user %s", r.raw)
	}
	e.must(202, e.do("DELETE", "/users/"+id, e.admin, nil))
	e.clock.Advance(31 * 24 * time.Hour)
	e.admin = e.login(adminEmail, adminPassword) // the old session has expired
	e.problem(409, "invalid_state", e.do("POST", "/users/"+id+"/restore", e.admin, nil))

	// An invited user is the invitation's: cancel it instead.
	inv := e.invite(emailtest.Address("invited", "example.com"), nil)
	e.problem(409, "invalid_state", e.do("DELETE", "/users/"+inv.str("user_id"), e.admin, nil))
}

// The purge job removes users past their purge date with everything that
// is theirs, once, resuming where a failure stopped it; a user with more
// items than a transaction holds goes completely.
func TestPurge(t *testing.T) {
	e := newEnv(t)
	team := e.team("Gone")
	heavy, light := "heavy@example.com", "light@example.com"
	heavyID := e.createUser(heavy, "member", map[string]any{"username": "heavy", "team_id": team})
	lightID := e.createUser(light, "member", nil)
	for range 120 {
		e.from("127.0.0.61").login(heavy, pw(heavy))
	}
	e.from("127.0.0.61").problem(401, "invalid_credentials", e.from("127.0.0.61").do("POST", "/auth/login", "", map[string]any{"login": "heavy", "password": "wrong guess"}))
	keep := e.createUser("keep@example.com", "member", nil)
	e.must(202, e.do("DELETE", "/users/"+heavyID, e.admin, nil))
	e.must(202, e.do("DELETE", "/users/"+lightID, e.admin, nil))

	// Not yet due: nothing happens.
	if rep := e.runJob("purge-deleted-users", e.clock.Now().Add(29*24*time.Hour)); rep.Done != 0 {
		t.Fatalf("early purge %+v", rep)
	}
	at := e.clock.Now().Add(30*24*time.Hour + time.Minute)
	// A failure in the middle: the second transaction of the run fails.
	e.hooks.Before("purge-deleted-users", "TransactWriteItems", func(context.Context) {
		e.hooks.Fail("purge-deleted-users", "TransactWriteItems", errors.New("injected fault: connection reset"))
	})
	job, _ := e.app.Job("purge-deleted-users")
	if _, err := job(context.Background(), events.EventBridgeEvent{Time: at}); err == nil {
		t.Fatal("the run with a failure reported none")
	}
	if rep := e.runJob("purge-deleted-users", at); rep.Done != 2 {
		t.Fatalf("the run after the failure %+v", rep)
	}
	if rep := e.runJob("purge-deleted-users", at); rep.Done != 0 {
		t.Fatalf("a run with nothing left %+v", rep)
	}
	for _, id := range []string{heavyID, lightID} {
		e.problem(404, "not_found", e.do("GET", "/users/"+id, e.admin, nil))
		if _, err := e.app.Store.GetUser(e.systemCtx(), id); !errors.Is(err, users.ErrNotFound) {
			t.Fatalf("%s still stored: %v", id, err)
		}
	}
	e.must(200, e.do("GET", "/users/"+keep, e.admin, nil))
	dump := e.scanTable()
	for _, trace := range append([]string{heavy, light, "\"heavy\"", "127.0.0.61", `"pk":"USER#` + heavyID, `"pk":"USER#` + lightID}, users.Traces(heavy, "heavy")...) {
		if i := strings.Index(strings.ToLower(dump), strings.ToLower(trace)); i >= 0 {
			t.Errorf("the table still holds %q after the purge: %s", trace, dump[max(0, i-300):min(len(dump), i+300)])
		}
	}
	s := e.must(200, e.do("GET", "/summary", e.admin, nil))
	if s.num("by_status", "in_deletion") != 0 || s.num("by_status", "active") != 2 {
		t.Fatalf("summary after the purge %s", s.raw)
	}
	// The emails, username and the team's place are free again.
	e.createUser(heavy, "member", map[string]any{"username": "heavy", "team_id": team})
	ev, _ := e.app.Store.RecentAuditEvents(e.systemCtx(), 50)
	purged := 0
	for _, x := range ev {
		if x.Action == "user.purged" {
			purged++
			if x.ActorType != "system" {
				t.Fatalf("purge event by %s", x.ActorType)
			}
		}
	}
	if purged != 2 {
		t.Fatalf("%d purge events", purged)
	}
}

// Anonymizing removes the user's identity from the whole table: their
// item, their sessions, the attempts made with their email and username,
// the invitations to them and their name on those they sent, the IPs of
// what they did, and the answers kept for retries that showed them.
func TestAnonymizeLeavesNoTrace(t *testing.T) {
	e := newEnv(t)
	team := e.team("Anon")
	addr := "Zelda.Quux@Example.com"
	ua := "Mozilla/5.0 (X11; Linux x86_64) ZeldaBrowser/9.9"
	ip := "127.0.0.88"
	// Invited first (an invitation that expires), then created for real.
	e.must(200, e.do("PATCH", "/settings", e.admin, map[string]any{"invitation_ttl_hours": 1}))
	e.invite(addr, map[string]any{"team_id": team})
	e.clock.Advance(2 * time.Hour)
	e.runJob("expire-invitations", e.clock.Now())
	id := e.must(201, e.send("POST", "/users", e.admin, map[string]any{"email": addr, "password": pw(addr), "given_name": "Zelda",
		"family_name": "Quuxington", "username": "zeldaq", "role": "manager", "team_id": team}, http.Header{"Idempotency-Key": {"create-zelda"}})).str("id")
	z := e.from(ip)
	hdr := http.Header{"User-Agent": {ua}}
	tok := z.must(200, z.send("POST", "/auth/login", "", map[string]any{"login": "zeldaq", "password": pw(addr)}, hdr)).str("token")
	z.problem(401, "invalid_credentials", z.send("POST", "/auth/login", "", map[string]any{"login": strings.ToLower(addr), "password": "not it"}, hdr))
	z.must(201, z.send("POST", "/invitations", tok, map[string]any{"email": emailtest.Address("friend", "example.com"), "role": "member"}, hdr))
	z.must(200, z.send("PATCH", "/me", tok, map[string]any{"display_name": "Zed Q"}, hdr))

	e.must(200, e.send("POST", "/users/"+id+"/deactivate", e.admin, nil, http.Header{"Idempotency-Key": {"deactivate-zelda"}}))
	r := e.must(200, e.do("POST", "/users/"+id+"/anonymize", e.admin, nil))
	if r.str("status") != "anonymized" || r.str("email") != "" || r.get("username") != nil || r.str("display_name") != users.AnonymizedName {
		t.Fatalf("anonymized %s", r.raw)
	}
	dump := strings.ToLower(e.scanTable())
	for _, old := range append([]string{addr, "zeldaq", "Zelda", "Quuxington", "Zed Q", ua, ip}, users.Traces(addr, "zeldaq")...) {
		if strings.Contains(dump, strings.ToLower(old)) {
			t.Errorf("the table still holds %q after anonymizing", old)
		}
	}
	for _, act := range []string{"activate", "restore", "anonymize", "deactivate"} {
		e.problem(409, "invalid_state", e.do("POST", "/users/"+id+"/"+act, e.admin, nil))
	}
	// The email and the username are free.
	e.createUser(addr, "member", map[string]any{"username": "zeldaq"})
	a := e.must(200, e.do("GET", "/login-attempts?user_id="+id, e.admin, nil))
	if len(a.list("items")) < 2 {
		t.Fatalf("the attempts themselves are kept: %s", a.raw)
	}
	for _, it := range a.list("items") {
		m := it.(map[string]any)
		if m["login"] != "" || m["ip"] != "" || m["user_agent"] != "" {
			t.Fatalf("attempt after anonymizing %v", m)
		}
	}
	e.problem(409, "invalid_state", e.do("PUT", "/users/"+id+"/password", e.admin, map[string]any{"password": "a new and unusual passphrase"}))
}

// A half-finished anonymization (its second part failed) is finished by
// the purge job.
func TestAnonymizeFinishedByTheJob(t *testing.T) {
	e := newEnv(t)
	addr := "half@example.com"
	id := e.createUser(addr, "member", nil)
	e.from("127.0.0.91").login(addr, pw(addr))
	e.must(200, e.do("POST", "/users/"+id+"/deactivate", e.admin, nil))
	// The anonymize transaction lands; the first write of the rest fails.
	e.hooks.Before("anonymize-user", "TransactWriteItems", func(context.Context) {
		e.hooks.Fail("anonymize-user", "TransactWriteItems", errors.New("injected fault: timeout"))
	})
	e.must(200, e.do("POST", "/users/"+id+"/anonymize", e.admin, nil))
	if !strings.Contains(e.scanTable(), "127.0.0.91") {
		t.Fatal("the injected fault did not stop the second part")
	}
	if rep := e.runJob("purge-deleted-users", e.clock.Now()); rep.Done != 1 {
		t.Fatalf("the job finished %d", rep.Done)
	}
	if dump := e.scanTable(); strings.Contains(dump, "127.0.0.91") || strings.Contains(dump, `"forget"`) {
		t.Fatal("the job left the anonymization unfinished")
	}
	if rep := e.runJob("purge-deleted-users", e.clock.Now()); rep.Done != 0 {
		t.Fatalf("a second run did %d", rep.Done)
	}
}

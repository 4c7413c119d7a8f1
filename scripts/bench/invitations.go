package main

import (
	"context"
	"fmt"
	"net/url"
	"sync"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/usermgmt/ums/pkg/invitations"
	"github.com/usermgmt/ums/pkg/notices"
	"github.com/usermgmt/ums/pkg/settings"
)

// invitationFixtures makes the invitations the cases that use one up
// (accept, decline, cancel) act on: each request index gets its own,
// made on first use through the service with the bench's store. Their
// tokens are caught on the way out rather than read back from the mail:
// only the cases' requests are measured, and they go through the app.
type invitationFixtures struct {
	b    *bench
	svc  *invitations.Service
	mu   sync.Mutex
	made map[string]fixture // by purpose and index
	// link is the link of the mail last sent.
	link string
}

type fixture struct{ id, token string }

func (b *bench) invitationFixtures() *invitationFixtures {
	f := &invitationFixtures{b: b, made: map[string]fixture{}}
	f.svc = invitations.NewService(b.app.Store, b.app.Auth, f, b.app.Log, func(token string) string { return token })
	f.svc.Params = seedParams
	return f
}

// Send keeps the link of an invitation instead of mailing it.
func (f *invitationFixtures) Send(_ context.Context, n notices.Notice) (string, error) {
	inv, ok := n.(notices.Invitation)
	if !ok {
		return "", fmt.Errorf("bench: a fixture sent %T", n)
	}
	f.link = inv.Link
	return "fixture", nil
}

// get returns the invitation of purpose and index i, making it once.
func (f *invitationFixtures) get(purpose string, i int) fixture {
	f.mu.Lock()
	defer f.mu.Unlock()
	key := fmt.Sprint(purpose, i)
	if x, ok := f.made[key]; ok {
		return x
	}
	b := f.b
	ctx := b.asAdmin(context.Background())
	st, err := b.app.Settings.Get(ctx)
	if err != nil {
		panic(fmt.Sprintf("bench: settings for a fixture: %v", err))
	}
	ctx = settings.WithSnapshot(ctx, st)
	inv, err := f.svc.Create(ctx, invitations.CreateInput{Email: b.email(fmt.Sprint(purpose, i)), Role: "member"})
	if err != nil {
		panic(fmt.Sprintf("bench: an invitation to %s: %v", purpose, err))
	}
	x := fixture{id: inv.ID, token: f.link}
	f.made[key] = x
	return x
}

// invitationCases are the cases of the invitation routes and of
// registration.
func (b *bench) invitationCases(n, nHash int) []request {
	admin := func(int) string { return b.admin }
	fx := b.invitationFixtures()
	lookedUp := fx.get("lookup", 0)
	resent := fx.get("resend", 0)
	accept := func(i int) any {
		return map[string]any{"token": fx.get("accept", i).token, "password": password, "given_name": "Accepted", "family_name": fmt.Sprint(i)}
	}
	return []request{
		{route: "create-invitation", token: admin, status: 201, samples: n, cpu: true,
			body: func(i int) any {
				return map[string]any{"email": fmt.Sprintf("invited%d@example.com", i), "role": "member", "message": "Welcome aboard."}
			}},
		{route: "list-invitations", token: admin, query: "?limit=20", status: 200, samples: n, cpu: true},
		{route: "list-invitations", label: "status=pending", token: admin, query: "?limit=20&status=pending", status: 200, samples: n},
		{route: "resend-invitation", id: resent.id, token: admin, status: 200, samples: n, cpu: true},
		{route: "cancel-invitation", idOf: func(i int) string { return fx.get("cancel", i).id }, token: admin, status: 204, samples: n, cpu: true},
		{route: "lookup-invitation", query: "?token=" + url.QueryEscape(lookedUp.token), status: 200, samples: n, cpu: true},
		{route: "lookup-invitation", label: "unknown token: counted toward the IP's limit",
			query: "?token=umi_inv_aaaaaaaaaaaaaaaaaaaaaaaaaa.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", status: 400, extra: 1, extraNote: "the failure counted", samples: 1},
		{route: "accept-invitation", body: accept, status: 201, samples: nHash, cpu: true},
		{route: "decline-invitation", body: func(i int) any { return map[string]any{"token": fx.get("decline", i).token} }, status: 204, samples: n, cpu: true},
		{route: "accept-invitation-page", query: "?token=" + url.QueryEscape(lookedUp.token), status: 200, samples: n, cpu: true},
		{route: "register", status: 201, samples: nHash, cpu: true,
			before: func() {
				if _, err := b.send("PATCH", "/settings", b.admin, map[string]any{"allow_registration": true}, 200); err != nil {
					panic(err)
				}
			},
			body: func(i int) any {
				return map[string]any{"email": fmt.Sprintf("registered%d@example.com", i), "password": password, "given_name": "Self", "family_name": fmt.Sprint(i)}
			}},
	}
}

// expiryJob measures the expire-invitations job: the DynamoDB calls of
// one run that expires due invitations, against its budget (one query per
// batch of 50, plus one transaction per invitation expired).
func (b *bench) expiryJob(due int) (Row, error) {
	fx := b.invitationFixtures()
	for i := range due {
		fx.get("expire", i)
	}
	job, err := b.app.Job("expire-invitations")
	if err != nil {
		return Row{}, err
	}
	st, err := b.app.Settings.Get(b.asAdmin(context.Background()))
	if err != nil {
		return Row{}, err
	}
	at := b.clock.Now().Add(time.Duration(st.InvitationTTLHours)*time.Hour + time.Minute)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	b.calls.take()
	start := time.Now()
	rep, err := job(ctx, events.EventBridgeEvent{ID: "bench-expiry", DetailType: "Scheduled Event", Time: at})
	took := time.Since(start)
	if err != nil {
		return Row{}, err
	}
	made := b.calls.take()
	ops := ops(made)
	queries := rep.Done/50 + 1
	row := Row{Route: "expire-invitations", Case: fmt.Sprintf("job: %d due, %d expired", due, rep.Done), Method: "JOB",
		Path: "rate(1 hour)", Calls: len(ops), MinCalls: len(ops), ByOperation: countOps(ops), Waves: waves(made),
		Budget: queries + rep.Done, BudgetExpr: "proportional to what is due: one query per 50 due, one transaction per expiry"}
	row.Case += fmt.Sprintf(", in %.0f ms", ms(took))
	// What the run consumed, and for how many: the cost model's per-item figures.
	row.RCU, row.WCU = jobUnits(made)
	row.Items, row.Latency = rep.Done, latencyOf([]float64{ms(took)})
	if rep.Done < due {
		return row, fmt.Errorf("the job expired %d of %d due invitations", rep.Done, due)
	}
	return row, nil
}

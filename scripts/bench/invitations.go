package main

import (
	"context"
	"fmt"
	"net/url"
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
// only the cases' requests are measured, and they go through the app. It
// is safe for concurrent use (prefetch).
type invitationFixtures struct {
	b    *bench
	svc  *invitations.Service
	made onceEach[fixture] // by purpose and index
}

type fixture struct{ id, token string }

// linkKey holds, in a fixture's context, where Send puts the link of the
// invitation it sends.
type linkKey struct{}

func (b *bench) invitationFixtures() *invitationFixtures {
	f := &invitationFixtures{b: b}
	f.svc = invitations.NewService(b.app.Store, b.app.Auth, f, b.app.Log, func(token string) string { return token })
	f.svc.Params = seedParams
	return f
}

// Send keeps the link of an invitation instead of mailing it.
func (f *invitationFixtures) Send(ctx context.Context, n notices.Notice) (string, error) {
	inv, ok := n.(notices.Invitation)
	link, _ := ctx.Value(linkKey{}).(*string)
	if !ok || link == nil {
		return "", fmt.Errorf("bench: a fixture sent %T", n)
	}
	*link = inv.Link
	return "fixture", nil
}

// get returns the invitation of purpose and index i, making it once.
func (f *invitationFixtures) get(purpose string, i int) fixture {
	return f.made.get(fmt.Sprint(purpose, i), func() fixture {
		b := f.b
		var link string
		ctx := context.WithValue(b.asAdmin(context.Background()), linkKey{}, &link)
		st, err := b.app.Settings.Get(ctx)
		if err != nil {
			panic(fmt.Sprintf("bench: settings for a fixture: %v", err))
		}
		ctx = settings.WithSnapshot(ctx, st)
		var inv *invitations.Invitation
		err = b.whileBusy(func() (err error) {
			inv, err = f.svc.Create(ctx, invitations.CreateInput{Email: b.email(fmt.Sprint(purpose, i)), Role: "member"})
			return err
		})
		if err != nil {
			panic(fmt.Sprintf("bench: an invitation to %s: %v", purpose, err))
		}
		return fixture{id: inv.ID, token: link}
	})
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
		{route: "cancel-invitation", made: true, idOf: func(i int) string { return fx.get("cancel", i).id }, token: admin, status: 204, samples: n, cpu: true},
		{route: "lookup-invitation", query: "?token=" + url.QueryEscape(lookedUp.token), status: 200, samples: n, cpu: true},
		{route: "lookup-invitation", label: "unknown token: counted toward the IP's limit",
			query: "?token=umi_inv_aaaaaaaaaaaaaaaaaaaaaaaaaa.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", status: 400, extra: 1, extraNote: "the failure counted", samples: 1},
		{route: "accept-invitation", made: true, body: accept, status: 201, samples: nHash, cpu: true},
		{route: "decline-invitation", made: true, body: func(i int) any { return map[string]any{"token": fx.get("decline", i).token} }, status: 204, samples: n, cpu: true},
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
	prefetch(request{made: true, idOf: func(i int) string { return fx.get("expire", i).id }}, 0, due)
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

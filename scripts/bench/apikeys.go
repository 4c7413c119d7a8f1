package main

import (
	"context"
	"fmt"

	"github.com/usermgmt/ums/pkg/access"
	"github.com/usermgmt/ums/pkg/audit"
	"github.com/usermgmt/ums/pkg/auth"
	"github.com/usermgmt/ums/pkg/ids"
	"github.com/usermgmt/ums/pkg/users"
)

// keyCases are the cases of the API-key routes, and of authenticating with
// a key: one round trip, as with a session.
func (b *bench) keyCases(n int) []request {
	admin := func(int) string { return b.admin }
	var personal, system string
	var made, sysMade onceEach[string]
	// mine makes a personal key of the admin's per request index, for the
	// deletes, through the store: the CPU rounds make a thousand at once,
	// past the 50 the route lets a user hold.
	mine := func(i int) string {
		return made.get(fmt.Sprint(i), func() string {
			ctx := b.asAdmin(context.Background())
			u, err := b.app.Store.GetUser(ctx, b.adminID)
			if err != nil {
				panic(err)
			}
			id := ids.FromHash("key", ids.Secret())
			k := &auth.APIKey{ID: id, Name: fmt.Sprint("delete me ", i), Prefix: "umk_benchkey", OwnerUserID: &b.adminID,
				CreatedAt: b.clock.Now(), Gen: u.SessionGen}
			if err := b.whileBusy(func() error {
				// Each fixture counts toward a limit of its own: the route's
				// limit of keys per caller is not what these measure.
				limit := auth.KeyLimit{Caller: "bench:" + id, Window: b.clock.Now().Truncate(auth.KeyWindow)}
				return b.app.Store.CreateKey(ctx, k, limit, audit.New(ctx, "api_key.created", "api_key", id, nil))
			}); err != nil {
				panic(err)
			}
			return id
		})
	}
	theirs := func(i int) string {
		return sysMade.get(fmt.Sprint(i), func() string {
			res, err := b.sendFixture("POST", "/api-keys", b.admin, map[string]any{"name": fmt.Sprint("delete me ", i), "role": "member"}, 201)
			if err != nil {
				panic(err)
			}
			return res.str("id")
		})
	}
	// keymaker is the token of an admin of its own for each batch of
	// requests that make keys: a caller makes auth.KeysPerWindow keys an
	// hour at most, and the samples and CPU rounds make thousands (in the
	// real binary, on the real clock). A batch of one index range serves
	// both creations, personal and system: a quarter of the limit each,
	// and a keymaker never holds near the 50 personal keys a user may.
	// Cheap fixtures, as freshToken's.
	var keymakers onceEach[string]
	keymaker := func(i int) string {
		batch := fmt.Sprint(i / (auth.KeysPerWindow / 4))
		return keymakers.get(batch, func() string {
			ctx := b.asAdmin(context.Background())
			email := b.email("keymaker" + batch)
			if _, err := b.cheapUser(ctx, users.CreateInput{Email: email, Password: password, GivenName: "Key", FamilyName: "Maker" + batch,
				Role: string(access.Admin)}); err != nil {
				panic(err)
			}
			var res *auth.LoginResult
			err := b.whileBusy(func() (err error) {
				login := access.WithRequest(context.Background(), access.Request{ID: "bench", IP: "198.51.100.9", Now: b.clock.Now()})
				res, err = b.cheapAuth.Login(login, auth.LoginInput{Login: email, Password: password})
				return err
			})
			if err != nil {
				panic(fmt.Sprintf("bench: a keymaker's session: %v", err))
			}
			return res.Token
		})
	}
	keyOf := func(route string, body map[string]any) func() {
		return func() {
			res, err := b.send("POST", route, b.admin, body, 201)
			if err != nil {
				panic(err)
			}
			if route == "/me/api-keys" {
				personal = res.str("key")
			} else {
				system = res.str("key")
			}
		}
	}
	return []request{
		{route: "list-my-api-keys", token: admin, status: 200, samples: n, cpu: true},
		// Made by keymakers, a few each (see keymaker).
		{route: "create-my-api-key", token: keymaker, status: 201, samples: min(n, 40), cpu: false,
			body: func(i int) any { return map[string]any{"name": fmt.Sprint("bench ", i)} }},
		{route: "delete-my-api-key", made: true, token: admin, idOf: mine, status: 204, samples: n, cpu: true},
		{route: "list-api-keys", token: admin, query: "?limit=20", status: 200, samples: n, cpu: true},
		{route: "create-api-key", token: keymaker, status: 201, samples: n, cpu: true,
			body: func(i int) any {
				return map[string]any{"name": fmt.Sprint("bench ", i), "role": "admin", "expires_in_days": 30}
			}},
		{route: "delete-api-key", made: true, token: admin, idOf: theirs, status: 204, samples: n, cpu: true},
		{route: "get-me", label: "with a personal key", token: func(int) string { return personal }, status: 200, samples: n,
			before: keyOf("/me/api-keys", map[string]any{"name": "bench reads"}), extra: touch},
		{route: "get-user", label: "with a system key", id: b.targetID, token: func(int) string { return system }, status: 200, samples: n,
			before: keyOf("/api-keys", map[string]any{"name": "bench reads", "role": "admin"}), extra: touch},
	}
}

package app

import (
	"context"
	"testing"

	"github.com/usermgmt/ums/pkg/config"
	"github.com/usermgmt/ums/pkg/routes"
)

func TestEveryRouteHasItsHandlerAndNothingElse(t *testing.T) {
	cfg, err := config.FromEnv(func(k string) string {
		return map[string]string{config.EnvTableName: "t", config.EnvDynamoDBEndpoint: "http://127.0.0.1:1"}[k]
	})
	if err != nil {
		t.Fatal(err)
	}
	a, err := New(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range routes.All {
		if h, err := a.Handler(r.Name); err != nil || h == nil {
			t.Errorf("%s: %v", r.Name, err)
		}
	}
	for name := range handlers {
		if _, ok := routes.ByName(name); !ok {
			t.Errorf("handler %q has no route", name)
		}
	}
	if _, err := a.Handler("no-such-route"); err == nil {
		t.Error("an unknown route got a handler")
	}
	for _, j := range routes.Jobs {
		if h, err := a.Job(j.Name); err != nil || h == nil {
			t.Errorf("job %s: %v", j.Name, err)
		}
	}
	for name := range runners {
		if _, ok := routes.JobByName(name); !ok {
			t.Errorf("runner %q has no job", name)
		}
	}
}

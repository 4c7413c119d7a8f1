package app

import (
	"context"
	"maps"
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
		var err error
		switch {
		case j.Schedule != "":
			_, err = a.Job(j.Name)
		case j.Stream != nil:
			_, err = a.StreamJob(j.Name)
		case j.OnDeploy:
			_, err = a.DeployJob(j.Name)
		}
		if err != nil {
			t.Errorf("job %s: %v", j.Name, err)
		}
	}
	for _, names := range []func(yield func(string) bool){maps.Keys(runners), maps.Keys(streamJobs), maps.Keys(deployJobs)} {
		for name := range names {
			if _, ok := routes.JobByName(name); !ok {
				t.Errorf("%q has no job", name)
			}
		}
	}
}

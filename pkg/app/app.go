package app

import (
	"context"
	"fmt"
	"log"
	"log/slog"
	"net/http"
	"os"
	"time"

	"github.com/aws/aws-lambda-go/cfn"
	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/usermgmt/ums/pkg/api"
	"github.com/usermgmt/ums/pkg/audit"
	"github.com/usermgmt/ums/pkg/auth"
	"github.com/usermgmt/ums/pkg/config"
	"github.com/usermgmt/ums/pkg/console"
	"github.com/usermgmt/ums/pkg/dynamo"
	"github.com/usermgmt/ums/pkg/export"
	"github.com/usermgmt/ums/pkg/invitations"
	"github.com/usermgmt/ums/pkg/jobs"
	"github.com/usermgmt/ums/pkg/notices"
	"github.com/usermgmt/ums/pkg/pages"
	"github.com/usermgmt/ums/pkg/passwords"
	"github.com/usermgmt/ums/pkg/routes"
	"github.com/usermgmt/ums/pkg/settings"
	"github.com/usermgmt/ums/pkg/teams"
	"github.com/usermgmt/ums/pkg/users"
)

// App is the service, wired.
type App struct {
	Config   config.Config
	Log      *slog.Logger
	Store    *dynamo.Store
	Users    *users.Service
	Auth     *auth.Service
	Settings *settings.Service
	Audit    *audit.Service
	Export   *export.Service
	Teams    *teams.Service
	// Invitations sends its email through Mail.
	Invitations *invitations.Service
	// Mail sends the notices; nil in a function that sends none.
	Mail notices.Sender
	// Now is the clock requests are stamped with; nil means time.Now.
	Now func() time.Time
}

// Option adjusts how New builds the App.
type Option func(*options)

type options struct {
	dynamo []func(*dynamodb.Options)
	mail   func(context.Context, config.Config) (notices.Sender, error)
}

// WithSender gives the App its mail sender, made from the configuration
// (email.FromConfig). Only the functions that send mail pass it, so only
// their binaries carry the SES client; the others send nothing.
func WithSender(fn func(context.Context, config.Config) (notices.Sender, error)) Option {
	return func(o *options) { o.mail = fn }
}

// WithDynamoDBOptions adjusts the DynamoDB client, e.g. to add middleware
// that counts round trips (scripts/bench).
func WithDynamoDBOptions(fn func(*dynamodb.Options)) Option {
	return func(o *options) { o.dynamo = append(o.dynamo, fn) }
}

// New builds the App. It makes no network call: clients connect on first use.
func New(ctx context.Context, cfg config.Config, opts ...Option) (*App, error) {
	var o options
	for _, fn := range opts {
		fn(&o)
	}
	level := slog.LevelInfo
	if cfg.Debug {
		level = slog.LevelDebug
	}
	logger := slog.New(slog.NewJSONHandler(os.Stderr, &slog.HandlerOptions{Level: level}))
	client, err := dynamo.NewClient(ctx, cfg.Region, cfg.DynamoDBEndpoint, o.dynamo...)
	if err != nil {
		return nil, fmt.Errorf("app: %w", err)
	}
	store := dynamo.New(client, cfg.TableName)
	var mail notices.Sender
	if o.mail != nil {
		if mail, err = o.mail(ctx, cfg); err != nil {
			return nil, fmt.Errorf("app: %w", err)
		}
	}
	authn := auth.NewService(store)
	// What no password may be: the product's name and the service's own.
	words := passwords.ServiceWords(cfg.Product())
	authn.Mail, authn.Log, authn.Words = mail, logger, words
	authn.ResetLink = func(token string) string { return config.Link(cfg.PasswordResetURL, token) }
	invitationLink := func(token string) string { return config.Link(cfg.InvitationURL, token) }
	people := users.NewService(store)
	people.Mail, people.Log, people.Words = mail, logger, words
	invites := invitations.NewService(store, authn, mail, logger, invitationLink)
	invites.Words = words
	return &App{
		Config:      cfg,
		Log:         logger,
		Store:       store,
		Users:       people,
		Auth:        authn,
		Settings:    settings.NewService(store),
		Audit:       audit.NewService(store),
		Export:      export.NewService(store),
		Teams:       teams.NewService(store),
		Invitations: invites,
		Mail:        mail,
	}, nil
}

// handlers gives each route its handler: the one table from route name to
// code. A test proves it names every route and nothing else.
var handlers = map[string]func(a *App) http.Handler{
	"login":           func(a *App) http.Handler { return api.Login(a.Auth) },
	"logout":          func(a *App) http.Handler { return api.Logout(a.Auth) },
	"get-me":          func(a *App) http.Handler { return api.GetMe(a.Users) },
	"update-me":       func(a *App) http.Handler { return api.UpdateMe(a.Users) },
	"list-users":      func(a *App) http.Handler { return api.ListUsers(a.Users) },
	"create-user":     func(a *App) http.Handler { return api.CreateUser(a.Users) },
	"get-user":        func(a *App) http.Handler { return api.GetUser(a.Users) },
	"update-user":     func(a *App) http.Handler { return api.UpdateUser(a.Users) },
	"get-settings":    func(a *App) http.Handler { return api.GetSettings(a.Settings) },
	"update-settings": func(a *App) http.Handler { return api.UpdateSettings(a.Settings) },
	"get-summary":     func(a *App) http.Handler { return api.GetSummary(a.Users) },
	"register":        func(a *App) http.Handler { return api.Register(a.Auth) },

	"list-teams":  func(a *App) http.Handler { return api.ListTeams(a.Teams) },
	"create-team": func(a *App) http.Handler { return api.CreateTeam(a.Teams) },
	"update-team": func(a *App) http.Handler { return api.UpdateTeam(a.Teams) },
	"delete-team": func(a *App) http.Handler { return api.DeleteTeam(a.Teams) },

	"list-invitations":       func(a *App) http.Handler { return api.ListInvitations(a.Invitations) },
	"create-invitation":      func(a *App) http.Handler { return api.CreateInvitation(a.Invitations) },
	"resend-invitation":      func(a *App) http.Handler { return api.ResendInvitation(a.Invitations) },
	"cancel-invitation":      func(a *App) http.Handler { return api.CancelInvitation(a.Invitations) },
	"lookup-invitation":      func(a *App) http.Handler { return api.LookupInvitation(a.Invitations) },
	"accept-invitation":      func(a *App) http.Handler { return api.AcceptInvitation(a.Invitations) },
	"decline-invitation":     func(a *App) http.Handler { return api.DeclineInvitation(a.Invitations) },
	"accept-invitation-page": func(a *App) http.Handler { return api.Page(pages.AcceptInvitation) },

	"forgot-password":       func(a *App) http.Handler { return api.ForgotPassword(a.Auth) },
	"lookup-password-reset": func(a *App) http.Handler { return api.LookupPasswordReset(a.Auth) },
	"reset-password":        func(a *App) http.Handler { return api.ResetPassword(a.Auth) },
	"reset-password-page":   func(a *App) http.Handler { return api.Page(pages.ResetPassword) },
	"console":               func(a *App) http.Handler { return api.Console(console.Console) },
	"console-file":          func(a *App) http.Handler { return api.ConsoleFile(console.Console) },
	"change-password":       func(a *App) http.Handler { return api.ChangePassword(a.Auth) },
	"create-password-reset": func(a *App) http.Handler { return api.CreatePasswordReset(a.Auth) },
	"list-my-sessions":      func(a *App) http.Handler { return api.ListMySessions(a.Auth) },
	"delete-my-session":     func(a *App) http.Handler { return api.DeleteMySession(a.Auth) },
	"list-user-sessions":    func(a *App) http.Handler { return api.ListUserSessions(a.Auth) },
	"list-sessions":         func(a *App) http.Handler { return api.ListSessions(a.Auth) },
	"delete-session":        func(a *App) http.Handler { return api.DeleteSession(a.Auth) },
	"list-login-attempts":   func(a *App) http.Handler { return api.ListLoginAttempts(a.Auth) },
	"deactivate-user":       func(a *App) http.Handler { return api.DeactivateUser(a.Users) },
	"activate-user":         func(a *App) http.Handler { return api.ActivateUser(a.Users) },
	"delete-user":           func(a *App) http.Handler { return api.DeleteUser(a.Users) },
	"restore-user":          func(a *App) http.Handler { return api.RestoreUser(a.Users) },
	"anonymize-user":        func(a *App) http.Handler { return api.AnonymizeUser(a.Users) },
	"end-user-sessions":     func(a *App) http.Handler { return api.EndUserSessions(a.Users) },
	"set-password":          func(a *App) http.Handler { return api.SetPassword(a.Users) },

	"export-user":       func(a *App) http.Handler { return api.ExportUser(a.Export) },
	"list-audit-events": func(a *App) http.Handler { return api.ListAuditEvents(a.Audit) },
	"mark-used":         func(a *App) http.Handler { return api.MarkUsed(a.Users) },
	"list-my-api-keys":  func(a *App) http.Handler { return api.ListMyAPIKeys(a.Auth) },
	"create-my-api-key": func(a *App) http.Handler { return api.CreateMyAPIKey(a.Auth) },
	"delete-my-api-key": func(a *App) http.Handler { return api.DeleteMyAPIKey(a.Auth) },
	"list-api-keys":     func(a *App) http.Handler { return api.ListAPIKeys(a.Auth) },
	"create-api-key":    func(a *App) http.Handler { return api.CreateAPIKey(a.Auth) },
	"delete-api-key":    func(a *App) http.Handler { return api.DeleteAPIKey(a.Auth) },
}

// Handler returns the complete handler of the named route: its own handler
// inside the middleware every route shares.
func (a *App) Handler(name string) (http.Handler, error) {
	route, ok := routes.ByName(name)
	if !ok {
		return nil, fmt.Errorf("app: no route %q", name)
	}
	h, ok := handlers[name]
	if !ok {
		return nil, fmt.Errorf("app: route %q has no handler", name)
	}
	return api.Wrap(route, h(a), api.Options{
		Auth: a.Auth, Log: a.Log, Timeout: a.Config.RequestTimeout, Now: a.Now, Idempotency: a.Store,
	}), nil
}

// runners gives each job its work, as handlers does for routes.
var runners = map[string]func(a *App) jobs.Runner{
	"expire-invitations":  func(a *App) jobs.Runner { return counted(a.Invitations.ExpireDue) },
	"purge-deleted-users": func(a *App) jobs.Runner { return counted(a.Users.PurgeDue) },
}

// counted adapts a job's work that counts what it did to a Runner.
func counted(work func(context.Context) (done int, more bool, err error)) jobs.Runner {
	return func(ctx context.Context, r *jobs.Report) (err error) {
		r.Done, r.More, err = work(ctx)
		return err
	}
}

// Job returns the Lambda handler of the named scheduled job.
func (a *App) Job(name string) (func(context.Context, events.EventBridgeEvent) (jobs.Report, error), error) {
	if j, ok := routes.JobByName(name); !ok || j.Schedule == "" {
		return nil, fmt.Errorf("app: no scheduled job %q", name)
	}
	r, ok := runners[name]
	if !ok {
		return nil, fmt.Errorf("app: job %q has no runner", name)
	}
	return jobs.Handler(name, r(a), a.Log, a.clock()), nil
}

// streamJobs gives each stream job what it does with one record.
var streamJobs = map[string]func(a *App) func(context.Context, events.DynamoDBEventRecord) error{
	"send-mail": func(a *App) func(context.Context, events.DynamoDBEventRecord) error {
		return func(ctx context.Context, rec events.DynamoDBEventRecord) error {
			m, ok := dynamo.Message(rec.Change.NewImage)
			if !ok {
				// Not an outbox item: the mapping's filter lets none
				// through; nothing to send if one comes.
				return nil
			}
			return a.Auth.SendQueued(ctx, m)
		}
	},
}

// deployJobs gives each deploy job its work.
var deployJobs = map[string]func(a *App) jobs.Runner{
	"prepare-table": func(a *App) jobs.Runner {
		return func(ctx context.Context, r *jobs.Report) error {
			if err := a.Store.Prepare(ctx); err != nil {
				return err
			}
			r.Done = 1
			return nil
		}
	},
}

// StreamJob returns the Lambda handler of the named stream job.
func (a *App) StreamJob(name string) (func(context.Context, events.DynamoDBEvent) (events.DynamoDBEventResponse, error), error) {
	if j, ok := routes.JobByName(name); !ok || j.Stream == nil {
		return nil, fmt.Errorf("app: no stream job %q", name)
	}
	do, ok := streamJobs[name]
	if !ok {
		return nil, fmt.Errorf("app: stream job %q has no handler", name)
	}
	return jobs.StreamHandler(name, do(a), a.Log, a.clock()), nil
}

// DeployJob returns the Lambda handler of the named deploy job.
func (a *App) DeployJob(name string) (func(context.Context, cfn.Event) (string, error), error) {
	if j, ok := routes.JobByName(name); !ok || !j.OnDeploy {
		return nil, fmt.Errorf("app: no deploy job %q", name)
	}
	run, ok := deployJobs[name]
	if !ok {
		return nil, fmt.Errorf("app: deploy job %q has no runner", name)
	}
	return jobs.DeployHandler(name, run(a), a.Log, a.clock()), nil
}

func (a *App) clock() func() time.Time {
	if a.Now == nil {
		return time.Now
	}
	return a.Now
}

// MustStreamJob is a stream job function's whole main.
func MustStreamJob(name string, opts ...Option) func(context.Context, events.DynamoDBEvent) (events.DynamoDBEventResponse, error) {
	h, err := mustApp(opts...).StreamJob(name)
	if err != nil {
		log.Fatal(err)
	}
	return h
}

// MustDeployJob is a deploy job function's whole main.
func MustDeployJob(name string, opts ...Option) func(context.Context, cfn.Event) (string, error) {
	h, err := mustApp(opts...).DeployJob(name)
	if err != nil {
		log.Fatal(err)
	}
	return h
}

// MustJob is a job function's whole main, as MustHandler is a route's.
func MustJob(name string, opts ...Option) func(context.Context, events.EventBridgeEvent) (jobs.Report, error) {
	a := mustApp(opts...)
	h, err := a.Job(name)
	if err != nil {
		log.Fatal(err)
	}
	return h
}

// MustHandler is a Lambda function's whole main: it reads the configuration
// from the environment, builds the App and returns the route's handler, or
// stops the process. Failing here fails the cold start, never a request.
func MustHandler(name string, opts ...Option) http.Handler {
	h, err := mustApp(opts...).Handler(name)
	if err != nil {
		log.Fatal(err)
	}
	return h
}

func mustApp(opts ...Option) *App {
	cfg, err := config.FromEnv(os.Getenv)
	if err != nil {
		log.Fatal(err)
	}
	a, err := New(context.Background(), cfg, opts...)
	if err != nil {
		log.Fatal(err)
	}
	return a
}

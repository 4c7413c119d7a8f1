package routes

import (
	"slices"
	"strconv"
	"strings"

	"github.com/usermgmt/ums/pkg/schema"
)

// Access says who may call a route. Every route names one: there is no default.
type Access string

const (
	// Public routes need no credentials (login, accepting an invitation).
	Public Access = "public"
	// SignedIn routes need a valid session or API key of any role.
	SignedIn Access = "signed_in"
	// Manager routes need the manager or admin role; the service narrows a
	// manager to their own team.
	Manager Access = "manager"
	// Admin routes need the admin role.
	Admin Access = "admin"
)

// Kind is what a route answers with, which decides its headers.
type Kind int

const (
	// JSON routes answer JSON, or problem details: the default.
	JSON Kind = iota
	// Page routes answer an HTML page (or a file of one, the console's
	// scripts and styles), with a strict Content-Security-Policy. They read
	// nothing from the table.
	Page
)

// Action is a DynamoDB action a function performs. Inside a transaction each
// item is authorized as its own action (a Put as PutItem, a ConditionCheck
// as ConditionCheckItem), as IAM evaluates them.
type Action string

const (
	GetItem            Action = "GetItem"
	BatchGetItem       Action = "BatchGetItem"
	Query              Action = "Query"
	PutItem            Action = "PutItem"
	UpdateItem         Action = "UpdateItem"
	DeleteItem         Action = "DeleteItem"
	ConditionCheckItem Action = "ConditionCheckItem"
	BatchWriteItem     Action = "BatchWriteItem"
)

// Reads are the actions that change nothing.
var Reads = []Action{GetItem, BatchGetItem, Query}

// Auth is the DynamoDB round trips of authenticating a request: one
// strongly consistent BatchGetItem of the caller, the session (or key) and
// the settings.
const Auth = 1

// Budget is a route's allowance of DynamoDB round trips per request, on top
// of Auth for the routes that take a token. make bench measures every route
// against it and fails when one is over.
type Budget struct {
	// Calls is the allowance beyond authentication.
	Calls int
	// Note says what the count covers where it is not obvious.
	Note string
}

// Route is one operation: one Lambda function, one API Gateway route.
type Route struct {
	// Name is the function's name: the directory under functions/, the file
	// under events/, and the OpenAPI operationId.
	Name string
	// Method and Path use the syntax shared by API Gateway HTTP APIs and
	// net/http.ServeMux: "/users/{id}".
	Method string
	Path   string
	// Access says who may call it.
	Access Access
	// Kind is JSON unless the route serves a page.
	Kind Kind
	// Dynamo lists every DynamoDB action the function performs: the stack
	// grants exactly these on the table and its indexes (never Scan), and a
	// test proves the route uses each and no other. Signed-in routes may
	// also record activity (see TouchAttributes in pkg/schema) and POST
	// routes keep Idempotency-Key records; those grants are added for them.
	Dynamo []Action
	// SendsEmail grants ses:SendEmail.
	SendsEmail bool
	// Secret says the success response carries a secret (a session token,
	// an API key, a reset link): the Idempotency-Key layer never stores it.
	Secret bool
	// Hashes says the route runs argon2id (to check or set a password),
	// which decides its function's memory (MemoryMB).
	Hashes bool
	// Stats says the route answers a user with stats: what the user holds
	// (sessions, keys) is read with the authentication, at the same time.
	Stats bool
	// Holds says the route acts on what the user holds (it ends their
	// sessions): that is read with the authentication, as for Stats.
	Holds bool
	// Budget is the DynamoDB round trips one request may make.
	Budget Budget
	// Summary is a one-line description, used by the OpenAPI check and the CDK
	// function description.
	Summary string
}

// Pattern is the route as a net/http.ServeMux pattern: "GET /users/{id}".
func (r Route) Pattern() string { return r.Method + " " + r.Path }

// Key is the route as an API Gateway route key; it is the same string as Pattern.
func (r Route) Key() string { return r.Pattern() }

// Writes reports whether the route may change the table.
func (r Route) Writes() bool {
	return slices.ContainsFunc(r.Dynamo, func(a Action) bool { return !slices.Contains(Reads, a) })
}

// Memory of the functions, in MB. On Lambda, CPU comes with memory: 1,769 MB
// is one vCPU, 256 MB about a seventh of one, and a CPU-bound task costs the
// same GB-seconds at any size below one vCPU (it runs proportionally
// longer), while time spent waiting on DynamoDB costs in proportion to the
// memory.
const (
	// VCPUMemory is the memory of one full vCPU: an argon2id hash then
	// takes its one-core time (about 25 ms to check, 45 ms to make), not
	// seven times that, for the same GB-seconds.
	VCPUMemory = 1769
	// SmallMemory is enough for a route that reads and writes a few items:
	// a fraction of a millisecond of CPU, most of the time waiting on
	// DynamoDB, which costs least at the smallest size.
	SmallMemory = 256
	// JobMemory is the scheduled functions': their work is many small
	// transactions in a loop.
	JobMemory = 512
)

// MemoryMB is the memory of the route's function: a vCPU for the routes
// that hash a password, the smallest size for the rest.
func (r Route) MemoryMB() int {
	if r.Hashes {
		return VCPUMemory
	}
	return SmallMemory
}

// MaxCalls is the route's budget in round trips, authentication included.
func (r Route) MaxCalls() int {
	if r.Access == Public {
		return r.Budget.Calls
	}
	return Auth + r.Budget.Calls
}

// CamelCase turns a function's kebab-case name into the CamelCase of its api
// handler and its CDK construct ids: "deactivate-user" becomes
// "DeactivateUser".
func CamelCase(name string) string {
	var b strings.Builder
	for part := range strings.SplitSeq(name, "-") {
		if part == "" {
			continue
		}
		b.WriteString(strings.ToUpper(part[:1]) + part[1:])
	}
	return b.String()
}

// Shorthands for the Dynamo lists below.
var (
	reads     = []Action{BatchGetItem, Query}
	readWrite = []Action{BatchGetItem, GetItem, PutItem, UpdateItem}
)

func with(base []Action, more ...Action) []Action { return append(slices.Clone(base), more...) }

// All lists every route. Order is the order of the API reference.
var All = []Route{
	{Name: "login", Method: "POST", Path: "/auth/login", Access: Public,
		Dynamo: []Action{BatchGetItem, GetItem, PutItem, UpdateItem, ConditionCheckItem}, Secret: true, Hashes: true,
		Budget:  Budget{3, "the login's uniqueness item, the settings and the throttles; the user; one transaction"},
		Summary: "Sign in with an email or username and a password"},
	{Name: "register", Method: "POST", Path: "/auth/register", Access: Public,
		Dynamo: []Action{BatchGetItem, PutItem, UpdateItem}, Secret: true, Hashes: true,
		Budget:  Budget{2, "the settings and the source IP's failures; one transaction"},
		Summary: "Create an account and sign in, when registration is open"},
	{Name: "logout", Method: "POST", Path: "/auth/logout", Access: SignedIn,
		Dynamo: []Action{BatchGetItem, PutItem, DeleteItem}, Budget: Budget{1, "one transaction"},
		Summary: "End the caller's session"},

	{Name: "lookup-invitation", Method: "GET", Path: "/invitations/lookup", Access: Public, Dynamo: []Action{BatchGetItem},
		Budget:  Budget{1, "the invitation, its user, the settings and the source IP's failures (a bad token counts one more write)"},
		Summary: "What the accept page shows of the invitation a token names"},
	{Name: "accept-invitation", Method: "POST", Path: "/invitations/accept", Access: Public,
		Dynamo: []Action{BatchGetItem, PutItem, UpdateItem}, Secret: true, Hashes: true,
		Budget:  Budget{2, "the invitation, its user, the settings and the IP's failures; one transaction"},
		Summary: "Accept an invitation: set a password and names, and sign in"},
	{Name: "decline-invitation", Method: "POST", Path: "/invitations/decline", Access: Public,
		Dynamo:  []Action{BatchGetItem, PutItem, UpdateItem, DeleteItem},
		Budget:  Budget{2, "the invitation, its user, the settings and the IP's failures; one transaction"},
		Summary: "Decline an invitation"},
	{Name: "accept-invitation-page", Method: "GET", Path: "/pages/accept-invitation", Access: Public, Kind: Page,
		Budget: Budget{0, "a page: its script calls the API"}, Summary: "The page that accepts or declines an invitation"},

	{Name: "forgot-password", Method: "POST", Path: "/auth/password/forgot", Access: Public,
		Dynamo:  []Action{BatchGetItem, GetItem, PutItem, UpdateItem, ConditionCheckItem},
		Budget:  Budget{3, "the email's uniqueness item, the settings and the IP's count; the user (or, for an unknown email, a key that is no one's: the same work); one write (the link's mail is queued, and sent by send-mail after the answer)"},
		Summary: "Email a password-reset link to an active account; the same answer for any email"},
	{Name: "lookup-password-reset", Method: "GET", Path: "/auth/password/reset", Access: Public,
		Dynamo:  []Action{BatchGetItem},
		Budget:  Budget{1, "the user, the reset, the settings and the IP's failures (a bad token counts one more write)"},
		Summary: "What the reset page shows of the reset a token names"},
	{Name: "reset-password", Method: "POST", Path: "/auth/password/reset", Access: Public, Hashes: true,
		Dynamo:  []Action{BatchGetItem, Query, PutItem, UpdateItem, DeleteItem},
		Budget:  Budget{3, "the user's partition, and the settings with the IP's failures, at once; one transaction (one more per 100 sessions past the first 90)"},
		Summary: "Set a new password with a reset token; ends every session"},
	{Name: "reset-password-page", Method: "GET", Path: "/pages/reset-password", Access: Public, Kind: Page,
		Budget: Budget{0, "a page: its script calls the API"}, Summary: "The page that sets a new password with a reset link"},

	// The admin console: its document, then its scripts and styles. Public,
	// like any page: what it shows comes from the API, with the token of
	// whoever signs in to it.
	{Name: "console", Method: "GET", Path: "/console", Access: Public, Kind: Page,
		Budget: Budget{0, "a page: its scripts call the API"}, Summary: "The admin console: the User Management page"},
	{Name: "console-file", Method: "GET", Path: "/console/{file}", Access: Public, Kind: Page,
		Budget: Budget{0, "an embedded file"}, Summary: "One of the admin console's scripts or styles, by its content-hashed name"},

	{Name: "get-me", Method: "GET", Path: "/me", Access: SignedIn, Dynamo: reads, Stats: true,
		Budget: Budget{1, "a query of the user's sessions and keys, at the same time as the authentication (one round trip of latency)"}, Summary: "The caller's own user, with stats"},
	{Name: "update-me", Method: "PATCH", Path: "/me", Access: SignedIn, Dynamo: with(reads, GetItem, PutItem, UpdateItem, DeleteItem),
		Budget:  Budget{2, "one transaction on the user read with the authentication (a retry after a concurrent change reads it again); when the display name changes, a query of the sessions that carry it"},
		Summary: "Edit the caller's own names"},
	{Name: "change-password", Method: "POST", Path: "/me/password", Access: SignedIn, Hashes: true, SendsEmail: true, Holds: true,
		Dynamo:  []Action{BatchGetItem, Query, PutItem, UpdateItem, DeleteItem},
		Budget:  Budget{2, "the user's sessions, read with the authentication; one transaction (one more per 100 other sessions past the first 90)"},
		Summary: "Change the caller's own password; ends their other sessions"},
	{Name: "list-my-sessions", Method: "GET", Path: "/me/sessions", Access: SignedIn, Dynamo: reads,
		Budget: Budget{1, "one query of the caller's partition"}, Summary: "The caller's own sessions"},
	{Name: "delete-my-session", Method: "DELETE", Path: "/me/sessions/{id}", Access: SignedIn, Dynamo: []Action{BatchGetItem, DeleteItem, PutItem},
		Budget: Budget{1, "one transaction: the session's key follows from the caller and its id"}, Summary: "End one of the caller's own sessions"},
	{Name: "mark-used", Method: "POST", Path: "/me/usage", Access: SignedIn, Dynamo: []Action{BatchGetItem, GetItem, PutItem, UpdateItem},
		Budget:  Budget{1, "one transaction on the user read with the authentication, none when already used (a retry after a concurrent change reads it again)"},
		Summary: "Mark the caller's usage used (idempotent)"},
	{Name: "list-my-api-keys", Method: "GET", Path: "/me/api-keys", Access: SignedIn, Dynamo: reads,
		Budget: Budget{1, "one query of the caller's partition"}, Summary: "The caller's own API keys"},
	{Name: "create-my-api-key", Method: "POST", Path: "/me/api-keys", Access: SignedIn, Secret: true, Holds: true,
		Dynamo:  []Action{BatchGetItem, Query, PutItem, UpdateItem, ConditionCheckItem},
		Budget:  Budget{2, "what the caller holds, read with the authentication (at most 50 keys); one transaction"},
		Summary: "Make a personal API key; the secret is shown once"},
	{Name: "delete-my-api-key", Method: "DELETE", Path: "/me/api-keys/{id}", Access: SignedIn, Dynamo: []Action{BatchGetItem, DeleteItem, PutItem},
		Budget: Budget{1, "one transaction: the key's item follows from the caller and its id"}, Summary: "Delete one of the caller's own API keys"},

	{Name: "list-users", Method: "GET", Path: "/users", Access: Manager, Dynamo: reads,
		Budget:  Budget{1, "one query of one index, at any table size; a search not narrowed to a team also reads its page's users, in one BatchGetItem (+1)"},
		Summary: "List users, newest first, with search and filters"},
	{Name: "create-user", Method: "POST", Path: "/users", Access: Manager, Dynamo: []Action{BatchGetItem, PutItem, UpdateItem}, Hashes: true,
		Budget: Budget{2, "one transaction (and the Idempotency-Key record)"}, Summary: "Create a user who can sign in at once"},
	{Name: "get-user", Method: "GET", Path: "/users/{id}", Access: Manager, Dynamo: reads, Stats: true,
		Budget: Budget{1, "the user is read with the authentication, its sessions and keys by a query at the same time (one round trip of latency)"}, Summary: "One user, with stats"},
	{Name: "update-user", Method: "PATCH", Path: "/users/{id}", Access: Manager, Dynamo: with(readWrite, Query, DeleteItem), SendsEmail: true,
		Budget:  Budget{2, "one transaction on the user read with the authentication; when the display name, team or role changes, a query of the sessions that carry them"},
		Summary: "Edit a user; role and team are admin only"},
	{Name: "delete-user", Method: "DELETE", Path: "/users/{id}", Access: Manager, Holds: true,
		Dynamo:  []Action{BatchGetItem, Query, PutItem, UpdateItem, DeleteItem},
		Budget:  Budget{2, "the user's sessions, read with the authentication; one transaction (one more per 100 sessions past the first 90)"},
		Summary: "Delete a user: in deletion, restorable until purge_after"},
	{Name: "restore-user", Method: "POST", Path: "/users/{id}/restore", Access: Manager, Dynamo: []Action{BatchGetItem, PutItem, UpdateItem},
		Budget: Budget{1, "one transaction on the user read with the authentication"}, Summary: "Bring a user in deletion back to the status it had"},
	{Name: "deactivate-user", Method: "POST", Path: "/users/{id}/deactivate", Access: Manager, Holds: true,
		Dynamo:  []Action{BatchGetItem, Query, PutItem, UpdateItem, DeleteItem},
		Budget:  Budget{2, "the user's sessions, read with the authentication; one transaction (one more per 100 sessions past the first 90)"},
		Summary: "Deactivate a user: every session and key ends at once"},
	{Name: "activate-user", Method: "POST", Path: "/users/{id}/activate", Access: Manager, Dynamo: []Action{BatchGetItem, PutItem, UpdateItem},
		Budget: Budget{1, "one transaction on the user read with the authentication"}, Summary: "Activate a deactivated user"},
	{Name: "anonymize-user", Method: "POST", Path: "/users/{id}/anonymize", Access: Manager, Holds: true,
		Dynamo:  []Action{BatchGetItem, Query, PutItem, UpdateItem, DeleteItem},
		Budget:  Budget{12, "what the user holds, read with the authentication; one transaction; then nine queries of what else holds their data (their partition, sign-in attempts by them and by their login, invitations to them and from them, audit events they acted in, about them and about their invitations, kept answers; one more for a username), one transaction per 100 items found, the last of which closes"},
		Summary: "Anonymize a deactivated user, for good"},
	{Name: "set-password", Method: "PUT", Path: "/users/{id}/password", Access: Manager, Hashes: true, SendsEmail: true, Holds: true,
		Dynamo:  []Action{BatchGetItem, Query, PutItem, UpdateItem, DeleteItem},
		Budget:  Budget{2, "the user's sessions, read with the authentication; one transaction (one more per 100 sessions past the first 90)"},
		Summary: "Set a user's password; ends their sessions unless told not to"},
	{Name: "create-password-reset", Method: "POST", Path: "/users/{id}/password-reset", Access: Manager, Secret: true, SendsEmail: true,
		Dynamo: []Action{BatchGetItem, PutItem, ConditionCheckItem}, Budget: Budget{1, "one transaction on the user read with the authentication"},
		Summary: "A password-reset link for a user, to copy or to email"},
	{Name: "list-user-sessions", Method: "GET", Path: "/users/{id}/sessions", Access: Manager, Dynamo: reads,
		Budget: Budget{1, "one query of the user's partition"}, Summary: "A user's sessions"},
	{Name: "end-user-sessions", Method: "DELETE", Path: "/users/{id}/sessions", Access: Manager, Holds: true,
		Dynamo:  []Action{BatchGetItem, Query, PutItem, UpdateItem, DeleteItem},
		Budget:  Budget{2, "the user's sessions, read with the authentication; one transaction (one more per 100 sessions past the first 90)"},
		Summary: "End every session of a user"},

	{Name: "export-user", Method: "GET", Path: "/users/{id}/export", Access: Admin, Dynamo: reads,
		Budget:  Budget{6, "the user read with the authentication; six queries (their partition, invitations to them and from them, sign-in attempts, audit events by and about them), one more per 1 MB page: proportional to the user's own records"},
		Summary: "Everything stored about a user, as one JSON document"},

	{Name: "list-invitations", Method: "GET", Path: "/invitations", Access: Manager, Dynamo: reads,
		Budget: Budget{1, "one query of one index, at any table size"}, Summary: "List invitations, newest first, by status"},
	{Name: "create-invitation", Method: "POST", Path: "/invitations", Access: Manager, SendsEmail: true,
		Dynamo:  []Action{BatchGetItem, GetItem, PutItem, UpdateItem},
		Budget:  Budget{2, "the team (when given); one transaction; then the email (a failed send is recorded: one more write)"},
		Summary: "Invite someone by email, with a role, a team and a message"},
	{Name: "resend-invitation", Method: "POST", Path: "/invitations/{id}/resend", Access: Manager, SendsEmail: true,
		Dynamo:  []Action{BatchGetItem, GetItem, PutItem, UpdateItem},
		Budget:  Budget{2, "the invitation; one transaction; then the email (a failed send is recorded: one more write)"},
		Summary: "Send a pending invitation again, with a new token and expiry"},
	{Name: "cancel-invitation", Method: "DELETE", Path: "/invitations/{id}", Access: Manager,
		Dynamo:  []Action{BatchGetItem, GetItem, PutItem, UpdateItem, DeleteItem},
		Budget:  Budget{2, "the invitation; one transaction"},
		Summary: "Cancel a pending invitation"},

	{Name: "list-sessions", Method: "GET", Path: "/sessions", Access: Manager, Dynamo: reads,
		Budget: Budget{1, "one query: of an index, or of the user's partition with user_id"}, Summary: "List sessions, newest first"},
	{Name: "delete-session", Method: "DELETE", Path: "/sessions/{id}", Access: Manager, Dynamo: []Action{BatchGetItem, Query, GetItem, DeleteItem, PutItem},
		Budget: Budget{3, "the session by its id (an index); its user; one transaction"}, Summary: "End a session"},
	{Name: "list-login-attempts", Method: "GET", Path: "/login-attempts", Access: Admin, Dynamo: reads,
		Budget: Budget{1, "one query of one index, at any table size"}, Summary: "List sign-in attempts, newest first"},

	{Name: "get-settings", Method: "GET", Path: "/settings", Access: Admin, Dynamo: []Action{BatchGetItem},
		Budget: Budget{0, "answered from the settings authentication read"}, Summary: "The settings"},
	{Name: "update-settings", Method: "PATCH", Path: "/settings", Access: Admin, Dynamo: readWrite,
		Budget: Budget{1, "one transaction on the settings read with the authentication"}, Summary: "Change settings"},
	{Name: "get-summary", Method: "GET", Path: "/summary", Access: Admin, Dynamo: []Action{BatchGetItem},
		Budget: Budget{0, "the counters are read with the authentication"}, Summary: "The usage summary against licenses, exact"},
	{Name: "list-teams", Method: "GET", Path: "/teams", Access: Manager, Dynamo: []Action{BatchGetItem, GetItem, Query},
		Budget: Budget{1, "one query of the teams' index (admins), or one read of the manager's own team"}, Summary: "List teams, by name"},
	{Name: "create-team", Method: "POST", Path: "/teams", Access: Admin, Dynamo: []Action{BatchGetItem, PutItem},
		Budget: Budget{2, "one transaction (and the Idempotency-Key record)"}, Summary: "Create a team"},
	{Name: "update-team", Method: "PATCH", Path: "/teams/{id}", Access: Admin, Dynamo: []Action{BatchGetItem, GetItem, PutItem, UpdateItem, DeleteItem},
		Budget: Budget{2, "the team; one transaction (a retry after a concurrent change reads it again)"}, Summary: "Rename a team"},
	{Name: "delete-team", Method: "DELETE", Path: "/teams/{id}", Access: Admin,
		Dynamo:  []Action{BatchGetItem, GetItem, Query, PutItem, UpdateItem, DeleteItem},
		Budget:  Budget{7, "the team; four queries at once (its users, sessions, invitations, manager-role system keys; one more per admin in it, for their sessions); the transaction that marks it deleting and unassigns as many users as fit, one more per 100 actions; the delete of the team (a member the indexes do not show yet: the queries and the delete again)"},
		Summary: "Delete a team: its users, their sessions and its invitations are unassigned; its manager-role keys end"},
	{Name: "list-audit-events", Method: "GET", Path: "/audit-events", Access: Admin, Dynamo: reads,
		Budget:  Budget{1, "one query of one index (the target's, the actor's, the action's or every event's), at any table size; other filters narrow what it reads"},
		Summary: "The audit log, newest first, with filters"},
	{Name: "list-api-keys", Method: "GET", Path: "/api-keys", Access: Admin, Dynamo: reads,
		Budget: Budget{1, "one query of the system keys' index partition"}, Summary: "List the system API keys, newest first"},
	{Name: "create-api-key", Method: "POST", Path: "/api-keys", Access: Admin, Secret: true,
		Dynamo: []Action{BatchGetItem, PutItem, UpdateItem, ConditionCheckItem}, Budget: Budget{1, "one transaction (with a check of a manager-role key's team, and the caller's count of new keys)"},
		Summary: "Make a system API key; the secret is shown once"},
	{Name: "delete-api-key", Method: "DELETE", Path: "/api-keys/{id}", Access: Admin, Dynamo: []Action{BatchGetItem, DeleteItem, PutItem},
		Budget: Budget{1, "one transaction"}, Summary: "Delete a system API key"},
}

// Job is a function that no route calls: started by a schedule, by the
// table's stream, or by a deployment. Exactly one of Schedule, Stream and
// OnDeploy says which.
type Job struct {
	Name string
	// Schedule is an EventBridge schedule expression: the job runs on it.
	Schedule string
	// Stream, if set, starts the job with the table's stream records it
	// matches, in batches, as an event source mapping does.
	Stream *Stream
	// OnDeploy runs the job once, when the stack is first deployed (as a
	// CloudFormation custom resource's creation): what the table needs
	// before the first request. It must be safe to run again.
	OnDeploy bool
	// Dynamo lists the DynamoDB actions the job performs, as for Route.
	Dynamo     []Action
	SendsEmail bool
	Summary    string
}

// Stream is the part of the table's stream a job reads: the items inserted
// whose partition key starts with KeyPrefix. The stack's event source
// mapping filters by it, and so does the local reader of make run and the
// tests (pkg/localstream), with Matches.
type Stream struct {
	KeyPrefix string
}

// StreamBatch is how many records a stream job is handed at most at once:
// the stack's event source mapping's batch size, and the local reader's.
const StreamBatch = 10

// Matches reports whether a stream record (its event name, "INSERT",
// "MODIFY" or "REMOVE", and its partition key) is one the job reads.
func (s Stream) Matches(eventName, pk string) bool {
	return eventName == "INSERT" && strings.HasPrefix(pk, s.KeyPrefix)
}

// Jobs lists the functions no route calls.
var Jobs = []Job{
	{Name: "expire-invitations", Schedule: "rate(1 hour)", Dynamo: []Action{Query, PutItem, UpdateItem, DeleteItem},
		Summary: "Expire the pending invitations past their expiry, freeing their emails and seats"},
	{Name: "purge-deleted-users", Schedule: "rate(1 day)", Dynamo: []Action{Query, GetItem, PutItem, UpdateItem, DeleteItem},
		Summary: "Remove the users past their purge date with everything that is theirs; finish anonymizations"},
	{Name: "send-mail", Stream: &Stream{KeyPrefix: schema.OutboxPartition}, SendsEmail: true,
		Dynamo:  []Action{BatchGetItem, PutItem, DeleteItem, ConditionCheckItem},
		Summary: "Send the mail queued in the outbox by routes that answer before it is sent (a forgotten password's link)"},
	{Name: "prepare-table", OnDeploy: true, Dynamo: []Action{UpdateItem},
		Summary: "Give the table what it needs before the first request: the key that signs list cursors"},
}

// ByName returns the route with that name.
func ByName(name string) (Route, bool) {
	i := slices.IndexFunc(All, func(r Route) bool { return r.Name == name })
	if i < 0 {
		return Route{}, false
	}
	return All[i], true
}

// JobByName returns the job with that name.
func JobByName(name string) (Job, bool) {
	i := slices.IndexFunc(Jobs, func(j Job) bool { return j.Name == name })
	if i < 0 {
		return Job{}, false
	}
	return Jobs[i], true
}

// Functions lists the names of every function, routes then jobs.
func Functions() []string {
	names := make([]string, 0, len(All)+len(Jobs))
	for _, r := range All {
		names = append(names, r.Name)
	}
	for _, j := range Jobs {
		names = append(names, j.Name)
	}
	return names
}

// GoEnv is the environment that tunes the Go runtime of a function with
// that much memory. A function's live heap is a few megabytes, so at the
// default GOGC=100 the collector runs every few dozen requests: GOGC=400
// lets the heap grow to five times what is live (tens of megabytes) before
// it runs, which cut an authenticated read's CPU by about 7% (A/B, whole
// process). GOMEMLIMIT, 70% of the memory (the rest is the binary, stacks
// and what the runtime keeps), makes it collect sooner rather than run out.
// GOGC=off was tried and refused: a heap that only grows touches fresh
// pages on every request, whose faults cost more than the collections
// saved, most of all for argon2id's 19 MiB.
//
// GOMAXPROCS is the whole vCPUs the memory buys, at least one. A Lambda
// function sees two CPUs whatever its share of them, so Go would run two
// threads on a seventh of one at 256 MB: a thread that wakes to look for
// work, finds none and sleeps again is CPU the function pays for. One
// thread still overlaps the calls a request makes at once. Measured in the
// real binaries, rounds in turn (make invoke AGAINST=): get-me 8-12% less
// CPU, list-users and login 8% less.
func GoEnv(memoryMB int) map[string]string {
	return map[string]string{
		"GOGC":       "400",
		"GOMEMLIMIT": strconv.Itoa(memoryMB*7/10) + "MiB",
		"GOMAXPROCS": strconv.Itoa(max(1, memoryMB/VCPUMemory)),
	}
}

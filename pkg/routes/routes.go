package routes

import (
	"slices"
	"strings"
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

// TableAccess is what a function may do to the DynamoDB table.
type TableAccess string

const (
	// TableRead allows GetItem, BatchGetItem, Query and the other reads.
	TableRead TableAccess = "read"
	// TableReadWrite adds PutItem, UpdateItem, DeleteItem and transactions.
	TableReadWrite TableAccess = "read_write"
)

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
	// Table is the table access the function needs.
	Table TableAccess
	// SendsEmail grants ses:SendEmail.
	SendsEmail bool
	// Summary is a one-line description, used by the OpenAPI check and the CDK
	// function description.
	Summary string
}

// Pattern is the route as a net/http.ServeMux pattern: "GET /users/{id}".
func (r Route) Pattern() string { return r.Method + " " + r.Path }

// Key is the route as an API Gateway route key; it is the same string as Pattern.
func (r Route) Key() string { return r.Pattern() }

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

// All lists every route. Order is the order of the API reference.
var All = []Route{
	{Name: "login", Method: "POST", Path: "/auth/login", Access: Public, Table: TableReadWrite,
		Summary: "Sign in with an email or username and a password"},
	{Name: "logout", Method: "POST", Path: "/auth/logout", Access: SignedIn, Table: TableReadWrite,
		Summary: "End the caller's session"},

	{Name: "get-me", Method: "GET", Path: "/me", Access: SignedIn, Table: TableRead,
		Summary: "The caller's own user, with stats"},
	{Name: "update-me", Method: "PATCH", Path: "/me", Access: SignedIn, Table: TableReadWrite,
		Summary: "Edit the caller's own names"},

	{Name: "list-users", Method: "GET", Path: "/users", Access: Manager, Table: TableRead,
		Summary: "List users, newest first, with filters"},
	{Name: "create-user", Method: "POST", Path: "/users", Access: Manager, Table: TableReadWrite,
		Summary: "Create a user who can sign in at once"},
	{Name: "get-user", Method: "GET", Path: "/users/{id}", Access: Manager, Table: TableRead,
		Summary: "One user, with stats"},
	{Name: "update-user", Method: "PATCH", Path: "/users/{id}", Access: Manager, Table: TableReadWrite,
		Summary: "Edit a user; role and team are admin only"},

	{Name: "get-settings", Method: "GET", Path: "/settings", Access: Admin, Table: TableRead,
		Summary: "The settings"},
	{Name: "update-settings", Method: "PATCH", Path: "/settings", Access: Admin, Table: TableReadWrite,
		Summary: "Change settings"},
	{Name: "get-summary", Method: "GET", Path: "/summary", Access: Admin, Table: TableRead,
		Summary: "The usage summary against licenses, exact"},
}

// Job is a scheduled function: not routed, started by EventBridge.
type Job struct {
	Name       string
	Schedule   string // an EventBridge schedule expression
	Table      TableAccess
	SendsEmail bool
	Summary    string
}

// Jobs lists the scheduled functions.
var Jobs = []Job{}

// ByName returns the route with that name.
func ByName(name string) (Route, bool) {
	i := slices.IndexFunc(All, func(r Route) bool { return r.Name == name })
	if i < 0 {
		return Route{}, false
	}
	return All[i], true
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

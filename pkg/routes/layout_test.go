package routes_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/usermgmt/ums/pkg/reference"
	"github.com/usermgmt/ums/pkg/routes"
)

// root is the repository root, from this package's directory.
const root = "../.."

func TestEveryRouteIsWellFormed(t *testing.T) {
	seenName, seenKey := map[string]bool{}, map[string]bool{}
	kebab := regexp.MustCompile(`^[a-z]+(-[a-z]+)*$`)
	for _, r := range routes.All {
		if !kebab.MatchString(r.Name) {
			t.Errorf("%q is not a kebab-case name", r.Name)
		}
		if seenName[r.Name] || seenKey[r.Key()] {
			t.Errorf("%s (%s) is listed twice", r.Name, r.Key())
		}
		seenName[r.Name], seenKey[r.Key()] = true, true
		// Deny by default: every route names who may call it.
		if !slices.Contains([]routes.Access{routes.Public, routes.SignedIn, routes.Manager, routes.Admin}, r.Access) {
			t.Errorf("%s has no access level", r.Name)
		}
		if r.Kind == routes.Page {
			// A page is a document; its script calls the API.
			if len(r.Dynamo) > 0 {
				t.Errorf("%s: a page reads nothing, yet declares %v", r.Name, r.Dynamo)
			}
		} else {
			checkActions(t, r.Name, r.Dynamo)
		}
		if r.Method == "GET" && r.Writes() {
			t.Errorf("%s is a GET with write access: GET never mutates", r.Name)
		}
		// A budget is a decision: every route states one, with what it counts.
		if r.Budget.Calls < 0 || r.Budget.Note == "" {
			t.Errorf("%s has no DynamoDB budget (Budget{Calls, Note})", r.Name)
		}
		if r.Kind != routes.JSON && r.Kind != routes.Page {
			t.Errorf("%s has an unknown kind %d", r.Name, r.Kind)
		}
		if r.Kind == routes.Page && (r.Method != "GET" || r.Access != routes.Public) {
			t.Errorf("%s: a page is a public GET", r.Name)
		}
		if !slices.Contains([]string{"GET", "POST", "PUT", "PATCH", "DELETE"}, r.Method) || !strings.HasPrefix(r.Path, "/") || r.Summary == "" {
			t.Errorf("%s: method %q path %q summary %q", r.Name, r.Method, r.Path, r.Summary)
		}
	}
	for _, j := range routes.Jobs {
		if !kebab.MatchString(j.Name) || seenName[j.Name] {
			t.Errorf("job %q: not kebab-case, or a name taken", j.Name)
		}
		seenName[j.Name] = true
		checkActions(t, j.Name, j.Dynamo)
		starts := 0
		for _, set := range []bool{j.Schedule != "", j.Stream != nil, j.OnDeploy} {
			if set {
				starts++
			}
		}
		if starts != 1 || j.Summary == "" {
			t.Errorf("job %s: %d of schedule, stream and deploy start it (want one); summary %q", j.Name, starts, j.Summary)
		}
		if j.Stream != nil && j.Stream.KeyPrefix == "" {
			t.Errorf("job %s reads every item of the stream: name the partition prefix it reads", j.Name)
		}
	}
}

// checkActions: a function declares the DynamoDB actions it performs, each
// once, from the known set (which has no Scan: nothing reads the whole table).
func checkActions(t *testing.T, name string, actions []routes.Action) {
	t.Helper()
	known := []routes.Action{routes.GetItem, routes.BatchGetItem, routes.Query, routes.PutItem, routes.UpdateItem,
		routes.DeleteItem, routes.ConditionCheckItem, routes.BatchWriteItem}
	if len(actions) == 0 {
		t.Errorf("%s declares no DynamoDB actions", name)
	}
	seen := map[routes.Action]bool{}
	for _, a := range actions {
		if !slices.Contains(known, a) || seen[a] {
			t.Errorf("%s: DynamoDB action %q unknown or listed twice", name, a)
		}
		seen[a] = true
	}
}

// Every function has exactly one main and one sample event, and nothing
// exists without a route or job.
func TestFunctionsAndEventsMatchTheTable(t *testing.T) {
	want := routes.Functions()
	slices.Sort(want)

	dirs, err := os.ReadDir(filepath.Join(root, "functions"))
	if err != nil {
		t.Fatal(err)
	}
	var fns []string
	for _, d := range dirs {
		if !d.IsDir() {
			t.Errorf("functions/%s: only one directory per function belongs here", d.Name())
			continue
		}
		fns = append(fns, d.Name())
		main, err := os.ReadFile(filepath.Join(root, "functions", d.Name(), "main.go"))
		if err != nil {
			t.Errorf("functions/%s has no main.go", d.Name())
			continue
		}
		if !strings.Contains(string(main), `"`+d.Name()+`"`) {
			t.Errorf("functions/%s/main.go does not serve %q", d.Name(), d.Name())
		}
	}
	if !slices.Equal(fns, want) {
		t.Errorf("functions/ has %v, the table has %v", fns, want)
	}

	files, err := os.ReadDir(filepath.Join(root, "events"))
	if err != nil {
		t.Fatal(err)
	}
	var evs []string
	for _, f := range files {
		name, ok := strings.CutSuffix(f.Name(), ".json")
		if !ok {
			t.Errorf("events/%s is not a .json event", f.Name())
		}
		evs = append(evs, name)
	}
	slices.Sort(evs)
	if !slices.Equal(evs, want) {
		t.Errorf("events/ has %v, the table has %v", evs, want)
	}
}

// The OpenAPI document is valid, every example in it valid against its
// schema, and it has one operation per route: under the route's method and
// path, with the route's name as operationId, public exactly when the route
// is (security: []), its access level as x-access, and nothing else. The
// dev server's tests check every response they see against it.
func TestOpenAPIMatchesTheTable(t *testing.T) {
	doc, err := reference.Load(root)
	if err != nil {
		t.Fatal(err)
	}
	var ops, want []string
	for path, item := range doc.T.Paths.Map() {
		for method, op := range item.Operations() {
			ops = append(ops, method+" "+path+" "+op.OperationID)
		}
	}
	for _, r := range routes.All {
		want = append(want, r.Key()+" "+r.Name)
		op, _ := doc.Operation(r)
		if op == nil {
			continue
		}
		if doc.Public(r) != (r.Access == routes.Public) {
			t.Errorf("%s: public in openapi.yaml = %v, access %s", r.Name, doc.Public(r), r.Access)
		}
		if got := op.Extensions["x-access"]; got != string(r.Access) {
			t.Errorf("%s: x-access %v, want %s", r.Name, got, r.Access)
		}
		if op.Summary != r.Summary {
			t.Errorf("%s: summary %q, the table says %q", r.Name, op.Summary, r.Summary)
		}
	}
	if len(doc.T.Security) != 1 || doc.T.Security[0]["bearer"] == nil {
		t.Errorf("the document's default security is %v, want bearer", doc.T.Security)
	}
	slices.Sort(want)
	slices.Sort(ops)
	if !slices.Equal(ops, want) {
		t.Errorf("openapi.yaml operations:\n  %s\nthe table:\n  %s", strings.Join(ops, "\n  "), strings.Join(want, "\n  "))
	}
}

// Only the functions that send mail carry the SES client: it costs every
// other binary size and cold start, and a function that cannot send mail
// cannot be made to. The grants test checks the same of their permissions.
func TestOnlyMailingFunctionsLinkSES(t *testing.T) {
	if testing.Short() {
		t.Skip("go list of every function")
	}
	args := []string{"list", "-deps", "-f", "{{.ImportPath}}"}
	const ses = "github.com/aws/aws-sdk-go-v2/service/sesv2"
	mails := map[string]bool{}
	for _, r := range routes.All {
		mails[r.Name] = r.SendsEmail
	}
	for _, j := range routes.Jobs {
		mails[j.Name] = j.SendsEmail
	}
	for _, name := range routes.Functions() {
		cmd := exec.Command("go", append(args, "./functions/"+name)...)
		cmd.Dir = root
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("go list ./functions/%s: %v", name, err)
		}
		linked := slices.Contains(strings.Fields(string(out)), ses)
		if linked != mails[name] {
			t.Errorf("%s: links the SES client = %v, sends email = %v", name, linked, mails[name])
		}
	}
}

func TestCamelCase(t *testing.T) {
	for in, want := range map[string]string{"get-me": "GetMe", "deactivate-user": "DeactivateUser", "login": "Login"} {
		if got := routes.CamelCase(in); got != want {
			t.Errorf("CamelCase(%q) = %q, want %q", in, got, want)
		}
	}
}

// The Go runtime gets as many threads as the memory buys whole vCPUs, at
// least one, and a memory limit under the function's.
func TestGoEnv(t *testing.T) {
	for _, c := range []struct {
		memoryMB int
		procs    string
		limit    string
	}{{256, "1", "179MiB"}, {512, "1", "358MiB"}, {routes.VCPUMemory, "1", "1238MiB"}, {2 * routes.VCPUMemory, "2", "2476MiB"}} {
		env := routes.GoEnv(c.memoryMB)
		if env["GOMAXPROCS"] != c.procs || env["GOMEMLIMIT"] != c.limit || env["GOGC"] != "400" {
			t.Errorf("GoEnv(%d) = %v, want GOMAXPROCS=%s GOMEMLIMIT=%s GOGC=400", c.memoryMB, env, c.procs, c.limit)
		}
	}
}

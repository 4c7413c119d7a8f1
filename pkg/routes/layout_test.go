package routes_test

import (
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

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
		if r.Table != routes.TableRead && r.Table != routes.TableReadWrite {
			t.Errorf("%s has no table access", r.Name)
		}
		if r.Method == "GET" && r.Table != routes.TableRead {
			t.Errorf("%s is a GET with write access: GET never mutates", r.Name)
		}
		if !slices.Contains([]string{"GET", "POST", "PUT", "PATCH", "DELETE"}, r.Method) || !strings.HasPrefix(r.Path, "/") || r.Summary == "" {
			t.Errorf("%s: method %q path %q summary %q", r.Name, r.Method, r.Path, r.Summary)
		}
	}
	for _, j := range routes.Jobs {
		if seenName[j.Name] {
			t.Errorf("job %s has a route's name", j.Name)
		}
		seenName[j.Name] = true
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
	if !slices.Equal(evs, want) {
		t.Errorf("events/ has %v, the table has %v", evs, want)
	}
}

// The OpenAPI document has one operation per route, under the route's method
// and path, with the route's name as operationId, and nothing else.
func TestOpenAPIMatchesTheTable(t *testing.T) {
	doc, err := os.ReadFile(filepath.Join(root, "openapi.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	ops := openAPIOperations(t, string(doc))
	var want []string
	for _, r := range routes.All {
		want = append(want, r.Key()+" "+r.Name)
	}
	slices.Sort(want)
	slices.Sort(ops)
	if !slices.Equal(ops, want) {
		t.Errorf("openapi.yaml operations:\n  %s\nthe table:\n  %s", strings.Join(ops, "\n  "), strings.Join(want, "\n  "))
	}
}

// openAPIOperations reads "METHOD /path operationId" for each operation of
// the document's paths. It reads the block layout the document is written
// in: paths at two spaces, methods at four, operationId at six.
func openAPIOperations(t *testing.T, doc string) []string {
	t.Helper()
	var ops []string
	inPaths := false
	path, method := "", ""
	for _, line := range strings.Split(doc, "\n") {
		trimmed := strings.TrimSpace(line)
		if trimmed == "" || strings.HasPrefix(trimmed, "#") {
			continue
		}
		indent := len(line) - len(strings.TrimLeft(line, " "))
		switch {
		case indent == 0:
			inPaths = trimmed == "paths:"
		case !inPaths:
		case indent == 2 && strings.HasSuffix(trimmed, ":"):
			path, method = strings.Trim(strings.TrimSuffix(trimmed, ":"), `"'`), ""
		case indent == 4 && slices.Contains([]string{"get:", "post:", "put:", "patch:", "delete:"}, trimmed):
			method = strings.ToUpper(strings.TrimSuffix(trimmed, ":"))
		case indent == 6 && strings.HasPrefix(trimmed, "operationId:") && method != "":
			ops = append(ops, method+" "+path+" "+strings.Trim(strings.TrimSpace(strings.TrimPrefix(trimmed, "operationId:")), `"'`))
		}
	}
	if len(ops) == 0 {
		t.Fatal("openapi.yaml has no operations under paths")
	}
	return ops
}

func TestCamelCase(t *testing.T) {
	for in, want := range map[string]string{"get-me": "GetMe", "deactivate-user": "DeactivateUser", "login": "Login"} {
		if got := routes.CamelCase(in); got != want {
			t.Errorf("CamelCase(%q) = %q, want %q", in, got, want)
		}
	}
}

package console

import (
	"regexp"
	"strings"
	"testing"
	"testing/fstest"
)

// Every file is served under a name that changes with its content, and
// the document and the modules name each other by those names only.
func TestFilesAreNamedByTheirContent(t *testing.T) {
	b := Console
	if len(b.Files) < 5 {
		t.Fatalf("%d files", len(b.Files))
	}
	hashed := regexp.MustCompile(`^[a-z0-9-]+\.[0-9a-f]{12}\.(js|css|svg)$`)
	for name, f := range b.Files {
		if !hashed.MatchString(name) || f.Name != name {
			t.Errorf("%s is not a content-hashed name", name)
		}
		for _, m := range regexp.MustCompile(`from "\./([^"]+)"`).FindAllStringSubmatch(string(f.Body), -1) {
			if _, ok := b.Files[m[1]]; !ok {
				t.Errorf("%s imports %s, which is not served", name, m[1])
			}
		}
	}
	refs := regexp.MustCompile(`(?:src|href)="/console/([^"]+)"`).FindAllStringSubmatch(string(b.Index), -1)
	if len(refs) != 3 {
		t.Fatalf("the document names %v, want the entry module, the style sheet and the icon", refs)
	}
	for _, m := range refs {
		if _, ok := b.Files[m[1]]; !ok {
			t.Errorf("the document names %s, which is not served", m[1])
		}
	}

	// A change to a module renames it and every module that imports it.
	src := fstest.MapFS{
		"assets/index.html": {Data: []byte(`<script type="module" src="/console/app.js"></script>`)},
		"assets/app.js":     {Data: []byte(`import { x } from "./lib.js";`)},
		"assets/lib.js":     {Data: []byte(`export const x = 1;`)},
	}
	before, err := build(src)
	if err != nil {
		t.Fatal(err)
	}
	src["assets/lib.js"] = &fstest.MapFile{Data: []byte(`export const x = 2;`)}
	after, err := build(src)
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"app.js", "lib.js"} {
		if before.Hashed[name] == after.Hashed[name] {
			t.Errorf("%s kept its name %s after lib.js changed", name, before.Hashed[name])
		}
	}
	if !strings.Contains(string(after.Index), after.Hashed["app.js"]) {
		t.Errorf("the document names a stale entry module: %s", after.Index)
	}

	// A cycle, a missing file or a file nothing reaches is refused.
	for what, fsys := range map[string]fstest.MapFS{
		"cycle": {"assets/index.html": src["assets/index.html"], "assets/app.js": {Data: []byte(`import "x" from "./b.js";`)},
			"assets/b.js": {Data: []byte(`import "y" from "./app.js";`)}},
		"missing": {"assets/index.html": src["assets/index.html"], "assets/app.js": {Data: []byte(`import { y } from "./nope.js";`)}},
		"unreached": {"assets/index.html": src["assets/index.html"], "assets/app.js": src["assets/lib.js"],
			"assets/old.js": src["assets/lib.js"]},
	} {
		if _, err := build(fsys); err == nil {
			t.Errorf("%s: built", what)
		}
	}
}

// What the console sends is small, runs only from its own files (no inline
// script or style, nothing the policy would have to allow by hash or
// 'unsafe-inline', no eval), reaches no other origin, and keeps the token
// out of localStorage and cookies.
func TestTheConsoleIsSmallAndSelfContained(t *testing.T) {
	b := Console
	if n := b.Size(); n > 150<<10 {
		t.Errorf("the console is %d bytes, over 150 KB", n)
	}
	doc := string(b.Index)
	if regexp.MustCompile(`(?is)<script(?:[^>]*)>\s*[^<\s]`).MatchString(doc) || strings.Contains(doc, "<style") ||
		regexp.MustCompile(`(?i)\sstyle=|\son[a-z]+=`).MatchString(doc) {
		t.Error("the document has inline script, style or handlers")
	}
	for name, f := range b.Files {
		// An SVG names its namespace by a URI, which loads nothing.
		body := strings.ReplaceAll(string(f.Body), `xmlns="http://www.w3.org/2000/svg"`, "")
		for _, bad := range []string{"eval(", "new Function", "innerHTML", "outerHTML", "insertAdjacentHTML", "document.write",
			"localStorage", "document.cookie", ".style.", `setAttribute("style"`, "http://", "https://"} {
			if strings.Contains(body, bad) {
				t.Errorf("%s uses %s", name, bad)
			}
		}
	}
	for _, want := range []string{"default-src 'none'", "script-src 'self'", "style-src 'self'", "connect-src 'self'", "frame-ancestors 'none'", "base-uri 'none'"} {
		if !strings.Contains(CSP, want) {
			t.Errorf("the policy lacks %q", want)
		}
	}
	if strings.Contains(CSP, "unsafe") || strings.Contains(CSP, "*") {
		t.Errorf("the policy allows too much: %s", CSP)
	}
}

// The document declares its icon, one of the console's own files, so that
// the browser does not ask for /favicon.ico (a 404, and an error in its
// console); the policy lets it load (img-src 'self').
func TestTheConsoleDeclaresItsIcon(t *testing.T) {
	b := Console
	m := regexp.MustCompile(`<link rel="icon" href="/console/([^"]+)" type="image/svg\+xml">`).FindStringSubmatch(string(b.Index))
	if m == nil {
		t.Fatalf("the document declares no icon of its own:\n%s", b.Index)
	}
	f, ok := b.Files[m[1]]
	if !ok || f.Type != "image/svg+xml" || m[1] != b.Hashed["icon.svg"] {
		t.Fatalf("the icon %s is not served as an SVG (%q)", m[1], f.Type)
	}
	if !strings.HasPrefix(string(f.Body), `<svg xmlns="http://www.w3.org/2000/svg"`) || strings.Contains(string(f.Body), "<script") {
		t.Errorf("the icon is not a plain SVG image: %s", f.Body)
	}
	if !strings.Contains(CSP, "img-src 'self'") {
		t.Errorf("the policy does not let the icon load: %s", CSP)
	}
}

// Package console holds the admin console: the "User Management" page, a
// client of the whole API served on the API's own origin. Its files (one
// HTML document, JavaScript modules, a style sheet and an SVG icon, written
// by hand: no build step) are embedded in the binary. Each script, style
// and image is served under a name that carries a hash of its content, so a
// browser may keep it for a year and still never run a stale one: the
// document, which is never cached, names the current files, and a module
// names the modules it imports by their hashed names too.
//
// It imports the standard library.
package console

import (
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"fmt"
	"io/fs"
	"path"
	"regexp"
	"slices"
	"strings"
)

//go:embed assets
var assets embed.FS

// File is one of the console's files, under its hashed name.
type File struct {
	// Name is the hashed name the file is served under: "users.3f9a1c2b7d4e.js".
	Name string
	// Type is its Content-Type.
	Type string
	Body []byte
}

// Bundle is the console, ready to serve.
type Bundle struct {
	// Index is the document at /console.
	Index []byte
	// Files are the scripts, styles and the icon at /console/{name}, by
	// hashed name.
	Files map[string]File
	// Hashed maps each source name ("users.js") to its hashed name.
	Hashed map[string]string
}

// CSP is the console's Content-Security-Policy: its own files only, from
// this origin, and no inline script or style (so no markup an attacker
// slips into a user's name can run, nor style the page); no eval; requests
// only to this origin; nothing may frame it, post a form elsewhere or
// change the base URL.
const CSP = "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; " +
	"base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

// Console is the embedded console.
var Console = mustBuild(assets)

// Lookup returns the file served under a hashed name.
func (b *Bundle) Lookup(name string) (File, bool) {
	f, ok := b.Files[name]
	return f, ok
}

// Size is the total size of what the console sends, its document included.
func (b *Bundle) Size() int {
	n := len(b.Index)
	for _, f := range b.Files {
		n += len(f.Body)
	}
	return n
}

var types = map[string]string{
	".js":  "text/javascript; charset=utf-8",
	".css": "text/css; charset=utf-8",
	".svg": "image/svg+xml",
}

// importPattern finds a module's imports of its siblings: from "./x.js".
var importPattern = regexp.MustCompile(`from "\./([a-z0-9-]+\.js)"`)

// assetPattern finds the document's references to the files: its entry
// module, its style sheet and its icon (which the browser would otherwise
// look for at /favicon.ico, a 404).
var assetPattern = regexp.MustCompile(`"/console/([a-z0-9-]+\.(?:js|css|svg))"`)

func mustBuild(fsys fs.FS) *Bundle {
	b, err := build(fsys)
	if err != nil {
		panic("console: " + err.Error())
	}
	return b
}

// build names every file by its content, a module's after the names of
// the modules it imports are written into it (so a change to one module
// renames every module that imports it, directly or not).
func build(fsys fs.FS) (*Bundle, error) {
	src := map[string]string{}
	entries, err := fs.ReadDir(fsys, "assets")
	if err != nil {
		return nil, err
	}
	for _, e := range entries {
		raw, err := fs.ReadFile(fsys, "assets/"+e.Name())
		if err != nil {
			return nil, err
		}
		src[e.Name()] = string(raw)
	}
	index, ok := src["index.html"]
	if !ok {
		return nil, fmt.Errorf("no index.html")
	}
	b := &Bundle{Files: map[string]File{}, Hashed: map[string]string{}}
	visiting := map[string]bool{}
	var name func(file string) (string, error)
	name = func(file string) (string, error) {
		if h, ok := b.Hashed[file]; ok {
			return h, nil
		}
		body, ok := src[file]
		typ := types[path.Ext(file)]
		if !ok || typ == "" {
			return "", fmt.Errorf("%q is named but is not a script, style or image of the console", file)
		}
		if visiting[file] {
			return "", fmt.Errorf("%s imports itself, through others", file)
		}
		visiting[file] = true
		var failed error
		body = importPattern.ReplaceAllStringFunc(body, func(m string) string {
			dep := importPattern.FindStringSubmatch(m)[1]
			h, err := name(dep)
			if err != nil {
				failed = err
				return m
			}
			return `from "./` + h + `"`
		})
		if failed != nil {
			return "", failed
		}
		sum := sha256.Sum256([]byte(body))
		ext := path.Ext(file)
		hashed := strings.TrimSuffix(file, ext) + "." + hex.EncodeToString(sum[:6]) + ext
		b.Hashed[file] = hashed
		b.Files[hashed] = File{Name: hashed, Type: typ, Body: []byte(body)}
		return hashed, nil
	}
	var failed error
	index = assetPattern.ReplaceAllStringFunc(index, func(m string) string {
		h, err := name(assetPattern.FindStringSubmatch(m)[1])
		if err != nil {
			failed = err
		}
		return `"/console/` + h + `"`
	})
	if failed != nil {
		return nil, failed
	}
	// Every file is reached from the document: one that is not is dead
	// weight or a forgotten import.
	for file := range src {
		if _, ok := b.Hashed[file]; !ok && file != "index.html" {
			return nil, fmt.Errorf("%s is reached from nothing", file)
		}
	}
	b.Index = []byte(index)
	return b, nil
}

// Sources lists the console's source file names, sorted.
func (b *Bundle) Sources() []string {
	var out []string
	for s := range b.Hashed {
		out = append(out, s)
	}
	slices.Sort(out)
	return out
}

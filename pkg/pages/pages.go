// Package pages holds the hosted HTML pages: the page that accepts or
// declines an invitation and the page that sets a new password. Each is one
// self-contained document (no request leaves for another origin): its style
// and script are inline, and allowed by their SHA-256 in the page's
// Content-Security-Policy, so nothing else can run on it; its icon is
// inline too, a data: URI the policy's img-src allows (without one the
// browser asks for /favicon.ico, a 404). The script talks to the API on the
// same origin.
//
// It imports the standard library.
package pages

import (
	"crypto/sha256"
	"embed"
	"encoding/base64"
	"fmt"
	"html"
	"strings"
)

//go:embed assets
var assets embed.FS

// Page is a rendered page and the Content-Security-Policy that lets its own
// style and script, and nothing else, run.
type Page struct {
	HTML []byte
	CSP  string
}

// AcceptInvitation is the page at /pages/accept-invitation?token=...
var AcceptInvitation = build("Accept your invitation", "accept-invitation.js")

// ResetPassword is the page at /pages/reset-password?token=...
var ResetPassword = build("Choose a new password", "reset-password.js")

func build(title, script string) Page {
	style := mustRead("page.css")
	js := mustRead("page.js") + "\n" + mustRead(script)
	// Every part is ours and embedded, so it is inserted as is, without
	// html/template: that package makes the linker keep every method of
	// every type in the binary (it calls methods by name), 3.7 MB more in
	// each function. The title is escaped all the same; the style and the
	// script must not close their elements, and their hashes are of exactly
	// these bytes.
	if strings.Contains(style, "</style") || strings.Contains(js, "</script") {
		panic("pages: an asset closes its own element")
	}
	body := strings.NewReplacer("{{.Title}}", html.EscapeString(title), "{{.Style}}", style, "{{.Script}}", js,
		"{{.Icon}}", Icon).Replace(mustRead("page.html"))
	csp := strings.Join([]string{
		"default-src 'none'",
		"script-src " + hash(js),
		"style-src " + hash(style),
		"connect-src 'self'",
		"img-src 'self' data:",
		"base-uri 'none'",
		"form-action 'none'",
		"frame-ancestors 'none'",
	}, "; ")
	return Page{HTML: []byte(body), CSP: csp}
}

// Icon is the pages' icon, assets/icon.svg, as the data: URI their
// documents declare it by.
var Icon = "data:image/svg+xml;base64," + base64.StdEncoding.EncodeToString([]byte(mustRead("icon.svg")))

// hash is a CSP source for an inline block: its SHA-256.
func hash(s string) string {
	sum := sha256.Sum256([]byte(s))
	return fmt.Sprintf("'sha256-%s'", base64.StdEncoding.EncodeToString(sum[:]))
}

func mustRead(name string) string {
	b, err := assets.ReadFile("assets/" + name)
	if err != nil {
		panic("pages: " + err.Error())
	}
	return string(b)
}

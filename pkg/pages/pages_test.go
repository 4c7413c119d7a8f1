package pages

import (
	"encoding/base64"
	"regexp"
	"strings"
	"testing"
)

// The page's own style and script, exactly as they are in the document, are
// what its Content-Security-Policy allows, and nothing else can load or run.
func TestThePolicyAllowsExactlyThePagesOwnCode(t *testing.T) {
	for name, p := range map[string]Page{"accept-invitation": AcceptInvitation, "reset-password": ResetPassword} {
		doc := string(p.HTML)
		script := regexp.MustCompile(`(?s)<script>(.*?)</script>`).FindAllStringSubmatch(doc, -1)
		style := regexp.MustCompile(`(?s)<style>(.*?)</style>`).FindAllStringSubmatch(doc, -1)
		if len(script) != 1 || len(style) != 1 {
			t.Fatalf("%s: %d scripts and %d styles, want one each", name, len(script), len(style))
		}
		for _, want := range []string{"script-src " + hash(script[0][1]), "style-src " + hash(style[0][1]), "default-src 'none'", "frame-ancestors 'none'", "connect-src 'self'"} {
			if !strings.Contains(p.CSP, want) {
				t.Errorf("%s: the policy lacks %q: %s", name, want, p.CSP)
			}
		}
		if strings.Contains(p.CSP, "unsafe") {
			t.Errorf("%s: %s", name, p.CSP)
		}
		// Nothing is loaded from elsewhere.
		if regexp.MustCompile(`(?i)(src|href)=["']?(https?:)?//`).MatchString(doc) {
			t.Errorf("%s loads something from another origin", name)
		}
	}
}

// Each page declares its icon, inline like its style and script (a data:
// URI, which the policy's img-src allows), so that the browser does not ask
// for /favicon.ico, a 404 and an error in its console.
func TestEachPageDeclaresItsIcon(t *testing.T) {
	svg, _, ok := strings.Cut(strings.TrimPrefix(Icon, "data:image/svg+xml;base64,"), ",")
	raw, err := base64.StdEncoding.DecodeString(svg)
	if ok || err != nil || !strings.HasPrefix(Icon, "data:image/svg+xml;base64,") ||
		!strings.HasPrefix(string(raw), `<svg xmlns="http://www.w3.org/2000/svg"`) || strings.Contains(string(raw), "<script") {
		t.Fatalf("the icon is not a plain SVG data: URI: %.80s (%v)", Icon, err)
	}
	for name, p := range map[string]Page{"accept-invitation": AcceptInvitation, "reset-password": ResetPassword} {
		icons := regexp.MustCompile(`<link rel="icon" href="([^"]*)" type="image/svg\+xml">`).FindAllStringSubmatch(string(p.HTML), -1)
		if len(icons) != 1 || icons[0][1] != Icon {
			t.Errorf("%s declares %d icons, want its own one", name, len(icons))
		}
		if !strings.Contains(p.CSP, "img-src 'self' data:") {
			t.Errorf("%s: the policy does not let the icon load: %s", name, p.CSP)
		}
	}
}

package pages

import (
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

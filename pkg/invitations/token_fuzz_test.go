package invitations

import (
	"strings"
	"testing"

	"github.com/usermgmt/ums/pkg/ids"
)

// FuzzParseToken: any text is an invitation token only if it is one,
// rebuilt exactly from the invitation and secret it names (around white
// space); the hash is the secret's; and every token made parses back to
// its invitation and hash.
func FuzzParseToken(f *testing.F) {
	made, _ := newToken(ids.New("inv"))
	for _, s := range []string{made, " " + made + "\n", "", "umi_", "umi_inv_x.y", made[:len(made)-1], made + "A", strings.ToUpper(made),
		"umi_" + ids.New("usr") + "." + strings.Repeat("A", 43), "umi_inv_" + strings.Repeat("!", 26) + "." + strings.Repeat("A", 43)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, token string) {
		if id, hash, ok := parseToken(token); ok {
			trimmed := strings.TrimSpace(token)
			secret := strings.TrimPrefix(trimmed, TokenPrefix+id+".")
			if !ids.Valid("inv", id) || trimmed != TokenPrefix+id+"."+secret || len(secret) != 43 || hashSecret(secret) != hash {
				t.Fatalf("%q parsed to %q %q", token, id, hash)
			}
		}
		id := ids.FromHash("inv", token)
		tok, hash := newToken(id)
		if got, h, ok := parseToken(tok); !ok || got != id || h != hash {
			t.Fatalf("the token %q of %s parsed to %q %q %v", tok, id, got, h, ok)
		}
	})
}

package passwords

import (
	"strings"
	"testing"

	"github.com/usermgmt/ums/pkg/apperr"
)

// fast keeps the hashing tests quick; DefaultParams is checked separately.
var fast = Params{MemoryKiB: 64, Time: 1, Threads: 1}

func TestHashVerify(t *testing.T) {
	h := Hash("correct horse battery staple", fast)
	if !strings.HasPrefix(h, "$argon2id$v=19$m=64,t=1,p=1$") {
		t.Fatalf("hash %q does not carry its parameters", h)
	}
	if h == Hash("correct horse battery staple", fast) {
		t.Fatal("two hashes of one password are equal: the salt is not random")
	}
	cases := []struct {
		password string
		ok       bool
	}{
		{"correct horse battery staple", true},
		{"correct horse battery staple ", false}, // exact, no trimming
		{"Correct horse battery staple", false},  // no case folding
		{"correct horse battery stapl", false},   // no truncation
	}
	for _, c := range cases {
		ok, _, err := Verify(c.password, h, fast)
		if err != nil || ok != c.ok {
			t.Errorf("Verify(%q) = %v, %v; want %v", c.password, ok, err, c.ok)
		}
	}
}

func TestVerifyAppliesNFKCOnBothSides(t *testing.T) {
	h := Hash("ﬁnancial-planning-2026", fast) // U+FB01 LATIN SMALL LIGATURE FI
	if ok, _, _ := Verify("financial-planning-2026", h, fast); !ok {
		t.Fatal("NFKC-equivalent password did not verify")
	}
}

func TestLongPasswordsAreNotTruncated(t *testing.T) {
	long := strings.Repeat("a", 100) + "tail-one"
	h := Hash(long, fast)
	if ok, _, _ := Verify(strings.Repeat("a", 100)+"tail-two", h, fast); ok {
		t.Fatal("a password sharing the first 100 bytes verified")
	}
	if ok, _, _ := Verify(long[:72], h, fast); ok {
		t.Fatal("the first 72 bytes verified")
	}
}

func TestRehashWhenParametersRise(t *testing.T) {
	h := Hash("some long passphrase", fast)
	_, rehash, _ := Verify("some long passphrase", h, DefaultParams)
	if !rehash {
		t.Fatal("a hash below the wanted parameters must ask for a rehash")
	}
	_, rehash, _ = Verify("some long passphrase", h, fast)
	if rehash {
		t.Fatal("a hash at the wanted parameters must not ask for a rehash")
	}
}

func TestDefaultParamsAreOWASPs(t *testing.T) {
	if DefaultParams.MemoryKiB < 19*1024 || DefaultParams.Time < 2 || DefaultParams.Threads < 1 {
		t.Fatalf("DefaultParams %+v are below OWASP's argon2id minimum", DefaultParams)
	}
}

func TestVerifyRejectsMalformed(t *testing.T) {
	for _, h := range []string{"", "plain", "$2a$10$abc", "$argon2id$v=19$m=0,t=1,p=1$c2FsdA$a2V5", "$argon2id$v=18$m=64,t=1,p=1$c2FsdA$a2V5"} {
		if _, _, err := Verify("x", h, fast); err == nil {
			t.Errorf("Verify(_, %q) accepted a malformed hash", h)
		}
	}
}

func TestPolicy(t *testing.T) {
	p := Policy{MinLength: 8, Email: "Jane.Doe@Example.com", Username: "janedoe99", Words: ServiceWords("Acme Cloud Directory")}
	cases := []struct {
		name, password string
		ok             bool
	}{
		{"seven characters", "kq7#zpw", false},
		{"eight characters", "kq7#zpwm", true},
		{"all lower case, no composition rules", "violetmarmaladeskies", true},
		{"all digits", "80418273645", true},
		{"spaces and unicode", "café au lait à 7h", true},
		{"128 characters", strings.Repeat("xq", 64), true},
		{"129 characters", strings.Repeat("xq", 64) + "z", false},
		{"common", "password1", false},
		{"common, other case", "PassWord1", false},
		{"common, long", "qwertyuiop", false},
		{"email", "jane.doe@example.com", false},
		{"email local part", "JANE.DOE", false},
		{"username", "JaneDoe99", false},
		{"empty", "", false},
		{"eight characters counted as characters, not bytes", "éééééééé", true},
		{"email local part with digits", "jane.doe.2026", false},
		{"username in disguise", "Jane-Doe-99!", false},
		{"the product's name", "acme cloud directory", false},
		{"the product's name run together, with a year", "AcmeCloudDirectory2026", false},
		{"a word of the product's name", "Directory!", false},
		{"the service's own name", "User Management", false},
		{"the service's own name with digits", "usermanagement123", false},
		{"ums with digits", "ums-1234-5678", false},
		{"a phrase around the product's name", "Acme is fine here", true},
		{"digits only are never the letters of a word", "20262026", true},
		{"a passphrase that contains the product's name", "my acme password is long", true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := p.Check("password", c.password)
			if (err == nil) != c.ok {
				t.Fatalf("Check(%q) = %v, want ok=%v", c.password, err, c.ok)
			}
			if err != nil {
				e := apperr.As(err)
				if e.Code != "validation_failed" || e.Fields[0].Field != "password" || strings.Contains(e.Fields[0].Message, c.password) && c.password != "" {
					t.Fatalf("error %+v", e)
				}
			}
		})
	}
}

func TestPolicyMinLengthSetting(t *testing.T) {
	p := Policy{MinLength: 15}
	if p.Check("password", "fourteen-chars") == nil {
		t.Fatal("14 characters passed a minimum of 15")
	}
	if err := p.Check("password", "fifteen-chars!!"); err != nil {
		t.Fatalf("15 characters: %v", err)
	}
	if (Policy{MinLength: 3}).Check("password", "kq7#zpw") == nil {
		t.Fatal("a setting below the floor of 8 must not lower it")
	}
}

func TestTheCommonListIsReal(t *testing.T) {
	for _, pw := range []string{"password", "12345678", "iloveyou", "sunshine", "princess"} {
		if !IsCommon(pw) {
			t.Errorf("%q is not on the list", pw)
		}
	}
	commonOnce.Do(loadCommon)
	if len(common) < 30000 {
		t.Fatalf("the list has %d entries; expected tens of thousands", len(common))
	}
}

func BenchmarkHashDefault(b *testing.B) {
	for b.Loop() {
		Hash("correct horse battery staple", DefaultParams)
	}
}

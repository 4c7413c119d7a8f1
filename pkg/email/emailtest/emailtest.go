// Package emailtest reads the mail the SES v2 emulator received, so that
// tests follow real mails to real links.
//
// The emulator's endpoint comes from SES_ENDPOINT, which `make test` sets
// after starting it; a run without it fails rather than skips, so a green
// run always means the mail was really sent. Many tests share one emulator
// and its store is never cleared: a test finds its mail by a recipient only
// it uses (Address) or by message id.
package emailtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"html"
	"net/http"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/usermgmt/ums/pkg/config"
)

// Endpoint returns SES_ENDPOINT or fails the test.
func Endpoint(tb testing.TB) string {
	tb.Helper()
	ep := os.Getenv(config.EnvSESEndpoint)
	if ep == "" {
		tb.Fatalf("%s is not set: run the tests with `make test` (or `go run ./scripts/withstack -- go test ...`), "+
			"which starts the SES emulator, or start it yourself and export %s", config.EnvSESEndpoint, config.EnvSESEndpoint)
	}
	return ep
}

// Mail is one mail in the emulator's GET /store answer
// ({"templates": {...}, "emails": [...]}), with the fields tests use.
type Mail struct {
	MessageID   string   `json:"messageId"`
	From        string   `json:"from"`
	ReplyTo     []string `json:"replyTo"`
	Destination struct {
		To  []string `json:"to"`
		Cc  []string `json:"cc"`
		Bcc []string `json:"bcc"`
	} `json:"destination"`
	Subject string `json:"subject"`
	Body    struct {
		HTML string `json:"html"`
		Text string `json:"text"`
	} `json:"body"`
	// At is when the emulator received it, in Unix seconds.
	At int64 `json:"at"`
}

// All returns every mail the emulator holds, oldest first.
func All(tb testing.TB, endpoint string) []Mail {
	tb.Helper()
	// Only a guard against an emulator that hangs: its store grows with
	// every test's mail, and a busy machine is slow to serve it.
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, strings.TrimRight(endpoint, "/")+"/store", nil)
	if err != nil {
		tb.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		tb.Fatalf("GET /store: %v", err)
	}
	defer resp.Body.Close()
	var store struct {
		Emails []Mail `json:"emails"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&store); err != nil || resp.StatusCode != http.StatusOK {
		tb.Fatalf("GET /store: %s, decode: %v", resp.Status, err)
	}
	return store.Emails
}

// To returns the mails sent to addr (compared ignoring case), oldest first.
func To(tb testing.TB, endpoint, addr string) []Mail {
	tb.Helper()
	var out []Mail
	for _, m := range All(tb, endpoint) {
		if slices.ContainsFunc(m.Destination.To, func(to string) bool { return strings.EqualFold(to, addr) }) {
			out = append(out, m)
		}
	}
	return out
}

// ByID returns the mail with that SES message id, or nil.
func ByID(tb testing.TB, endpoint, id string) *Mail {
	tb.Helper()
	for _, m := range All(tb, endpoint) {
		if m.MessageID == id {
			return &m
		}
	}
	return nil
}

// Address returns a recipient no other test uses: name+<random>@domain.
func Address(name, domain string) string {
	b := make([]byte, 5)
	_, _ = rand.Read(b)
	return name + "+" + hex.EncodeToString(b) + "@" + domain
}

var linkPattern = regexp.MustCompile(`https?://[^\s"'<>]+`)

// Link returns the one link of the mail's text part that carries a token,
// after checking the HTML part carries the same one; it fails the test
// otherwise.
func (m Mail) Link(tb testing.TB) string {
	tb.Helper()
	var links []string
	for _, l := range linkPattern.FindAllString(m.Body.Text, -1) {
		if strings.Contains(l, "token=") && !slices.Contains(links, l) {
			links = append(links, l)
		}
	}
	if len(links) != 1 {
		tb.Fatalf("mail %q: want one link with a token in its text, found %q", m.Subject, links)
	}
	if !strings.Contains(html.UnescapeString(m.Body.HTML), `href="`+links[0]+`"`) {
		tb.Fatalf("mail %q: the HTML part does not link to %s", m.Subject, links[0])
	}
	return links[0]
}

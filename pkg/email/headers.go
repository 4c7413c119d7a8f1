package email

import (
	"fmt"
	"net/mail"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/usermgmt/ums/pkg/apperr"
)

// Errors of a message refused before it is sent. They are of kind Invalid:
// sending the same message again fails again.
var (
	// ErrBadAddress refuses a recipient or sender that is not one plain
	// address: a comma, angle brackets or a space could add a recipient.
	ErrBadAddress = apperr.Invalid("email_address_invalid", "The email address must be one plain address, such as ada@example.com.")
	// ErrBadHeader refuses a subject or sender with a line break or another
	// control character, which could end the header and start another.
	ErrBadHeader = apperr.Invalid("email_header_invalid", "A header of the email holds a line break or another control character.")
	// ErrRejected is SES refusing the message for good (its content, its
	// recipient): sending it again fails again.
	ErrRejected = apperr.Invalid("email_rejected", "The mail service refused to send this email.")
)

// maxAddress is the longest address SMTP carries (RFC 5321's 256-octet path
// less the angle brackets).
const maxAddress = 254

// checkAddress refuses anything but one plain address: local@domain, ASCII,
// no display name, no angle brackets, no list. SES takes each ToAddresses
// entry as a header value, so "a@x.com, b@x.com" would be two recipients and
// "a@x.com\r\nBcc: …" a new header. ASCII only because SES does not support
// SMTPUTF8: an internationalized domain must come in its Punycode form.
func checkAddress(field, s string) error {
	if !plainAddress(s) {
		return fmt.Errorf("email: %s %q: %w", field, s, ErrBadAddress)
	}
	return nil
}

func plainAddress(s string) bool {
	if s == "" || len(s) > maxAddress {
		return false
	}
	for i := 0; i < len(s); i++ {
		// Bytes outside printable ASCII include every control character and
		// every byte of a non-ASCII rune; the specials would make it a list,
		// a display name, a quoted local part, a comment or a group.
		if c := s[i]; c <= ' ' || c >= 0x7f || strings.IndexByte(`"(),:;<>[\]`, c) >= 0 {
			return false
		}
	}
	local, domain, ok := strings.Cut(s, "@")
	if !ok || local == "" || len(local) > 64 || strings.Contains(domain, "@") || !validDomain(domain) {
		return false
	}
	if strings.HasPrefix(local, ".") || strings.HasSuffix(local, ".") || strings.Contains(local, "..") {
		return false
	}
	// The standard library's parser must read it as the same single
	// address, so that no reading of it differs from ours.
	a, err := mail.ParseAddress(s)
	return err == nil && a.Name == "" && a.Address == s
}

// validDomain accepts a host name: labels of letters, digits and hyphens,
// none empty, longer than 63 or starting or ending with a hyphen.
func validDomain(d string) bool {
	if d == "" || len(d) > 253 {
		return false
	}
	for label := range strings.SplitSeq(d, ".") {
		if label == "" || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return false
		}
		for i := 0; i < len(label); i++ {
			c := label[i]
			if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-') {
				return false
			}
		}
	}
	return true
}

// parseFrom checks a sender, "no-reply@acme.com" or
// "Acme <no-reply@acme.com>", and returns it in the form SES expects: the
// display name quoted, or encoded (RFC 2047) when it is not ASCII, which
// SES requires.
func parseFrom(s string) (string, error) {
	if hasControl(s) {
		return "", fmt.Errorf("email: sender %q: %w", s, ErrBadHeader)
	}
	a, err := mail.ParseAddress(strings.TrimSpace(s))
	if err != nil {
		return "", fmt.Errorf("email: sender %q: %w", s, ErrBadAddress)
	}
	if err := checkAddress("sender", a.Address); err != nil {
		return "", err
	}
	if strings.TrimSpace(a.Name) == "" {
		return a.Address, nil
	}
	return (&mail.Address{Name: strings.TrimSpace(a.Name), Address: a.Address}).String(), nil
}

// checkSubject refuses a subject that is empty or holds a control
// character; the renderers never make one, so this is the last line, not
// the first.
func checkSubject(s string) error {
	if strings.TrimSpace(s) == "" || hasControl(s) {
		return fmt.Errorf("email: subject %q: %w", s, ErrBadHeader)
	}
	return nil
}

// checkMessage is what Send checks before it calls SES.
func checkMessage(m Message) error {
	if err := checkAddress("recipient", m.To); err != nil {
		return err
	}
	return checkSubject(m.Subject)
}

// hasControl reports a control character (C0, DEL, C1), a Unicode line or
// paragraph separator, or bytes that are not UTF-8: anything a mail header
// must not carry.
func hasControl(s string) bool {
	if !utf8.ValidString(s) {
		return true
	}
	return strings.ContainsFunc(s, func(r rune) bool {
		return unicode.IsControl(r) || r == '\u2028' || r == '\u2029'
	})
}

// oneLine makes a name safe to put in a subject and a heading: every run of
// spaces, line breaks and control characters becomes one space, and the
// bidirectional controls that could make a name read as something else go.
// Names are validated upstream; this adapter does not rely on it.
func oneLine(s string) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	return strings.Join(strings.FieldsFunc(s, func(r rune) bool {
		return unicode.IsSpace(r) || unicode.IsControl(r) || isBidiControl(r)
	}), " ")
}

// isBidiControl reports the embedding, override and isolate controls
// (U+202A–U+202E, U+2066–U+2069), which reorder the text around them.
func isBidiControl(r rune) bool {
	return '\u202a' <= r && r <= '\u202e' || '\u2066' <= r && r <= '\u2069'
}

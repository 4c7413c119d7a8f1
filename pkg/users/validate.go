package users

import (
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/usermgmt/ums/pkg/apperr"
	"github.com/usermgmt/ums/pkg/ids"
)

// Limits of the user's fields.
const (
	maxEmail    = 254
	maxName     = 100
	maxDisplay  = 200
	minUsername = 3
	maxUsername = 32
)

// NormalizeEmail returns the form emails are compared in: trimmed, lower case.
func NormalizeEmail(email string) string { return strings.ToLower(strings.TrimSpace(email)) }

// NormalizeUsername returns the form usernames are compared in.
func NormalizeUsername(username string) string { return strings.ToLower(strings.TrimSpace(username)) }

// CheckEmail returns a message for a bad email address, or "". It accepts the
// common ASCII form local@domain.tld, at most 254 characters; it refuses
// anything that could smuggle a header into an email (CR, LF, commas, angle
// brackets, quotes, spaces).
func CheckEmail(email string) string {
	switch {
	case email == "":
		return "is required"
	case len(email) > maxEmail:
		return "must be at most 254 characters"
	}
	local, domain, ok := strings.Cut(email, "@")
	if !ok || strings.Contains(domain, "@") {
		return "must be an email address"
	}
	if local == "" || len(local) > 64 || local[0] == '.' || local[len(local)-1] == '.' || strings.Contains(local, "..") {
		return "must be an email address"
	}
	for _, r := range local {
		if !(r < utf8.RuneSelf && (isAlnum(byte(r)) || strings.ContainsRune(".!#$%&'*+/=?^_`{|}~-", r))) {
			return "must be an email address"
		}
	}
	labels := strings.Split(domain, ".")
	if len(labels) < 2 {
		return "must be an email address with a domain like example.com"
	}
	for _, l := range labels {
		if l == "" || len(l) > 63 || l[0] == '-' || l[len(l)-1] == '-' {
			return "must be an email address"
		}
		for i := 0; i < len(l); i++ {
			if !isAlnum(l[i]) && l[i] != '-' {
				return "must be an email address"
			}
		}
	}
	if tld := labels[len(labels)-1]; len(tld) < 2 || strings.IndexFunc(tld, unicode.IsDigit) >= 0 && !strings.HasPrefix(tld, "xn--") {
		return "must be an email address with a domain like example.com"
	}
	return ""
}

func isAlnum(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9'
}

// CheckUsername returns a message for a bad username, or "". Usernames are 3
// to 32 characters of letters, digits, '.', '_' and '-', starting with a
// letter or digit; they never contain '@', so a login is unambiguous.
func CheckUsername(username string) string {
	if n := len(username); n < minUsername || n > maxUsername {
		return "must be 3 to 32 characters"
	}
	if !isAlnum(username[0]) {
		return "must start with a letter or digit"
	}
	for i := 0; i < len(username); i++ {
		if c := username[i]; !isAlnum(c) && c != '.' && c != '_' && c != '-' {
			return "may contain only letters, digits, '.', '_' and '-'"
		}
	}
	return ""
}

// CheckName returns a message for a bad required name (at most 100
// characters), or "": what given and family names must be.
func CheckName(name string) string { return checkName(name, true, maxName) }

// CleanName trims a name and folds runs of white space to one space.
func CleanName(s string) string { return cleanName(s) }

// CheckText returns a message for bad free text of at most max characters
// (a personal message), or "": valid UTF-8, no control characters but line
// breaks, no characters that reorder the text around them.
func CheckText(s string, max int) string {
	switch {
	case utf8.RuneCountInString(s) > max:
		return "must be at most " + strconv.Itoa(max) + " characters"
	case !utf8.ValidString(s):
		return "must be valid UTF-8"
	case strings.IndexFunc(s, func(r rune) bool { return unicode.IsControl(r) && r != '\n' }) >= 0:
		return "must not contain control characters (line breaks are fine)"
	case strings.IndexFunc(s, isBidiControl) >= 0:
		return "must not contain characters that reorder text (bidirectional overrides)"
	}
	return ""
}

// checkName returns a message for a bad name, or "". A name is text people
// read: valid UTF-8, no control characters, none of the characters that
// reorder the text around them (bidirectional embeddings, overrides and
// isolates, which can make "gnp.exe" read as "exe.png"), and at least one
// character that shows (a lone zero-width space is no name).
func checkName(name string, required bool, max int) string {
	switch {
	case name == "" && required:
		return "is required"
	case name == "":
		return ""
	case utf8.RuneCountInString(name) > max:
		return "must be at most " + strconv.Itoa(max) + " characters"
	case !utf8.ValidString(name):
		return "must be valid UTF-8"
	case strings.IndexFunc(name, unicode.IsControl) >= 0:
		return "must not contain control characters"
	case strings.IndexFunc(name, isBidiControl) >= 0:
		return "must not contain characters that reorder text (bidirectional overrides)"
	case strings.IndexFunc(name, isVisible) < 0:
		return "must contain a visible character"
	}
	return ""
}

// isBidiControl reports the bidirectional embeddings, overrides and isolates
// (U+202A to U+202E, U+2066 to U+2069). The marks (U+200E, U+200F) stay
// allowed: right-to-left names need them and they reorder nothing.
func isBidiControl(r rune) bool {
	return (r >= 0x202A && r <= 0x202E) || (r >= 0x2066 && r <= 0x2069)
}

// isVisible reports a letter, mark, number, punctuation or symbol that
// shows: anything but white space, invisible format characters, and the
// characters that draw nothing though their category says letter or symbol
// (blank).
func isVisible(r rune) bool {
	return unicode.In(r, unicode.L, unicode.M, unicode.N, unicode.P, unicode.S) && !unicode.Is(blank, r)
}

// blank is what draws nothing: every Default_Ignorable_Code_Point of
// Unicode 16 (DerivedCoreProperties.txt: the Hangul fillers U+115F, U+1160,
// U+3164 and U+FFA0, which are letters; the Khitan filler; the variation
// selectors; the tag characters; and the format characters), and the
// braille pattern blank U+2800, a symbol that is an empty cell. A name made
// only of these (and spaces) shows as nothing at all.
var blank = &unicode.RangeTable{
	R16: []unicode.Range16{
		{Lo: 0x00AD, Hi: 0x00AD, Stride: 1},
		{Lo: 0x034F, Hi: 0x034F, Stride: 1},
		{Lo: 0x061C, Hi: 0x061C, Stride: 1},
		{Lo: 0x115F, Hi: 0x1160, Stride: 1},
		{Lo: 0x17B4, Hi: 0x17B5, Stride: 1},
		{Lo: 0x180B, Hi: 0x180F, Stride: 1},
		{Lo: 0x200B, Hi: 0x200F, Stride: 1},
		{Lo: 0x202A, Hi: 0x202E, Stride: 1},
		{Lo: 0x2060, Hi: 0x206F, Stride: 1},
		{Lo: 0x2800, Hi: 0x2800, Stride: 1},
		{Lo: 0x3164, Hi: 0x3164, Stride: 1},
		{Lo: 0xFE00, Hi: 0xFE0F, Stride: 1},
		{Lo: 0xFEFF, Hi: 0xFEFF, Stride: 1},
		{Lo: 0xFFA0, Hi: 0xFFA0, Stride: 1},
		{Lo: 0xFFF0, Hi: 0xFFF8, Stride: 1},
	},
	R32: []unicode.Range32{
		{Lo: 0x16FE4, Hi: 0x16FE4, Stride: 1},
		{Lo: 0x1BCA0, Hi: 0x1BCA3, Stride: 1},
		{Lo: 0x1D173, Hi: 0x1D17A, Stride: 1},
		{Lo: 0xE0000, Hi: 0xE0FFF, Stride: 1},
	},
}

// cleanName trims a name and folds runs of white space to one space.
func cleanName(s string) string { return strings.Join(strings.Fields(s), " ") }

// defaultDisplayName is what display_name shows when none was set.
func defaultDisplayName(given, family string) string {
	return strings.TrimSpace(given + " " + family)
}

// add records msg for field when it is not empty.
func add(bad *apperr.Fields, field, msg string) {
	if msg != "" {
		bad.Add(field, msg)
	}
}

// LoginKey names a login as typed, normalized, without spelling it: the
// key of the throttle of a login that names no user, and of the sign-in
// attempts made with it. kind is "email" or "username".
func LoginKey(kind, norm string) string { return ids.FromHash("lgn", kind+":"+norm) }

// EmailTrace names an email without spelling it: the key invitations to it
// are listed by.
func EmailTrace(email string) string { return ids.FromHash("eml", NormalizeEmail(email)) }

// Traces are the keys records about a user's identity are found by
// outside their own item (sign-in attempts and throttles by login,
// invitations by email), so that anonymizing and purging can remove them.
func Traces(email, username string) []string {
	out := []string{LoginKey("email", NormalizeEmail(email)), EmailTrace(email)}
	if username != "" {
		out = append(out, LoginKey("username", NormalizeUsername(username)))
	}
	return out
}

package users

import (
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// What search indexes and accepts. A user is found by a prefix of their
// email, of their username or of any word of their name, compared folded
// (Fold). Each distinct prefix of one to MaxIndexedPrefix runes of those
// terms is an index partition of its own, so a query word of that length
// reads only the users it matches; a longer word reads its first
// MaxIndexedPrefix runes' partition and is matched against the whole terms.
const (
	MaxIndexedPrefix = 6
	// maxNameTerms bounds the name words indexed per user, so that the
	// index items of a complete rename (those that go and those that come)
	// fit in one transaction with the user's other writes.
	maxNameTerms = 4
	// maxSearch and maxSearchWords bound a query.
	maxSearch      = 100
	maxSearchWords = 4
)

// Fold returns the form search compares text in: lower case, accents and
// other marks removed ("Skłodowska" → "sklodowska", "Ærøskøbing" →
// "aeroskobing"), compatibility forms unified (full-width letters,
// ligatures) and apostrophes dropped ("O'Brien" → "obrien").
func Fold(s string) string {
	var b strings.Builder
	for _, r := range norm.NFKD.String(strings.ToLower(s)) {
		switch {
		case unicode.Is(unicode.Mn, r):
		case r == '\'' || r == '’' || r == 'ʼ':
		default:
			if m, ok := letterFolds[r]; ok {
				b.WriteString(m)
			} else {
				b.WriteRune(unicode.ToLower(r))
			}
		}
	}
	return b.String()
}

// letterFolds are letters that Unicode does not decompose into a base
// letter and a mark, written as they are usually spelled without them.
var letterFolds = map[rune]string{
	'ł': "l", 'ø': "o", 'đ': "d", 'ð': "d", 'ħ': "h", 'ı': "i", 'ŧ': "t",
	'ß': "ss", 'æ': "ae", 'œ': "oe", 'þ': "th", 'ŋ': "n",
}

// SearchTerms returns what the user is found by, folded and distinct: the
// email, the username, then the words of the given, family and display
// names (a hyphenated word also as its parts), at most maxNameTerms of
// them; a name that is the email (an invited user's display name) adds
// nothing. An anonymized user is found by nothing.
func (u *User) SearchTerms() []string {
	if u == nil || u.Status == StatusAnonymized {
		return nil
	}
	var terms []string
	add := func(t string) {
		if t != "" && !slices.Contains(terms, t) {
			terms = append(terms, t)
		}
	}
	email := Fold(NormalizeEmail(u.Email))
	add(email)
	if u.Username != nil {
		add(Fold(NormalizeUsername(*u.Username)))
	}
	fixed := len(terms)
	for _, name := range []string{u.GivenName, u.FamilyName, u.DisplayName} {
		if Fold(strings.TrimSpace(name)) == email {
			continue
		}
		for _, w := range strings.Fields(Fold(name)) {
			for _, t := range append([]string{w}, hyphenParts(w)...) {
				if len(terms)-fixed < maxNameTerms {
					add(t)
				}
			}
		}
	}
	return terms
}

// hyphenParts returns the parts of a hyphenated word, or nothing.
func hyphenParts(w string) []string {
	if !strings.Contains(w, "-") {
		return nil
	}
	return strings.FieldsFunc(w, func(r rune) bool { return r == '-' })
}

// SearchPrefixes returns the distinct prefixes of one to MaxIndexedPrefix
// runes of the terms: the index partitions the user is listed in.
func SearchPrefixes(terms []string) []string {
	var out []string
	for _, t := range terms {
		for _, p := range prefixesOf(t) {
			if !slices.Contains(out, p) {
				out = append(out, p)
			}
		}
	}
	return out
}

func prefixesOf(t string) []string {
	var out []string
	for i := range t {
		if i > 0 {
			out = append(out, t[:i])
		}
		if len(out) == MaxIndexedPrefix {
			return out
		}
	}
	return append(out, t)
}

// Search is a parsed query: its folded words, each of which must be a
// prefix of one of a user's terms.
type Search struct {
	Words []string
}

// ParseSearch reads the search parameter. It returns a message for a query
// it refuses, or "". An empty (or blank) query searches nothing.
func ParseSearch(q string) (Search, string) {
	if utf8.RuneCountInString(q) > maxSearch {
		return Search{}, "must be at most 100 characters"
	}
	if !utf8.ValidString(q) {
		return Search{}, "must be text"
	}
	var words []string
	for _, w := range strings.Fields(Fold(q)) {
		if !slices.Contains(words, w) {
			words = append(words, w)
		}
	}
	if len(words) > maxSearchWords {
		return Search{}, "must be at most 4 words"
	}
	return Search{Words: words}, ""
}

// Empty reports whether the query searches nothing.
func (s Search) Empty() bool { return len(s.Words) == 0 }

// Partition returns the index partition that serves the query: the indexed
// prefix of its longest word (the most selective one).
func (s Search) Partition() string {
	longest := ""
	for _, w := range s.Words {
		if utf8.RuneCountInString(w) > utf8.RuneCountInString(longest) {
			longest = w
		}
	}
	p := prefixesOf(longest)
	return p[len(p)-1]
}

// Exact reports whether the partition holds exactly the users the query
// matches: one word, no longer than an indexed prefix.
func (s Search) Exact() bool {
	return len(s.Words) == 1 && utf8.RuneCountInString(s.Words[0]) <= MaxIndexedPrefix
}

// Matches reports whether every word of the query is a prefix of one of
// the terms.
func (s Search) Matches(terms []string) bool {
	for _, w := range s.Words {
		if !slices.ContainsFunc(terms, func(t string) bool { return strings.HasPrefix(t, w) }) {
			return false
		}
	}
	return true
}

// JoinTerms returns the terms as stored beside the index: each preceded by
// a space, so that " "+word is found in it exactly where a term starts with
// the word.
func JoinTerms(terms []string) string {
	if len(terms) == 0 {
		return ""
	}
	return " " + strings.Join(terms, " ")
}

package passwords

import (
	"bufio"
	"bytes"
	"compress/gzip"
	_ "embed"
	"strconv"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"

	"github.com/usermgmt/ums/pkg/apperr"
)

// Length bounds of the contract: the minimum is a setting within
// [MinLengthFloor, MinLengthCeiling]; the maximum is fixed.
const (
	MinLengthFloor   = 8
	MinLengthCeiling = 64
	MaxLength        = 128
)

//go:embed common.txt.gz
var commonGz []byte

var (
	commonOnce sync.Once
	common     map[string]struct{}
)

// loadCommon reads the list once, on the first check: a function that never
// checks a password never pays for it.
func loadCommon() {
	common = make(map[string]struct{}, 40000)
	zr, err := gzip.NewReader(bytes.NewReader(commonGz))
	if err != nil {
		panic("passwords: embedded list: " + err.Error())
	}
	sc := bufio.NewScanner(zr)
	for sc.Scan() {
		common[sc.Text()] = struct{}{}
	}
	if err := sc.Err(); err != nil {
		panic("passwords: embedded list: " + err.Error())
	}
}

// IsCommon reports whether the password, ignoring case, is on the list.
func IsCommon(password string) bool {
	commonOnce.Do(loadCommon)
	_, ok := common[strings.ToLower(Normalize(password))]
	return ok
}

// Policy is what a new password is checked against.
type Policy struct {
	// MinLength is the settings' password_min_length.
	MinLength int
	// Email and Username are the account's; the password may not be them
	// (or the email's local part; see IsWord).
	Email    string
	Username string
	// Words are the service's own (ServiceWords): the password may not be
	// one of them either.
	Words []string
}

// ServiceWords are the words a password of this service may not be: the
// product's name (as PRODUCT_NAME sets it), each word of it of four letters
// or more, and the service's own name, which a guesser tries first.
func ServiceWords(product string) []string {
	words := []string{product, "user management", "usermgmt", "ums"}
	for w := range strings.FieldsSeq(product) {
		if utf8.RuneCountInString(letters(w)) >= 4 {
			words = append(words, w)
		}
	}
	return words
}

// IsWord reports whether a password is the word (an email, a name) in
// disguise: the same ignoring case, or the same letters with only digits,
// spaces and punctuation around or between them ("Acme2024!" is "Acme").
// Comparing only when the word has letters keeps "12345678" a word of its
// own.
func IsWord(password, word string) bool {
	p, w := strings.ToLower(Normalize(password)), strings.ToLower(strings.TrimSpace(Normalize(word)))
	if w == "" {
		return false
	}
	if p == w {
		return true
	}
	wl := letters(w)
	return wl != "" && letters(p) == wl
}

// letters is s with every character that is not a letter left out.
func letters(s string) string {
	return strings.Map(func(r rune) rune {
		if unicode.IsLetter(r) {
			return unicode.ToLower(r)
		}
		return -1
	}, s)
}

// Check returns a validation_failed error for field when the password breaks
// the rules, or nil. The message says which rule, never the password.
func (p Policy) Check(field, password string) error {
	msg := p.problem(password)
	if msg == "" {
		return nil
	}
	return apperr.Validation(apperr.FieldError{Field: field, Message: msg})
}

func (p Policy) problem(password string) string {
	min := max(p.MinLength, MinLengthFloor)
	n := utf8.RuneCountInString(Normalize(password))
	switch {
	case password == "":
		return "is required"
	case n < min:
		return "must be at least " + strconv.Itoa(min) + " characters"
	case n > MaxLength:
		return "must be at most " + strconv.Itoa(MaxLength) + " characters"
	case IsCommon(password):
		return "is too common; choose a less predictable password"
	}
	email := strings.TrimSpace(p.Email)
	local, _, _ := strings.Cut(email, "@")
	for _, word := range []string{email, local, p.Username} {
		if IsWord(password, word) {
			return "must not be your email or username"
		}
	}
	for _, word := range p.Words {
		if IsWord(password, word) {
			return "must not be the name of this service"
		}
	}
	return ""
}

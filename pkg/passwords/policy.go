package passwords

import (
	"bufio"
	"bytes"
	"compress/gzip"
	_ "embed"
	"strconv"
	"strings"
	"sync"
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
	// Email and Username are the account's; the password may not equal them
	// (or the email's local part), ignoring case.
	Email    string
	Username string
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
	lower := strings.ToLower(Normalize(password))
	email := strings.ToLower(strings.TrimSpace(p.Email))
	local, _, _ := strings.Cut(email, "@")
	for _, word := range []string{email, local, strings.ToLower(strings.TrimSpace(p.Username))} {
		if word != "" && lower == word {
			return "must not be your email or username"
		}
	}
	return ""
}

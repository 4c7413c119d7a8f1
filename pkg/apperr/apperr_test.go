package apperr

import (
	"errors"
	"fmt"
	"testing"
)

func TestAsFindsWrappedSentinels(t *testing.T) {
	sentinel := Conflict("last_admin", "one admin must remain")
	err := fmt.Errorf("demote user u1: %w", sentinel)
	if !errors.Is(err, sentinel) {
		t.Fatal("errors.Is lost the sentinel through wrapping")
	}
	if got := As(err); got != sentinel || got.Kind != KindConflict {
		t.Fatalf("As = %+v, want the sentinel", got)
	}
}

func TestAsTurnsUnknownErrorsInternal(t *testing.T) {
	cause := errors.New("dial tcp: connection refused")
	got := As(cause)
	if got.Kind != KindInternal || got.Code != "internal" {
		t.Fatalf("As(unknown) = %+v", got)
	}
	if got.Message == cause.Error() {
		t.Fatal("the client message must not carry the cause")
	}
	if !errors.Is(got, cause) {
		t.Fatal("the cause must stay in the chain for the log")
	}
}

func TestFields(t *testing.T) {
	var f Fields
	if f.Err() != nil {
		t.Fatal("no fields must be no error")
	}
	f.Add("email", "is required")
	e := As(f.Err())
	if e.Code != "validation_failed" || len(e.Fields) != 1 || e.Fields[0].Field != "email" {
		t.Fatalf("got %+v", e)
	}
}

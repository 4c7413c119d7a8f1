package dynamo

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/smithy-go/middleware"

	"github.com/usermgmt/ums/pkg/access"
	"github.com/usermgmt/ums/pkg/audit"
	"github.com/usermgmt/ums/pkg/ids"
	"github.com/usermgmt/ums/pkg/users"
)

// newTestStore is dynamotest.NewTable for this package's own tests (which
// cannot import dynamotest: it imports this package).
func newTestStore(t *testing.T) *Store {
	t.Helper()
	return newTestStoreWith(t)
}

// newTestStoreWith is newTestStore with middleware on its client.
func newTestStoreWith(t *testing.T, mw ...func(*middleware.Stack) error) *Store {
	t.Helper()
	ep := os.Getenv("DYNAMODB_ENDPOINT")
	if ep == "" {
		t.Fatal("DYNAMODB_ENDPOINT is not set: run the tests with make test")
	}
	c, err := NewClient(context.Background(), "us-east-1", ep, func(o *dynamodb.Options) { o.APIOptions = append(o.APIOptions, mw...) })
	if err != nil {
		t.Fatal(err)
	}
	var b [6]byte
	_, _ = rand.Read(b[:])
	name := "test-" + hex.EncodeToString(b[:])
	if err := EnsureTable(context.Background(), c, name, false); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_, _ = c.DeleteTable(context.Background(), &dynamodb.DeleteTableInput{TableName: aws.String(name)})
	})
	return New(c, name)
}

// A rare combination of filters: every page is one query over a bounded
// window of the index, so pages can be short, and following the cursors
// finds every match, newest first, each once.
func TestFilteredPagesAreOneQueryAndFindEverything(t *testing.T) {
	s := newTestStore(t)
	ctx := context.Background()
	base := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	var want []string
	for i := range 40 {
		usage := users.UsageRegistered
		if i%7 == 3 {
			usage = users.UsageConnected // 6 among 40
		}
		u := &users.User{
			ID: ids.New("usr"), Email: fmt.Sprintf("u%d@example.com", i), GivenName: "G", FamilyName: "F",
			DisplayName: "G F", Role: access.Member, Status: users.StatusActive, Usage: &usage,
			CreatedAt: base.Add(time.Duration(i) * time.Minute), UpdatedAt: base, Version: 1, SessionGen: 1,
		}
		if usage == users.UsageConnected {
			want = append([]string{u.ID}, want...) // newest first
		}
		ev := audit.Event{ID: ids.New("evt"), At: base, Action: "user.created", ActorType: access.ActorSystem}
		if err := s.CreateUser(ctx, u, ev); err != nil {
			t.Fatal(err)
		}
	}
	var got []string
	cursor, pages := "", 0
	for {
		// The role index is queried, the usage filtered, 5 items a window.
		page, err := s.listUsers(ctx, users.ListQuery{Role: access.Member, Usage: users.UsageConnected, Limit: 4, Cursor: cursor}, 5)
		if err != nil {
			t.Fatal(err)
		}
		pages++
		if len(page.Items) > 4 {
			t.Fatalf("page of %d items, limit 4", len(page.Items))
		}
		for _, u := range page.Items {
			got = append(got, u.ID)
		}
		if page.NextCursor == nil {
			break
		}
		cursor = *page.NextCursor
		if pages > 40 {
			t.Fatal("paging does not end")
		}
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("found %v\nwant %v", got, want)
	}
	if pages < 8 {
		t.Fatalf("%d pages: the window did not bound the pages", pages)
	}
}

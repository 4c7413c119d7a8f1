package dynamo

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/usermgmt/ums/pkg/access"
	"github.com/usermgmt/ums/pkg/audit"
	"github.com/usermgmt/ums/pkg/auth"
	"github.com/usermgmt/ums/pkg/ids"
	"github.com/usermgmt/ums/pkg/passwords"
	"github.com/usermgmt/ums/pkg/users"
)

// Rule 7: every sign-in attempt is recorded, with what was typed, the user
// when known, the source IP and user agent and the reason, and the record
// never holds the password.
func TestEveryLoginAttemptIsRecorded(t *testing.T) {
	s := newTestStore(t)
	fast := passwords.Params{MemoryKiB: 64, Time: 1, Threads: 1}
	svc := auth.NewService(s)
	svc.Params = fast
	now := time.Now().UTC().Truncate(time.Millisecond)
	usage := users.UsageRegistered
	u := &users.User{
		ID: ids.New("usr"), Email: "att@example.com", GivenName: "A", FamilyName: "T", DisplayName: "A T",
		Role: access.Member, Status: users.StatusActive, Usage: &usage, CreatedAt: now, UpdatedAt: now,
		PasswordHash: passwords.Hash("the right passphrase", fast), Version: 1, SessionGen: 1,
	}
	if err := s.CreateUser(context.Background(), u, audit.Event{ID: ids.New("evt"), At: now, Action: "user.created"}); err != nil {
		t.Fatal(err)
	}
	n := 0
	try := func(login, password string) {
		n++ // one millisecond apart, so that the attempts list in order
		ctx := access.WithRequest(context.Background(), access.Request{ID: "req", IP: "198.51.100.9", UserAgent: "curl/8.5.0", Now: now.Add(time.Duration(n) * time.Millisecond)})
		_, _ = svc.Login(ctx, auth.LoginInput{Login: login, Password: password})
	}
	try("att@example.com", "the right passphrase")
	try("ATT@example.com", "wrong guess number zero")
	try("ghost@example.com", "wrong guess for nobody")
	for i := range auth.FreeFailures {
		try("att@example.com", fmt.Sprint("wrong guess number ", i+1))
	}
	try("att@example.com", "the right passphrase") // locked: throttled, unchecked

	out, err := s.client.Query(context.Background(), &dynamodb.QueryInput{
		TableName: aws.String(s.table), IndexName: aws.String("gsi1"),
		KeyConditionExpression:    aws.String("gsi1pk = :p"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":p": str(gsiAttempts)},
		ScanIndexForward:          aws.Bool(true),
	})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, item := range out.Items {
		var it attemptItem
		if err := unmarshal(item, &it); err != nil {
			t.Fatal(err)
		}
		if it.IP != "198.51.100.9" || it.UserAgent != "curl/8.5.0" || it.TTL != parseTime(it.At).Add(AttemptRetention).Unix() {
			t.Fatalf("attempt %+v", it)
		}
		got = append(got, fmt.Sprintf("%s/%v/%s/%v", it.Login, it.Success, it.Reason, it.UserID == u.ID))
		for name, av := range item {
			if sv, ok := av.(*types.AttributeValueMemberS); ok && (strings.Contains(sv.Value, "passphrase") || strings.Contains(sv.Value, "guess")) {
				t.Fatalf("attempt attribute %s holds a password: %q", name, sv.Value)
			}
		}
	}
	want := []string{
		"att@example.com/true//true",
		"ATT@example.com/false/invalid_credentials/true",
		"ghost@example.com/false/unknown_user/false",
	}
	// The wrong guess above was the first failure: four more lock the
	// account, and the attempts after that are refused unchecked.
	for range auth.FreeFailures - 1 {
		want = append(want, "att@example.com/false/invalid_credentials/true")
	}
	want = append(want, "att@example.com/false/throttled/true", "att@example.com/false/throttled/true")
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("attempts:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

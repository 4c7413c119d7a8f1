package dynamo

import (
	"reflect"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/usermgmt/ums/pkg/access"
	"github.com/usermgmt/ums/pkg/auth"
	"github.com/usermgmt/ums/pkg/settings"
	"github.com/usermgmt/ums/pkg/users"
)

// The hand-written decoders read what the struct tags write: every field of
// a user set, through toUserItem and attributevalue, comes back equal.
func TestDecodeUserReadsWhatIsWritten(t *testing.T) {
	at := time.Date(2026, 3, 4, 5, 6, 7, 890_000_000, time.UTC)
	un, team, usage, inv := "grace", "team_aaaaaaaaaaaaaaaaaaaaaaaaaa", users.UsageUsed, "inv_aaaaaaaaaaaaaaaaaaaaaaaaaa"
	later := at.Add(time.Hour)
	u := &users.User{
		ID: "usr_aaaaaaaaaaaaaaaaaaaaaaaaaa", Email: "Grace@example.com", Username: &un, GivenName: "Grace",
		FamilyName: "Hopper", DisplayName: "Amazing Grace", Role: access.Manager, TeamID: &team,
		Status: users.StatusInDeletion, Usage: &usage, CreatedAt: at, UpdatedAt: later, LastLoginAt: &at,
		LastSeenAt: &later, PurgeAfter: &later, PasswordHash: "$argon2id$x", Version: 7, SessionGen: 3,
		FailedLogins: 2, LastFailedAt: at, InvitationID: &inv, StatusBefore: users.StatusDeactivated, Forget: []string{"lgn_a", "eml_b"},
	}
	got, err := decodeUser(marshal(toUserItem(u)))
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, u) {
		t.Fatalf("decoded\n%+v\nwant\n%+v", got, u)
	}
	// Every field of userItem is read: a field added to the struct but not
	// to decodeUser would come back empty.
	x := reflect.ValueOf(toUserItem(u))
	for i := range x.NumField() {
		if x.Field(i).IsZero() && x.Type().Field(i).Name != "indexKeys" {
			t.Errorf("the sample leaves %s empty: set it, so the test covers it", x.Type().Field(i).Name)
		}
	}
}

func TestDecodeSessionReadsWhatIsWritten(t *testing.T) {
	at := time.Date(2026, 3, 4, 5, 6, 7, 890_000_000, time.UTC)
	s := toSessionItem(&auth.Session{ID: "ses_a", UserID: "usr_a", UserDisplayName: "A", IP: "203.0.113.1", UserAgent: "ua",
		Device: "d", CreatedAt: at, LastActiveAt: at.Add(time.Minute), ExpiresAt: at.Add(time.Hour), Gen: 4, TeamID: "team_a"})
	s.indexKeys = indexKeys{} // the index keys are not read back
	if got := decodeSession(marshal(s)); !reflect.DeepEqual(*got, s) {
		t.Fatalf("decoded\n%+v\nwant\n%+v", *got, s)
	}
}

func TestDecodeSettingsReadsWhatIsWritten(t *testing.T) {
	st := settings.Settings{AllowRegistration: true, LicenseCount: 5, InvitationTTLHours: 6, PasswordResetTTLMinutes: 7,
		DeletionGraceDays: 8, SessionTTLHours: 9, SessionIdleHours: 2, PasswordMinLength: 12}
	av, err := attributevalue.MarshalWithOptions(st, func(o *attributevalue.EncoderOptions) { o.TagKey = "json" })
	if err != nil {
		t.Fatal(err)
	}
	got, _, _, err := decodeMeta(map[string]types.AttributeValue{attrSettings: av})
	if err != nil || got != st {
		t.Fatalf("decoded %+v, %v; want %+v", got, err, st)
	}
	if n := reflect.TypeFor[settings.Settings]().NumField(); n != 8 {
		t.Fatalf("settings has %d fields: decodeSettings reads 8", n)
	}
}

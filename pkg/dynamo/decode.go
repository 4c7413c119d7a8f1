package dynamo

import (
	"strconv"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/usermgmt/ums/pkg/settings"
	"github.com/usermgmt/ums/pkg/users"
)

// The items every request reads (the user, META) are decoded by hand:
// attributevalue's reflection was a tenth of a read's CPU. The struct tags
// of userItem stay the one definition of the names, for writes and for the
// other items; a test proves both decoders agree.

// decodeUser decodes a user item.
func decodeUser(item map[string]types.AttributeValue) (*users.User, error) {
	it := userItem{
		ID: stringAttr(item, "id"), Email: stringAttr(item, "email"), Username: stringAttr(item, "username"),
		GivenName: stringAttr(item, "given_name"), FamilyName: stringAttr(item, "family_name"),
		DisplayName: stringAttr(item, "display_name"), Role: stringAttr(item, "role"), TeamID: stringAttr(item, "team_id"),
		Status: stringAttr(item, "status"), Usage: stringAttr(item, "usage"), CreatedAt: stringAttr(item, "created_at"),
		UpdatedAt: stringAttr(item, "updated_at"), LastLoginAt: stringAttr(item, "last_login_at"),
		PurgeAfter: stringAttr(item, "purge_after"), InvitationID: stringAttr(item, "invitation_id"),
		PasswordHash: stringAttr(item, "password_hash"),
		Version:      intAttr(item, "version"), SessionGen: intAttr(item, "session_gen"),
		LastSeenAt: stringAttr(item, "last_seen_at"), FailedLogins: intAttr(item, "failed_logins"),
		LastFailedAt: stringAttr(item, "last_failed_at"), StatusBefore: stringAttr(item, "status_before"),
	}
	if v, ok := item["forget"].(*types.AttributeValueMemberSS); ok {
		it.Forget = v.Value
	}
	return it.user(), nil
}

// decodeSession decodes a session item.
func decodeSession(item map[string]types.AttributeValue) *sessionItem {
	return &sessionItem{
		PK: stringAttr(item, "pk"), SK: stringAttr(item, "sk"), ID: stringAttr(item, "id"),
		UserID: stringAttr(item, "user_id"), UserDisplayName: stringAttr(item, "user_display_name"),
		TeamID: stringAttr(item, "team_id"), UserRole: stringAttr(item, "user_role"), IP: stringAttr(item, "ip"), UserAgent: stringAttr(item, "user_agent"), Device: stringAttr(item, "device"),
		CreatedAt: stringAttr(item, "created_at"), LastActiveAt: stringAttr(item, "last_active_at"),
		ExpiresAt: stringAttr(item, "expires_at"), Gen: intAttr(item, "gen"), TTL: int64(intAttr(item, "ttl")),
	}
}

// decodeSettings reads the settings map of META over the defaults: a
// setting added after they were saved keeps its default.
func decodeSettings(m map[string]types.AttributeValue) settings.Settings {
	st := settings.Defaults()
	if v, ok := m["allow_registration"].(*types.AttributeValueMemberBOOL); ok {
		st.AllowRegistration = v.Value
	}
	setInt(m, "license_count", &st.LicenseCount)
	setInt(m, "invitation_ttl_hours", &st.InvitationTTLHours)
	setInt(m, "password_reset_ttl_minutes", &st.PasswordResetTTLMinutes)
	setInt(m, "deletion_grace_days", &st.DeletionGraceDays)
	setInt(m, "session_ttl_hours", &st.SessionTTLHours)
	setInt(m, "session_idle_hours", &st.SessionIdleHours)
	setInt(m, "password_min_length", &st.PasswordMinLength)
	return st
}

// setInt sets dst to the number m holds under name, if it holds one.
func setInt(m map[string]types.AttributeValue, name string, dst *int) {
	if _, ok := m[name].(*types.AttributeValueMemberN); ok {
		*dst = intAttr(m, name)
	}
}

func stringAttr(item map[string]types.AttributeValue, name string) string {
	if v, ok := item[name].(*types.AttributeValueMemberS); ok {
		return v.Value
	}
	return ""
}

func intAttr(item map[string]types.AttributeValue, name string) int {
	if v, ok := item[name].(*types.AttributeValueMemberN); ok {
		n, _ := strconv.Atoi(v.Value)
		return n
	}
	return 0
}

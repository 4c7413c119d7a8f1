package dynamo

import (
	"context"

	"github.com/usermgmt/ums/pkg/audit"
	"github.com/usermgmt/ums/pkg/teams"
)

type teamItem struct {
	PK          string `dynamodbav:"pk"`
	SK          string `dynamodbav:"sk"`
	ID          string `dynamodbav:"id"`
	Name        string `dynamodbav:"name"`
	MemberCount int    `dynamodbav:"member_count"`
	CreatedAt   string `dynamodbav:"created_at"`
}

// CreateTeam writes a team, the uniqueness of its name and its audit event.
// Errors: teams.ErrNameTaken.
func (s *Store) CreateTeam(ctx context.Context, t teams.Team, ev audit.Event) error {
	k, nk := teamKey(t.ID), teamNameKey(teams.NormalizeName(t.Name))
	tx := s.txn()
	tx.putNew(marshal(teamItem{PK: k.pk, SK: k.sk, ID: t.ID, Name: t.Name, CreatedAt: fmtTime(t.CreatedAt)}), teams.ErrNameTaken)
	tx.putNew(marshal(uniqueItem{PK: nk.pk, SK: nk.sk, UserID: t.ID}), teams.ErrNameTaken)
	tx.putAudit(ev)
	return tx.run(ctx, s.client)
}

package store

import (
	"context"
	"encoding/json"
	"time"
)

// Audit is one line of the append-only audit trail.
type Audit struct {
	ActorSub  string
	ActorRole string
	Action    string
	Reference string
	Details   map[string]any
}

func (s *Store) Audit(ctx context.Context, a Audit) error {
	return insertAudit(ctx, s.pool, a)
}

func insertAudit(ctx context.Context, db execer, a Audit) error {
	details := []byte("{}")
	if a.Details != nil {
		var err error
		if details, err = json.Marshal(a.Details); err != nil {
			return err
		}
	}
	var ref *string
	if a.Reference != "" {
		ref = &a.Reference
	}
	_, err := db.Exec(ctx, `INSERT INTO audit_log (actor_sub, actor_role, action, reference, details)
		VALUES ($1, $2, $3, $4, $5)`, a.ActorSub, a.ActorRole, a.Action, ref, details)
	return err
}

// AuditEntry is one line of the trail as read back.
type AuditEntry struct {
	At        time.Time `db:"at"`
	ActorSub  string    `db:"actor_sub"`
	ActorRole string    `db:"actor_role"`
	Action    string    `db:"action"`
	Reference *string   `db:"reference"`
}

func (s *Store) AuditTrail(ctx context.Context, reference string) ([]AuditEntry, error) {
	return all[AuditEntry](ctx, s.pool, `SELECT at, actor_sub, actor_role, action, reference
		FROM audit_log WHERE reference = $1 ORDER BY id`, reference)
}

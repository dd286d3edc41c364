package store

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"
)

// Right is what an agent may do, granted by someone, for a time.
type Right struct {
	ID         int64      `db:"id"`
	Identity   *string    `db:"identity"`
	Email      string     `db:"email"`
	Role       string     `db:"role"`
	Unit       string     `db:"unit"`
	Rank       string     `db:"rank"`
	Communes   []string   `db:"communes"`
	Campaigns  []string   `db:"campaigns"`
	Admin      bool       `db:"admin"`
	ValidFrom  time.Time  `db:"valid_from"`
	ValidUntil *time.Time `db:"valid_until"`
	GrantedBy  string     `db:"granted_by"`
	GrantedAt  time.Time  `db:"granted_at"`
	RevokedBy  *string    `db:"revoked_by"`
	RevokedAt  *time.Time `db:"revoked_at"`
}

// GrantRight stores a right and its audit line in one transaction.
func (s *Store) GrantRight(ctx context.Context, r Right) (Right, error) {
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		// An agent already known by this email holds the right at once.
		if err := tx.QueryRow(ctx, `INSERT INTO agent_rights (identity, email, role, unit, rank, communes, campaigns, admin, valid_from,
			valid_until, granted_by) VALUES (coalesce($1, (SELECT identity FROM agent_rights WHERE lower(email) = lower($2)
			AND identity IS NOT NULL LIMIT 1)), lower($2), $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING id, granted_at`,
			r.Identity, r.Email, r.Role, r.Unit, r.Rank, r.Communes, r.Campaigns, r.Admin, r.ValidFrom, r.ValidUntil, r.GrantedBy).
			Scan(&r.ID, &r.GrantedAt); err != nil {
			return err
		}
		return insertAudit(ctx, tx, Audit{ActorSub: r.GrantedBy, ActorRole: "grant", Action: "right.grant",
			Details: map[string]any{"right": r.ID, "role": r.Role, "communes": r.Communes, "campaigns": r.Campaigns, "unit": r.Unit,
				"admin": r.Admin}})
	})
	return r, err
}

// RevokeRight ends a right at once.
func (s *Store) RevokeRight(ctx context.Context, id int64, by string) error {
	return pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `UPDATE agent_rights SET revoked_by = $2, revoked_at = now() WHERE id = $1 AND revoked_at IS NULL`, id, by)
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			return ErrNotFound
		}
		return insertAudit(ctx, tx, Audit{ActorSub: by, ActorRole: "grant", Action: "right.revoke", Details: map[string]any{"right": id}})
	})
}

// Right reads one right.
func (s *Store) Right(ctx context.Context, id int64) (Right, error) {
	return one[Right](ctx, s.pool, "right", `SELECT * FROM agent_rights WHERE id = $1`, id)
}

// BindRights gives the rights granted to an agent's email to the identity
// that signs in with it first.
func (s *Store) BindRights(ctx context.Context, identity, email string) error {
	if email == "" {
		return nil
	}
	_, err := s.pool.Exec(ctx, `UPDATE agent_rights SET identity = $1 WHERE identity IS NULL AND lower(email) = lower($2)
		AND revoked_at IS NULL`, identity, email)
	return err
}

// ActiveRights are the rights an agent's identity holds today.
func (s *Store) ActiveRights(ctx context.Context, identity string, today time.Time) ([]Right, error) {
	return all[Right](ctx, s.pool, `SELECT * FROM agent_rights WHERE identity = $1 AND revoked_at IS NULL
		AND valid_from <= $2 AND (valid_until IS NULL OR valid_until >= $2) ORDER BY granted_at DESC`, identity, today)
}

// RightFilter narrows the list of rights.
type RightFilter struct {
	Role string
	// Communes keeps the town hall rights of any of these communes.
	Communes []string
	// Campaigns keeps the back office rights of any of these campaigns.
	Campaigns []string
}

// Rights lists the rights not revoked, newest first.
func (s *Store) Rights(ctx context.Context, f RightFilter) ([]Right, error) {
	return all[Right](ctx, s.pool, `SELECT * FROM agent_rights WHERE revoked_at IS NULL AND ($1 = '' OR role = $1)
		AND (coalesce(cardinality($2::text[]), 0) = 0 OR communes && $2) AND (coalesce(cardinality($3::text[]), 0) = 0 OR campaigns && $3)
		ORDER BY granted_at DESC LIMIT 500`, f.Role, f.Communes, f.Campaigns)
}

// Package store is the SQL the API and the activities share: the register,
// elections, the procurations read model, the cap, the audit trail and the
// sent-mail records.
package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

// ErrNotFound is returned when a row asked for by key does not exist.
var ErrNotFound = errors.New("not found")

type Store struct {
	pool *pgxpool.Pool
}

func New(pool *pgxpool.Pool) *Store { return &Store{pool: pool} }

func (s *Store) Pool() *pgxpool.Pool { return s.pool }

func (s *Store) Ping(ctx context.Context) error { return s.pool.Ping(ctx) }

// Audit appends one line to the audit trail.
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

type execer interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
}

func insertAudit(ctx context.Context, db execer, a Audit) error {
	details, err := json.Marshal(a.Details)
	if err != nil {
		return err
	}
	if a.Details == nil {
		details = []byte("{}")
	}
	var ref *string
	if a.Reference != "" {
		ref = &a.Reference
	}
	_, err = db.Exec(ctx, `INSERT INTO audit_log (actor_sub, actor_role, action, reference, details)
		VALUES ($1, $2, $3, $4, $5)`, a.ActorSub, a.ActorRole, a.Action, ref, details)
	return err
}

// AuditEntry is one line of the trail as read back.
type AuditEntry struct {
	At        time.Time
	ActorSub  string
	ActorRole string
	Action    string
	Reference *string
}

func (s *Store) AuditTrail(ctx context.Context, reference string) ([]AuditEntry, error) {
	rows, err := s.pool.Query(ctx, `SELECT at, actor_sub, actor_role, action, reference
		FROM audit_log WHERE reference = $1 ORDER BY id`, reference)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, pgx.RowToStructByPos[AuditEntry])
}

// Agent is what an agent's token says of them.
type Agent struct {
	Sub        string
	Role       string
	GivenName  string
	FamilyName string
	Rank       string
	Unit       string
}

func (s *Store) UpsertAgent(ctx context.Context, a Agent) error {
	_, err := s.pool.Exec(ctx, `INSERT INTO agents (sub, role, given_name, family_name, rank, unit)
		VALUES ($1, $2, $3, $4, $5, $6)
		ON CONFLICT (sub) DO UPDATE SET role = $2, given_name = $3, family_name = $4, rank = $5, unit = $6, updated_at = now()
		WHERE (agents.role, agents.given_name, agents.family_name, agents.rank, agents.unit) IS DISTINCT FROM ($2, $3, $4, $5, $6)`,
		a.Sub, a.Role, a.GivenName, a.FamilyName, a.Rank, a.Unit)
	return err
}

func isUniqueViolation(err error) bool {
	var pgErr *pgconn.PgError
	return errors.As(err, &pgErr) && pgErr.Code == "23505"
}

func notFound(err error, what string) error {
	if errors.Is(err, pgx.ErrNoRows) {
		return fmt.Errorf("%s: %w", what, ErrNotFound)
	}
	return err
}

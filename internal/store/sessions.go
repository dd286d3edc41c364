package store

import (
	"context"
	"encoding/json"
	"time"

	"github.com/jackc/pgx/v5"
)

// SaveSession writes a browser session's data under the hash of its id.
func (s *Store) SaveSession(ctx context.Context, idHash string, data any, expires time.Time) error {
	raw, err := json.Marshal(data)
	if err != nil {
		return err
	}
	_, err = s.pool.Exec(ctx, `INSERT INTO web_sessions (id_hash, data, expires_at) VALUES ($1, $2, $3)
		ON CONFLICT (id_hash) DO UPDATE SET data = excluded.data, last_seen = now(), expires_at = excluded.expires_at`, idHash, raw, expires)
	return err
}

// LoadSessionAndRights reads a live session into data, says when it was
// last seen (ErrNotFound when it expired or never was), and reads the
// rights active today of the agent signed in to it, in one round trip:
// an agent's rights are read again at every page.
func (s *Store) LoadSessionAndRights(ctx context.Context, idHash string, data any, today time.Time) (time.Time, []Right, error) {
	b := &pgx.Batch{}
	b.Queue(`SELECT data, last_seen FROM web_sessions WHERE id_hash = $1 AND expires_at > now()`, idHash)
	// The identity is Claims.Identity(): issuer and subject.
	b.Queue(`SELECT * FROM agent_rights WHERE identity = (SELECT (data->'who'->>'iss') || '|' || (data->'who'->>'sub')
		FROM web_sessions WHERE id_hash = $1) AND revoked_at IS NULL
		AND valid_from <= $2 AND (valid_until IS NULL OR valid_until >= $2) ORDER BY granted_at DESC`, idHash, today)
	br := s.pool.SendBatch(ctx, b)
	defer br.Close()
	var (
		raw  []byte
		seen time.Time
	)
	if err := br.QueryRow().Scan(&raw, &seen); err != nil {
		return seen, nil, notFound(err, "session")
	}
	if err := json.Unmarshal(raw, data); err != nil {
		return seen, nil, err
	}
	rows, _ := br.Query()
	rights, err := pgx.CollectRows(rows, pgx.RowToStructByName[Right])
	if err != nil {
		return seen, nil, err
	}
	return seen, rights, br.Close()
}

// TouchSession records activity, for the idle timeout.
func (s *Store) TouchSession(ctx context.Context, idHash string) error {
	_, err := s.pool.Exec(ctx, `UPDATE web_sessions SET last_seen = now() WHERE id_hash = $1`, idHash)
	return err
}

// DeleteSession ends a session; expired ones go with it now and then.
func (s *Store) DeleteSession(ctx context.Context, idHash string) error {
	_, err := s.pool.Exec(ctx, `DELETE FROM web_sessions WHERE id_hash = $1 OR expires_at < now() - interval '1 day'`, idHash)
	return err
}

package store

import (
	"context"
	"encoding/json"
	"time"
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

// LoadSession reads a live session into data and says when it was last
// seen; ErrNotFound when it expired or never was.
func (s *Store) LoadSession(ctx context.Context, idHash string, data any) (time.Time, error) {
	var (
		raw  []byte
		seen time.Time
	)
	err := s.pool.QueryRow(ctx, `SELECT data, last_seen FROM web_sessions WHERE id_hash = $1 AND expires_at > now()`, idHash).Scan(&raw, &seen)
	if err != nil {
		return seen, notFound(err, "session")
	}
	return seen, json.Unmarshal(raw, data)
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

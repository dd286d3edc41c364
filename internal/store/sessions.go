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

// sessionIdentity is the identity of the person signed in to a session,
// as Claims.Identity() makes it: issuer and subject; none (NULL) before.
const sessionIdentity = `(data->'who'->>'iss') || '|' || nullif(data->'who'->>'sub', '')`

// DossierRead is the dossier a page shows, asked of LoadSessionAndRights to
// be read with the session: Reference and Examine say which read, the rest
// is what it found. It only saves a round trip: the use cases decide who
// sees the dossier, as with their own read.
type DossierRead struct {
	Reference string
	// Examine: the dossier and what an agent checks beside it (Examine),
	// for a session whose agent holds an active right; otherwise the
	// dossier alone (Procuration), for its grantor's session only.
	Examine bool

	// Found: the dossier was read, for a session it may be given to.
	Found       bool
	Procuration Procuration
	Examination Examination
}

// Holds says whether d holds the read of reference that a use case makes
// (with examine: Examine's, otherwise Procuration's).
func (d *DossierRead) Holds(reference string, examine bool) bool {
	return d != nil && d.Found && d.Reference == reference && d.Examine == examine
}

// LoadSessionAndRights reads a live session into data, says when it was
// last seen (ErrNotFound when it expired or never was), and reads the
// rights active today of the agent signed in to it, in one round trip:
// an agent's rights are read again at every page. With d, the dossier a
// page shows is read in the same round trip, and kept only for a session
// it may be given to; otherwise d holds nothing, and the page reads it as
// ever.
func (s *Store) LoadSessionAndRights(ctx context.Context, idHash string, data any, today time.Time, d *DossierRead) (time.Time, []Right, error) {
	b := &pgx.Batch{}
	b.Queue(`SELECT data, last_seen, coalesce(`+sessionIdentity+`, '') FROM web_sessions WHERE id_hash = $1 AND expires_at > now()`, idHash)
	b.Queue(`SELECT * FROM agent_rights WHERE identity = (SELECT `+sessionIdentity+`
		FROM web_sessions WHERE id_hash = $1) AND revoked_at IS NULL
		AND valid_from <= $2 AND (valid_until IS NULL OR valid_until >= $2) ORDER BY granted_at DESC`, idHash, today)
	if d != nil {
		*d = DossierRead{Reference: d.Reference, Examine: d.Examine}
		queueDossier(b, d.Reference, d.Examine)
	}
	br := s.pool.SendBatch(ctx, b)
	defer br.Close()
	var (
		raw      []byte
		seen     time.Time
		identity string
	)
	if err := br.QueryRow().Scan(&raw, &seen, &identity); err != nil {
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
	if d != nil {
		var x *Examination
		if d.Examine {
			x = &d.Examination
		}
		err := collectDossier(br, &d.Procuration, x)
		mayHave := identity != "" && (d.Examine && len(rights) > 0 || !d.Examine && d.Procuration.GrantorSub == identity)
		if err != nil || !mayHave {
			*d = DossierRead{Reference: d.Reference, Examine: d.Examine}
		}
		d.Found = err == nil && mayHave
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

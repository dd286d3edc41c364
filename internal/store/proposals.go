package store

import (
	"context"
	"hash/fnv"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// WithCampaignLock runs fn while no other process runs a matching of the
// campaign: the pool fn reads is the pool it writes proposals into. The
// lock is the session's, so that it goes with the connection if the
// process dies. A run that finds it taken waits without a connection:
// waiters blocked in pg_advisory_lock would hold the pool's connections
// and starve the very run they wait for.
func (s *Store) WithCampaignLock(ctx context.Context, campaign string, fn func() error) error {
	key := campaignLockKey(campaign)
	for wait := 20 * time.Millisecond; ; wait = min(2*wait, time.Second) {
		conn, err := s.pool.Acquire(ctx)
		if err != nil {
			return err
		}
		var locked bool
		if err := conn.QueryRow(ctx, `SELECT pg_try_advisory_lock($1)`, key).Scan(&locked); err != nil {
			conn.Release()
			return err
		}
		if locked {
			return s.holdingLock(ctx, conn, key, fn)
		}
		conn.Release()
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(wait):
		}
	}
}

func (s *Store) holdingLock(ctx context.Context, conn *pgxpool.Conn, key int64, fn func() error) error {
	defer conn.Release()
	defer func() {
		if _, err := conn.Exec(context.WithoutCancel(ctx), `SELECT pg_advisory_unlock($1)`, key); err != nil {
			// A lock that could not be released goes with its connection.
			conn.Conn().Close(context.WithoutCancel(ctx)) //nolint:errcheck
		}
	}()
	return fn()
}

func campaignLockKey(campaign string) int64 {
	h := fnv.New64a()
	h.Write([]byte("matching/" + campaign))
	return int64(h.Sum64())
}

// proposalChunk is how many proposals one transaction writes.
const proposalChunk = 2000

// CreateProposals stores a run's proposals, their workflows not yet
// started, a few thousand per transaction. It returns those stored: a
// proposal one of whose people another match took meanwhile is left out.
func (s *Store) CreateProposals(ctx context.Context, proposals []NewMatch, at time.Time) ([]NewMatch, error) {
	var stored []NewMatch
	for start := 0; start < len(proposals); start += proposalChunk {
		chunk := proposals[start:min(start+proposalChunk, len(proposals))]
		err := s.insertProposals(ctx, chunk, at)
		if isUniqueViolation(err) {
			// Rare (a pair made by hand meanwhile): one at a time, to keep
			// the others.
			for _, m := range chunk {
				err = s.insertProposals(ctx, []NewMatch{m}, at)
				if isUniqueViolation(err) {
					continue
				}
				if err != nil {
					return stored, err
				}
				stored = append(stored, m)
			}
			continue
		}
		if err != nil {
			return stored, err
		}
		stored = append(stored, chunk...)
	}
	return stored, nil
}

func (s *Store) insertProposals(ctx context.Context, chunk []NewMatch, at time.Time) error {
	var ids, campaigns, requests, volunteers, slotMatch, slotPerson []string
	var tiers, slotRound []int16
	var rounds []string
	for _, m := range chunk {
		ids, campaigns, requests, volunteers = append(ids, m.ID), append(campaigns, m.CampaignID), append(requests, m.RequestID),
			append(volunteers, m.VolunteerID)
		tiers = append(tiers, m.Tier)
		rounds = append(rounds, roundsLiteral(m.Rounds))
		for _, person := range []string{m.RequestID, m.VolunteerID} {
			for _, r := range m.Rounds {
				slotMatch, slotPerson, slotRound = append(slotMatch, m.ID), append(slotPerson, person), append(slotRound, r)
			}
		}
	}
	return pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		b := &pgx.Batch{}
		b.Queue(`INSERT INTO matches (id, campaign_id, request_id, volunteer_id, rounds, tier, status, created_at, updated_at, offer_started)
			SELECT id, c, r, v, rounds::smallint[], t, 'proposed', $7, $7, false
			FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::smallint[]) AS x(id, c, r, v, rounds, t)`,
			ids, campaigns, requests, volunteers, rounds, tiers, at)
		b.Queue(`INSERT INTO match_history (match_id, seq, at, status, actor) SELECT id, 1, $2, 'proposed', 'system' FROM unnest($1::text[]) id`,
			ids, at)
		b.Queue(`UPDATE signups SET first_in_line = false WHERE id = ANY($1) AND first_in_line`, requests)
		b.Queue(`INSERT INTO match_slots (match_id, signup_id, round) SELECT * FROM unnest($1::text[], $2::text[], $3::smallint[])`,
			slotMatch, slotPerson, slotRound)
		return tx.SendBatch(ctx, b).Close()
	})
}

func roundsLiteral(rounds []int16) string {
	out := []byte{'{'}
	for i, r := range rounds {
		if i > 0 {
			out = append(out, ',')
		}
		out = strconv.AppendInt(out, int64(r), 10)
	}
	return string(append(out, '}'))
}

// OfferToStart is a proposal whose workflow a run starts.
type OfferToStart struct {
	ID          string  `db:"id"`
	RequestID   string  `db:"request_id"`
	VolunteerID string  `db:"volunteer_id"`
	Rounds      []int16 `db:"rounds"`
	Tier        int16   `db:"tier"`
}

// ClaimOffersToStart leases up to limit of a campaign's proposals whose
// workflow has not started, oldest first, for lease: another run skips
// them meanwhile, and takes them up once the lease is over.
func (s *Store) ClaimOffersToStart(ctx context.Context, campaign string, limit int, lease time.Duration) ([]OfferToStart, error) {
	return all[OfferToStart](ctx, s.pool, `UPDATE matches m SET start_claimed_until = now() + $3::interval
		FROM (SELECT id FROM matches WHERE campaign_id = $1 AND NOT offer_started
			AND (start_claimed_until IS NULL OR start_claimed_until < now())
			ORDER BY created_at, id LIMIT $2 FOR UPDATE SKIP LOCKED) todo
		WHERE m.id = todo.id RETURNING m.id, m.request_id, m.volunteer_id, m.rounds, m.tier`, campaign, limit, lease)
}

// MarkOffersStarted records that these proposals' workflows have started.
func (s *Store) MarkOffersStarted(ctx context.Context, ids []string) error {
	if len(ids) == 0 {
		return nil
	}
	_, err := s.pool.Exec(ctx, `UPDATE matches SET offer_started = true, start_claimed_until = NULL WHERE id = ANY($1)`, ids)
	return err
}

// OffersToStart counts a campaign's proposals whose workflow has not
// started yet.
func (s *Store) OffersToStart(ctx context.Context, campaign string) (int, error) {
	var n int
	err := s.pool.QueryRow(ctx, `SELECT count(*) FROM matches WHERE campaign_id = $1 AND NOT offer_started`, campaign).Scan(&n)
	return n, err
}

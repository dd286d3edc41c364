// Package ratelimit counts attempts in PostgreSQL, so that every API
// replica sees the same counters: a sliding window approximated by the
// current fixed window and the previous one weighted by their overlap.
// Keys are hashed: an email address or a client address is never stored.
package ratelimit

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"math/rand/v2"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
)

// Rule is a limit: at most Limit attempts per Window for one key.
type Rule struct {
	Name   string
	Limit  int
	Window time.Duration
}

// Limiter keeps the counters.
type Limiter struct {
	pool *pgxpool.Pool
}

func New(pool *pgxpool.Pool) *Limiter { return &Limiter{pool: pool} }

// Allow counts an attempt for key under rule, or says how long to wait
// when the rule forbids it. A rule of limit 0 allows everything.
func (l *Limiter) Allow(ctx context.Context, rule Rule, key string, now time.Time) (bool, time.Duration, error) {
	if rule.Limit <= 0 {
		return true, 0, nil
	}
	sum := sha256.Sum256([]byte(rule.Name + "\x00" + key))
	hashed := rule.Name + ":" + hex.EncodeToString(sum[:12])
	start := now.Truncate(rule.Window)
	var current, previous int
	err := l.pool.QueryRow(ctx, `WITH hit AS (
			INSERT INTO rate_limits (key, window_start, hits) VALUES ($1, $2, 1)
			ON CONFLICT (key, window_start) DO UPDATE SET hits = rate_limits.hits + 1 RETURNING hits)
		SELECT (SELECT hits FROM hit), coalesce((SELECT hits FROM rate_limits WHERE key = $1 AND window_start = $3), 0)`,
		hashed, start, start.Add(-rule.Window)).Scan(&current, &previous)
	if err != nil {
		return false, 0, err
	}
	if rand.IntN(500) == 0 {
		// Bounded size: windows older than two of the longest rules go.
		_, _ = l.pool.Exec(ctx, `DELETE FROM rate_limits WHERE window_start < $1`, now.Add(-48*time.Hour))
	}
	elapsed := now.Sub(start)
	weighted := float64(previous)*(1-float64(elapsed)/float64(rule.Window)) + float64(current)
	if weighted <= float64(rule.Limit) {
		return true, 0, nil
	}
	// Until enough of the previous window has slid out, or this one ends.
	wait := rule.Window - elapsed
	if previous > 0 && float64(current) <= float64(rule.Limit) {
		need := (weighted - float64(rule.Limit)) / float64(previous)
		wait = time.Duration(need * float64(rule.Window))
	}
	return false, max(wait, time.Second), nil
}

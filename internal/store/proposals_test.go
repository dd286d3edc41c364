package store_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/procurations/procuration/internal/store"
	"github.com/procurations/procuration/internal/testenv"
)

// Runs queued behind a campaign's lock must leave the pool's connections to
// the run that holds it, which needs one more for its queries: a pool of
// two and eight runs at once, all done.
func TestCampaignLockWaitersLeaveConnectionsToTheHolder(t *testing.T) {
	cfg, err := pgxpool.ParseConfig(testenv.Postgres(t))
	if err != nil {
		t.Fatal(err)
	}
	cfg.MaxConns = 2
	pool, err := pgxpool.NewWithConfig(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	s := store.New(pool)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var wg sync.WaitGroup
	var mu sync.Mutex
	inside, most := 0, 0
	errs := make(chan error, 8)
	for range 8 {
		wg.Go(func() {
			errs <- s.WithCampaignLock(ctx, "campagne", func() error {
				mu.Lock()
				inside++
				most = max(most, inside)
				mu.Unlock()
				defer func() { mu.Lock(); inside--; mu.Unlock() }()
				time.Sleep(20 * time.Millisecond)
				_, err := pool.Exec(ctx, `SELECT 1`)
				return err
			})
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if most != 1 {
		t.Fatalf("%d runs held the lock at once", most)
	}
}

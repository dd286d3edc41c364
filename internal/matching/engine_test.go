package matching_test

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/procurations/procuration/internal/bench"
	"github.com/procurations/procuration/internal/geo"
	"github.com/procurations/procuration/internal/matching"
)

// syntheticPool is bench matching's pool of size sign-ups; with declines,
// one request in ten has declined a volunteer of its own commune (every
// other eligible pair stays).
func syntheticPool(tb testing.TB, size int, seed uint64, declines bool) matching.Pool {
	tb.Helper()
	communes, err := geo.Communes()
	if err != nil {
		tb.Fatal(err)
	}
	pool := bench.SyntheticPool(communes, size/2, size-size/2, seed)
	if declines {
		rng := rand.New(rand.NewPCG(seed, 3))
		byCommune := map[string][]string{}
		for _, v := range pool.Volunteers {
			byCommune[v.Place.Commune] = append(byCommune[v.Place.Commune], v.ID)
		}
		pool.Declined = map[matching.Pair]bool{}
		for _, r := range pool.Requests {
			if vs := byCommune[r.Place.Commune]; len(vs) > 0 && rng.IntN(10) == 0 {
				pool.Declined[matching.Pair{Request: r.ID, Volunteer: vs[rng.IntN(len(vs))]}] = true
			}
		}
	}
	return pool
}

// The engine made faster gives, on bench matching's pools, the objective
// the engine gave before: units, splits, tier sum (and the both-round
// requests covered in both), recorded from it.
func TestSyntheticPoolsKeepTheirObjective(t *testing.T) {
	for _, tc := range []struct {
		size                      int
		seed                      uint64
		declines                  bool
		units, split, tiers, both int
	}{
		{10000, 2027, false, 7464, 23, 13960, 2644},
		{10000, 7, true, 7390, 15, 13604, 2586},
		{100000, 2027, false, 78172, 139, 92890, 28761},
		{100000, 7, true, 78296, 426, 95364, 28639},
	} {
		t.Run(fmt.Sprintf("%d/%d/%v", tc.size, tc.seed, tc.declines), func(t *testing.T) {
			if tc.size > 10000 && testing.Short() {
				t.Skip("a large pool")
			}
			res := matching.Solve(syntheticPool(t, tc.size, tc.seed, tc.declines))
			got := [4]int{res.Units, res.Split, res.TierSum, res.Both}
			if want := [4]int{tc.units, tc.split, tc.tiers, tc.both}; got != want {
				t.Errorf("units, splits, tier sum, both: %v, before %v", got, want)
			}
		})
	}
}

// BenchmarkSolve runs the engine on bench matching's pools, one size at a
// time (go test -run '^$' -bench 'Solve/100000$' -cpuprofile ...).
func BenchmarkSolve(b *testing.B) {
	for _, size := range []int{10000, 100000, 1000000} {
		b.Run(fmt.Sprint(size), func(b *testing.B) {
			pool := syntheticPool(b, size, 2027, false)
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				matching.Solve(pool)
			}
		})
	}
}

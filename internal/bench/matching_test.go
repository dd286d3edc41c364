package bench

import (
	"strings"
	"testing"

	"github.com/procurations/procuration/internal/geo"
	"github.com/procurations/procuration/internal/matching"
)

// BenchmarkSolve measures the engine on the bench command's pool; compare
// with BenchmarkGreedy from the same run (go test -bench . ./internal/bench).
func BenchmarkSolve(b *testing.B) { benchmarkEngine(b, matching.Solve) }

func BenchmarkGreedy(b *testing.B) { benchmarkEngine(b, matching.Greedy) }

func benchmarkEngine(b *testing.B, solve func(matching.Pool) matching.Result) {
	communes, err := geo.Communes()
	if err != nil {
		b.Fatal(err)
	}
	pool := SyntheticPool(communes, 20000, 20000, 2027)
	b.ResetTimer()
	for b.Loop() {
		solve(pool)
	}
}

// The bench prints a table per size with the three solvers, and the
// engine covers the rounds' maximum (Run fails otherwise).
func TestMatchingBench(t *testing.T) {
	var out strings.Builder
	if err := (&Matching{Sizes: []int{3000}, Seed: 1, Out: &out}).Run(); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"pool of 3000 sign-ups: 1500 requests, 1500 volunteers", "\nengine ", "\nbefore ", "\ngreedy ",
		"engine / greedy: time", "split before -> after:"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("no %q in\n%s", want, out.String())
		}
	}
}

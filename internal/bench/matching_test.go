package bench

import (
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

package bench

import (
	"fmt"
	"io"
	"math/rand/v2"
	"runtime"
	"runtime/metrics"
	"time"

	"github.com/procurations/procuration/internal/geo"
	"github.com/procurations/procuration/internal/matching"
	"github.com/procurations/procuration/internal/store"
)

// Matching runs, on synthetic pools spread over the real communes in
// proportion to their population, the engine, the engine as it was before
// both rounds were optimised together (rounds apart, "same volunteer" a
// tie-break), and the greedy baseline, and prints one table per pool size.
type Matching struct {
	// Sizes are the pools' sign-ups, half requests and half volunteers.
	Sizes []int
	Seed  uint64
	Out   io.Writer
}

// A solver's run: its result, wall time, and memory.
type matchingRun struct {
	name      string
	res       matching.Result
	d         time.Duration
	peak      uint64 // highest heap in use, sampled, above the heap before the run
	allocated uint64 // bytes allocated during the run
}

func (m *Matching) Run() error {
	communes, err := geo.Communes()
	if err != nil {
		return err
	}
	fmt.Fprintf(m.Out, "%s\n%s\n%s\n%s\n%s\n",
		"split: a request asking for both rounds, covered in both, by two different volunteers (two dossiers);",
		"       shown as a count and as a share of the both-round requests covered in both rounds.",
		"matched: (request, round) pairs covered, out of the most possible (the sum of the rounds' maximum matchings).",
		"peak heap: highest heap in use (runtime/metrics, sampled every 2 ms) above the heap before the run, pool included there;",
		"allocated: bytes allocated during the run (runtime.MemStats.TotalAlloc delta).")
	for _, size := range m.Sizes {
		requests := size / 2
		pool := SyntheticPool(communes, requests, size-requests, m.Seed)
		fmt.Fprintf(m.Out, "\npool of %d sign-ups: %d requests, %d volunteers over %d communes\n", size, requests, size-requests,
			len(communes))
		runs := []matchingRun{
			measure("engine", func() matching.Result { return matching.Solve(pool) }),
			measure("before", func() matching.Result { return matching.PerRound(pool) }),
			measure("greedy", func() matching.Result { return matching.Greedy(pool) }),
		}
		most := runs[1].res.Units // per-round maximum flows: the most units possible
		if runs[0].res.Units != most {
			return fmt.Errorf("engine covers %d units, the rounds' maximum is %d", runs[0].res.Units, most)
		}
		fmt.Fprintf(m.Out, "%-8s %9s %10s %10s %20s %9s %22s %10s\n", "", "time", "peak heap", "allocated",
			"matched", "mean tier", "split", "unmatched")
		for _, r := range runs {
			fmt.Fprintf(m.Out, "%-8s %9s %10s %10s %11d / %6d %9.3f %8d / %6d %5.2f%% %10d\n", r.name,
				r.d.Round(time.Millisecond), mib(r.peak), mib(r.allocated), r.res.Units, most, r.res.MeanTier(),
				r.res.Split, r.res.Both, pct(r.res.Split, r.res.Both), len(r.res.Unmatched))
		}
		e, g := runs[0], runs[2]
		fmt.Fprintf(m.Out, "engine / greedy: time %.2f, peak heap %.2f, matched %.3f, mean tier %.3f, split %.3f\n",
			e.d.Seconds()/g.d.Seconds(), ratio(e.peak, g.peak), float64(e.res.Units)/float64(g.res.Units),
			e.res.MeanTier()/g.res.MeanTier(), ratio(uint64(e.res.Split), uint64(g.res.Split)))
		fmt.Fprintf(m.Out, "split before -> after: %d -> %d (%.2f%% -> %.2f%%); optimum proven on every component: %v\n",
			runs[1].res.Split, e.res.Split, pct(runs[1].res.Split, runs[1].res.Both), pct(e.res.Split, e.res.Both), e.res.Optimal)
	}
	return nil
}

// measure runs f after a collection, sampling the heap in use meanwhile.
func measure(name string, f func() matching.Result) matchingRun {
	runtime.GC()
	sample := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	heap := func() uint64 {
		metrics.Read(sample)
		return sample[0].Value.Uint64()
	}
	var before runtime.MemStats
	runtime.ReadMemStats(&before)
	base := heap()
	peak := base
	stop, done := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(done)
		tick := time.NewTicker(2 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-stop:
				return
			case <-tick.C:
				peak = max(peak, heap())
			}
		}
	}()
	start := time.Now()
	res := f()
	d := time.Since(start)
	close(stop)
	<-done
	peak = max(peak, heap())
	var after runtime.MemStats
	runtime.ReadMemStats(&after)
	return matchingRun{name: name, res: res, d: d, peak: peak - base, allocated: after.TotalAlloc - before.TotalAlloc}
}

func mib(b uint64) string { return fmt.Sprintf("%d MiB", (b+1<<19)>>20) }

func pct(n, of int) float64 {
	if of == 0 {
		return 0
	}
	return 100 * float64(n) / float64(of)
}

func ratio[T ~uint64 | ~int64](a, b T) float64 {
	if b == 0 {
		return 0
	}
	return float64(a) / float64(b)
}

// SyntheticPool draws requests and volunteers where people live: communes
// weighted by population, one polling station per thousand inhabitants,
// 60% asking for both rounds.
func SyntheticPool(communes []store.Commune, requests, volunteers int, seed uint64) matching.Pool {
	rng := rand.New(rand.NewPCG(seed, seed+1))
	cumulative := make([]int, len(communes))
	total := 0
	for i, c := range communes {
		total += c.Population + 1
		cumulative[i] = total
	}
	person := func(id string) matching.Person {
		x := rng.IntN(total)
		lo, hi := 0, len(cumulative)-1
		for lo < hi {
			mid := (lo + hi) / 2
			if cumulative[mid] > x {
				hi = mid
			} else {
				lo = mid + 1
			}
		}
		c := communes[lo]
		rounds := []int{1, 2}
		switch rng.IntN(5) {
		case 0:
			rounds = []int{1}
		case 1:
			rounds = []int{2}
		}
		return matching.Person{
			ID: id, Rounds: rounds, Rank: rng.IntN(1 << 30),
			Place: matching.Place{Station: fmt.Sprintf("%s_%04d", c.Code, rng.IntN(c.Population/1000+1)+1), Commune: c.Code,
				EPCI: c.EPCI, Arrondissement: c.Arrondissement, Departement: c.Departement},
		}
	}
	var p matching.Pool
	for i := range requests {
		p.Requests = append(p.Requests, person(fmt.Sprintf("r%d", i)))
	}
	for j := range volunteers {
		p.Volunteers = append(p.Volunteers, person(fmt.Sprintf("v%d", j)))
	}
	return p
}

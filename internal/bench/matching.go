package bench

import (
	"fmt"
	"io"
	"math/rand/v2"
	"time"

	"github.com/procurations/procuration/internal/geo"
	"github.com/procurations/procuration/internal/matching"
	"github.com/procurations/procuration/internal/store"
)

// Matching runs the engine and the greedy baseline on one synthetic pool
// spread over the real communes in proportion to their population.
type Matching struct {
	Requests   int
	Volunteers int
	Seed       uint64
	Out        io.Writer
}

func (m *Matching) Run() error {
	communes, err := geo.Communes()
	if err != nil {
		return err
	}
	pool := SyntheticPool(communes, m.Requests, m.Volunteers, m.Seed)
	fmt.Fprintf(m.Out, "matching: %d requests, %d volunteers over %d communes\n\n", m.Requests, m.Volunteers, len(communes))

	start := time.Now()
	engine := matching.Solve(pool)
	engineTime := time.Since(start)
	start = time.Now()
	greedy := matching.Greedy(pool)
	greedyTime := time.Since(start)

	most := engine.Units // the engine's flow is maximum: the most possible
	fmt.Fprintf(m.Out, "%-10s %10s %22s %10s %12s\n", "", "time", "matched (request-rounds)", "mean tier", "unmatched")
	for _, row := range []struct {
		name string
		d    time.Duration
		r    matching.Result
	}{{"engine", engineTime, engine}, {"greedy", greedyTime, greedy}} {
		fmt.Fprintf(m.Out, "%-10s %10s %13d / %6d %10.3f %12d\n", row.name, row.d.Round(time.Millisecond), row.r.Units, most,
			row.r.MeanTier(), len(row.r.Unmatched))
	}
	fmt.Fprintf(m.Out, "\nengine / greedy: time %.2f, matches %.3f, mean tier %.3f\n",
		engineTime.Seconds()/greedyTime.Seconds(), float64(engine.Units)/float64(greedy.Units), engine.MeanTier()/greedy.MeanTier())
	return nil
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

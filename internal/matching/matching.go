// Package matching pairs requesters who need a proxy with volunteers near
// their polling station. It is pure computation: no I/O, no clock.
//
// The law allows a volunteer one procuration established in France per
// round: volunteers offer one slot per round, requests need one per round
// they ask for. A run optimises, lexicographically:
//
//  1. the (request, round) pairs covered: as many as possible, which is the
//     sum of the two rounds' maximum matchings;
//  2. the split requests: as few as possible, a split request asking for
//     both rounds and covered in both by two different volunteers (two
//     dossiers, two police visits); covered in one round only is not split;
//  3. the sum of tiers: as small as possible (nearest first);
//
// and ties go to earlier sign-ups. Declined pairs are never proposed.
//
// Criterion 2 makes the problem NP-hard in general (see exact.go), so the
// engine works in layers. On every component of the pool it runs a descent:
// one round re-solved with the other fixed, "a different volunteer from the
// other round" priced above any tier sum. On components under 2,000 people
// each step is an exact min-cost max-flow; on larger ones a step first takes
// the obvious pairs greedily and runs the flow on the rest (fastRound), still
// covering the most units. Each step keeps both rounds maximum, a step is
// kept only if it improves (split, tiers), and the descent stops when one
// gains nothing. Then, on components of at most 24 people, a branch and
// bound over the pairs proves the optimum or finds it. Result.Optimal says
// whether every component was proven optimal; elsewhere the result is the
// descent's, with no proof.
package matching

import (
	"runtime"
	"slices"
	"sync"
)

// Tiers of proximity (contract.md): farther than the département is not eligible.
const (
	SameStation = iota
	SameCommune
	SameIntercommunality
	SameArrondissement
	SameDepartement
	levels
)

// Place is where a person votes.
type Place struct {
	Station        string
	Commune        string
	EPCI           string
	Arrondissement string
	Departement    string
}

// Person is a request or a volunteer in the pool. Rank orders sign-ups:
// lower signed up earlier.
type Person struct {
	ID     string
	Place  Place
	Rounds []int
	Rank   int
}

// Pair names a requester and a volunteer.
type Pair struct{ Request, Volunteer string }

// Pool is what a run matches.
type Pool struct {
	Requests   []Person
	Volunteers []Person
	// Declined pairs are never proposed again.
	Declined map[Pair]bool
}

// Match is a proposal: one volunteer for some of a request's rounds.
type Match struct {
	Request   string
	Volunteer string
	Rounds    []int
	Tier      int
}

// Result is a run's proposals.
type Result struct {
	Matches []Match
	// Units is how many (request, round) pairs are covered.
	Units int
	// TierSum is the sum over covered units of their tier.
	TierSum int
	// Unmatched lists requests with at least one round not covered.
	Unmatched []string
	// Split counts the requests asking for both rounds that are covered in
	// both by two different volunteers.
	Split int
	// Both counts the requests asking for both rounds covered in both
	// (split or not), the base of a split rate.
	Both int
	// Optimal is true when every component was solved to proven optimum;
	// false where a component was too large for the branch and bound and
	// keeps the descent's result.
	Optimal bool
}

// MeanTier is the average proximity of the covered units.
func (r Result) MeanTier() float64 {
	if r.Units == 0 {
		return 0
	}
	return float64(r.TierSum) / float64(r.Units)
}

// Tier is the proximity of two places, and whether they are close enough.
func Tier(a, b Place) (int, bool) {
	switch {
	case a.Station != "" && a.Station == b.Station && a.Commune == b.Commune:
		return SameStation, true
	case a.Commune != "" && a.Commune == b.Commune:
		return SameCommune, true
	case a.EPCI != "" && a.EPCI == b.EPCI:
		return SameIntercommunality, true
	case a.Arrondissement != "" && a.Arrondissement == b.Arrondissement && a.Departement == b.Departement:
		return SameArrondissement, true
	case a.Departement != "" && a.Departement == b.Departement:
		return SameDepartement, true
	}
	return 0, false
}

// hubKeys are the hubs a place belongs to, one per level; a pair shares the
// hub of its tier and of every farther level.
func hubKeys(p Place) [levels]string {
	var k [levels]string
	if p.Station != "" {
		k[SameStation] = "s/" + p.Commune + "/" + p.Station
	}
	if p.Commune != "" {
		k[SameCommune] = "c/" + p.Commune
	}
	if p.EPCI != "" {
		k[SameIntercommunality] = "e/" + p.EPCI
	}
	if p.Arrondissement != "" {
		k[SameArrondissement] = "a/" + p.Departement + "/" + p.Arrondissement
	}
	if p.Departement != "" {
		k[SameDepartement] = "d/" + p.Departement
	}
	return k
}

// Solve computes the proposals for the pool.
func Solve(pool Pool) Result { return solve(pool, exactLimit) }

// exactLimit bounds the components the branch and bound takes on: people
// in the component, and relaxations it may solve before giving up.
var exactLimit = limits{people: 24, nodes: 1000}

type limits struct{ people, nodes int }

func solve(pool Pool, lim limits) Result {
	requests := byRank(pool.Requests)
	volunteers := byRank(pool.Volunteers)
	components := split(requests, volunteers)
	type solved struct {
		a1, a2  []int32
		optimal bool
	}
	results := make([]solved, len(components))
	// Components share no eligible pair: they are solved apart, two at a time.
	var wg sync.WaitGroup
	work := make(chan int)
	for range runtime.GOMAXPROCS(0) {
		wg.Go(func() {
			for c := range work {
				cp := newComp(components[c], pool.Declined)
				a1, a2 := cp.descend()
				optimal := false
				if len(cp.reqs)+len(cp.vols) <= lim.people {
					a1, a2, optimal = cp.exact(a1, a2, lim.nodes)
				}
				results[c] = solved{a1, a2, optimal}
			}
		})
	}
	for c := range components {
		work <- c
	}
	close(work)
	wg.Wait()
	assigned := map[int]map[string]string{1: {}, 2: {}}
	optimal := true
	for c, r := range results {
		optimal = optimal && r.optimal
		comp := components[c]
		for i, j := range r.a1 {
			if j >= 0 {
				assigned[1][comp.requests[i].ID] = comp.volunteers[j].ID
			}
		}
		for i, j := range r.a2 {
			if j >= 0 {
				assigned[2][comp.requests[i].ID] = comp.volunteers[j].ID
			}
		}
	}
	res := collect(requests, volunteers, assigned)
	res.Optimal = optimal
	return res
}

type component struct {
	requests, volunteers []Person
}

// split groups the pool into the sets no eligible pair crosses: a
// département, joined to others by the intercommunalities spanning them.
// Each keeps the sign-up order. Largest first, so the workers finish together.
func split(requests, volunteers []Person) []component {
	parent := map[string]string{}
	var find func(string) string
	find = func(k string) string {
		p, ok := parent[k]
		if !ok || p == k {
			parent[k] = k
			return k
		}
		root := find(p)
		parent[k] = root
		return root
	}
	key := func(p Person) string { return "d/" + p.Place.Departement }
	for _, people := range [][]Person{requests, volunteers} {
		for _, p := range people {
			if p.Place.EPCI != "" {
				parent[find("e/"+p.Place.EPCI)] = find(key(p))
			} else {
				find(key(p))
			}
		}
	}
	index := map[string]int{}
	var out []component
	at := func(p Person) *component {
		root := find(key(p))
		i, ok := index[root]
		if !ok {
			i = len(out)
			index[root] = i
			out = append(out, component{})
		}
		return &out[i]
	}
	for _, r := range requests {
		c := at(r)
		c.requests = append(c.requests, r)
	}
	for _, v := range volunteers {
		c := at(v)
		c.volunteers = append(c.volunteers, v)
	}
	slices.SortStableFunc(out, func(a, b component) int {
		return (len(b.requests) + len(b.volunteers)) - (len(a.requests) + len(a.volunteers))
	})
	return out
}

func byRank(people []Person) []Person {
	out := slices.Clone(people)
	slices.SortStableFunc(out, func(a, b Person) int { return a.Rank - b.Rank })
	return out
}

func wants(p Person, round int) bool { return slices.Contains(p.Rounds, round) }

func collect(requests, volunteers []Person, assigned map[int]map[string]string) Result {
	place := map[string]Place{}
	for _, v := range volunteers {
		place[v.ID] = v.Place
	}
	var res Result
	for _, r := range requests {
		complete := true
		var rounds []int
		for _, round := range r.Rounds {
			if _, ok := assigned[round][r.ID]; !ok {
				complete = false
			} else if !slices.Contains(rounds, round) {
				rounds = append(rounds, round)
			}
		}
		if !complete {
			res.Unmatched = append(res.Unmatched, r.ID)
		}
		slices.Sort(rounds)
		if len(rounds) == 2 {
			res.Both++
			if assigned[1][r.ID] != assigned[2][r.ID] {
				res.Split++
			}
		}
		var last *Match
		for _, round := range rounds {
			v := assigned[round][r.ID]
			tier, _ := Tier(r.Place, place[v])
			res.Units++
			res.TierSum += tier
			if last != nil && last.Volunteer == v {
				last.Rounds = append(last.Rounds, round)
				continue
			}
			res.Matches = append(res.Matches, Match{Request: r.ID, Volunteer: v, Rounds: []int{round}, Tier: tier})
			last = &res.Matches[len(res.Matches)-1]
		}
	}
	return res
}

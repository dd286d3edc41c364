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
	"cmp"
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
	var rOrder, vOrder []int32
	var sorting sync.WaitGroup
	sorting.Go(func() { vOrder = rankOrder(pool.Volunteers) })
	rOrder = rankOrder(pool.Requests)
	sorting.Wait()
	components := split(pool.Requests, pool.Volunteers, rOrder, vOrder)
	declinedBy := map[string][]string{}
	for p, d := range pool.Declined {
		if d {
			declinedBy[p.Request] = append(declinedBy[p.Request], p.Volunteer)
		}
	}
	// vol[k][i]: request i's volunteer in round k+1, or -1 (indices in the
	// pool); tier[k][i] their tier.
	var vol [2][]int32
	var tier [2][]int8
	for k := range vol {
		vol[k] = make([]int32, len(pool.Requests))
		tier[k] = make([]int8, len(pool.Requests))
	}
	optimal := make([]bool, len(components))
	// Components share no eligible pair: they are solved apart, two at a
	// time, each writing its own requests' entries.
	var wg sync.WaitGroup
	work := make(chan int)
	for range runtime.GOMAXPROCS(0) {
		wg.Go(func() {
			for c := range work {
				comp := components[c]
				cp := newComp(comp, pool.Requests, pool.Volunteers, declinedBy)
				a1, a2 := cp.descend()
				if len(cp.reqs)+len(cp.vols) <= lim.people {
					a1, a2, optimal[c] = cp.exact(a1, a2, lim.nodes)
				}
				for k, a := range [2][]int32{a1, a2} {
					for i, j := range a {
						x := comp.requests[i]
						vol[k][x] = -1
						if j >= 0 {
							t, _ := cp.tier(i, int(j))
							vol[k][x], tier[k][x] = comp.volunteers[j], int8(t)
						}
					}
				}
			}
		})
	}
	for c := range components {
		work <- c
	}
	close(work)
	wg.Wait()
	res := collectOrdered(pool.Requests, pool.Volunteers, rOrder, vol, func(k int, i int32) int { return int(tier[k][i]) })
	res.Optimal = !slices.Contains(optimal, false)
	return res
}

// component lists the people of one component, as indices in the pool's
// requests and volunteers, in sign-up order.
type component struct {
	requests, volunteers []int32
}

// split groups the pool into the sets no eligible pair crosses: a
// département, joined to others by the intercommunalities spanning them.
// Each keeps the order given. Largest first, so the workers finish together.
func split(requests, volunteers []Person, rOrder, vOrder []int32) []component {
	// Union-find over départements and intercommunalities, numbered apart.
	deps, epcis := map[string]int32{}, map[string]int32{}
	var parent []int32
	node := func(m map[string]int32, k string) int32 {
		id, ok := m[k]
		if !ok {
			id = int32(len(parent))
			m[k] = id
			parent = append(parent, id)
		}
		return id
	}
	find := func(x int32) int32 {
		root := x
		for parent[root] != root {
			root = parent[root]
		}
		for parent[x] != root {
			parent[x], x = root, parent[x]
		}
		return root
	}
	depOf := func(people []Person) []int32 {
		out := make([]int32, len(people))
		for i, p := range people {
			out[i] = node(deps, p.Place.Departement)
			if p.Place.EPCI != "" {
				parent[find(node(epcis, p.Place.EPCI))] = find(out[i])
			}
		}
		return out
	}
	rDep, vDep := depOf(requests), depOf(volunteers)
	// Components numbered as they are met, requests first; counted, then
	// filled, so that each list is allocated once.
	index := make([]int32, len(parent)) // root -> component + 1
	var sizes [][2]int
	at := func(dep int32) int32 {
		root := find(dep)
		if index[root] == 0 {
			sizes = append(sizes, [2]int{})
			index[root] = int32(len(sizes))
		}
		return index[root] - 1
	}
	for _, i := range rOrder {
		c := at(rDep[i])
		sizes[c][0]++
	}
	for _, j := range vOrder {
		c := at(vDep[j])
		sizes[c][1]++
	}
	out := make([]component, len(sizes))
	for c, n := range sizes {
		out[c] = component{make([]int32, 0, n[0]), make([]int32, 0, n[1])}
	}
	for _, i := range rOrder {
		c := &out[at(rDep[i])]
		c.requests = append(c.requests, i)
	}
	for _, j := range vOrder {
		c := &out[at(vDep[j])]
		c.volunteers = append(c.volunteers, j)
	}
	slices.SortStableFunc(out, func(a, b component) int {
		return (len(b.requests) + len(b.volunteers)) - (len(a.requests) + len(a.volunteers))
	})
	return out
}

// rankOrder is the indices of people in sign-up order, the pool's order
// among equal ranks.
func rankOrder(people []Person) []int32 {
	// Sorted as (rank, index) pairs: no indirection in the comparisons.
	type key struct {
		rank  int
		index int32
	}
	keys := make([]key, len(people))
	for i, p := range people {
		keys[i] = key{p.Rank, int32(i)}
	}
	slices.SortFunc(keys, func(a, b key) int {
		if c := cmp.Compare(a.rank, b.rank); c != 0 {
			return c
		}
		return cmp.Compare(a.index, b.index)
	})
	order := make([]int32, len(people))
	for k, x := range keys {
		order[k] = x.index
	}
	return order
}

func byRank(people []Person) []Person {
	out := make([]Person, len(people))
	for k, i := range rankOrder(people) {
		out[k] = people[i]
	}
	return out
}

func wants(p Person, round int) bool { return slices.Contains(p.Rounds, round) }

// collect is collectOrdered for results kept by ID: requests and
// volunteers are in sign-up order, assigned maps a round's requests to
// their volunteers. IDs are unique in a pool.
func collect(requests, volunteers []Person, assigned map[int]map[string]string) Result {
	volIndex := make(map[string]int32, len(volunteers))
	for j, v := range volunteers {
		volIndex[v.ID] = int32(j)
	}
	order := make([]int32, len(requests))
	var vol [2][]int32
	for k := range vol {
		vol[k] = make([]int32, len(requests))
	}
	for i, r := range requests {
		order[i] = int32(i)
		for k := range vol {
			vol[k][i] = -1
			if v, ok := assigned[k+1][r.ID]; ok {
				vol[k][i] = volIndex[v]
			}
		}
	}
	return collectOrdered(requests, volunteers, order, vol, func(k int, i int32) int {
		t, _ := Tier(requests[i].Place, volunteers[vol[k][i]].Place)
		return t
	})
}

// collectOrdered builds the result, requests in the order given: vol[k][i]
// is the volunteer of request i in round k+1, or -1, and tier(k, i) their
// tier.
func collectOrdered(requests, volunteers []Person, order []int32, vol [2][]int32, tier func(k int, i int32) int) Result {
	var res Result
	// Every match's rounds are cut from one array, capped so that appending
	// to one cannot reach the next.
	backing := make([]int, 0, 2*len(requests))
	res.Matches = make([]Match, 0, len(requests))
	for _, i := range order {
		r := &requests[i]
		complete := true
		var has [2]bool
		for _, round := range r.Rounds {
			if round != 1 && round != 2 || vol[round-1][i] < 0 {
				complete = false
			} else {
				has[round-1] = true
			}
		}
		if !complete {
			res.Unmatched = append(res.Unmatched, r.ID)
		}
		if has[0] && has[1] {
			res.Both++
			if vol[0][i] != vol[1][i] {
				res.Split++
			}
		}
		var last *Match
		for k := range 2 {
			if !has[k] {
				continue
			}
			v := vol[k][i]
			t := tier(k, i)
			res.Units++
			res.TierSum += t
			if last != nil && last.Volunteer == volunteers[v].ID {
				last.Rounds = last.Rounds[:2:2]
				last.Rounds[1] = k + 1
				continue
			}
			n := len(backing)
			backing = append(backing, k+1, 0)
			res.Matches = append(res.Matches, Match{Request: r.ID, Volunteer: volunteers[v].ID, Rounds: backing[n : n+1 : n+2], Tier: t})
			last = &res.Matches[len(res.Matches)-1]
		}
	}
	if len(res.Matches) == 0 {
		res.Matches = nil
	}
	return res
}

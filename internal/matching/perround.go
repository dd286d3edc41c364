package matching

import (
	"maps"
	"runtime"
	"slices"
	"sync"
)

// PerRound is the engine as it was before rounds were optimised together:
// each round an independent min-cost max-flow, "same volunteer for both
// rounds" only a tie-break below the tiers. It is kept so that the bench can
// show, in the same run, how many both-round requests it splits.
func PerRound(pool Pool) Result {
	requests := byRank(pool.Requests)
	volunteers := byRank(pool.Volunteers)
	declinedBy := map[string]map[string]bool{}
	for p := range pool.Declined {
		if declinedBy[p.Request] == nil {
			declinedBy[p.Request] = map[string]bool{}
		}
		declinedBy[p.Request][p.Volunteer] = true
	}
	var components []struct{ requests, volunteers []Person }
	for _, c := range split(requests, volunteers, identity(len(requests)), identity(len(volunteers))) {
		var rs, vs []Person
		for _, i := range c.requests {
			rs = append(rs, requests[i])
		}
		for _, j := range c.volunteers {
			vs = append(vs, volunteers[j])
		}
		components = append(components, struct{ requests, volunteers []Person }{rs, vs})
	}
	assigned := map[int]map[string]string{} // round -> request -> volunteer
	for _, round := range []int{1, 2} {
		assigned[round] = map[string]string{}
		results := make([]map[string]string, len(components))
		// Components share no eligible pair: they are solved apart, two at a time.
		var wg sync.WaitGroup
		work := make(chan int)
		for range runtime.GOMAXPROCS(0) {
			wg.Go(func() {
				for c := range work {
					results[c] = perRoundSolve(round, components[c].requests, components[c].volunteers, declinedBy, assigned[1])
				}
			})
		}
		for c := range components {
			work <- c
		}
		close(work)
		wg.Wait()
		for _, r := range results {
			maps.Copy(assigned[round], r)
		}
	}
	return collect(requests, volunteers, assigned)
}

// perRoundSolve builds the flow network of one round and solves it. Requests
// reach volunteers through hubs (one per station, commune, intercommunality,
// arrondissement, département) whose entry costs the tier, so the network
// stays linear in the pool's size. A request with declined pairs links to
// its eligible volunteers directly instead, leaving the declined ones out.
//
// Costs are tier×scale + penalty, scale exceeding any sum of penalties, so
// that the tier sum is minimised first. The penalty expresses "one
// volunteer for both rounds": in round 1, a both-rounds request pays 1 for a
// volunteer who does not offer round 2; in round 2, it pays 1 for anyone but
// its round 1 volunteer. Such requests enter a second set of hubs whose
// exits carry the penalty.
func perRoundSolve(round int, requests, volunteers []Person, declinedBy map[string]map[string]bool, previous map[string]string) map[string]string {
	var reqs, vols []int
	for i, r := range requests {
		if wants(r, round) {
			reqs = append(reqs, i)
		}
	}
	for j, v := range volunteers {
		if wants(v, round) {
			vols = append(vols, j)
		}
	}
	if len(reqs) == 0 || len(vols) == 0 {
		return map[string]string{}
	}
	scale := int64(len(reqs) + 1)
	prefers := func(r Person) bool {
		if round == 1 {
			return wants(r, 2)
		}
		_, ok := previous[r.ID]
		return ok
	}
	penalty := func(r Person, v Person) int64 {
		switch {
		case !prefers(r):
			return 0
		case round == 1 && !wants(v, 2):
			return 1
		case round == 2 && previous[r.ID] != v.ID:
			return 1
		}
		return 0
	}

	// Nodes: 0 source, 1 sink, then requests, volunteers, hubs.
	const source, sink = 0, 1
	next := int32(2)
	reqNode := make(map[int]int32, len(reqs))
	for _, i := range reqs {
		reqNode[i] = next
		next++
	}
	volNode := make(map[int]int32, len(vols))
	nodeVolunteer := make(map[int32]int, len(vols))
	volunteerIndex := map[string]int{}
	for _, j := range vols {
		volNode[j] = next
		nodeVolunteer[next] = j
		volunteerIndex[volunteers[j].ID] = j
		next++
	}
	members := map[string][]int{} // hub key -> volunteers, in sign-up order
	for _, j := range vols {
		for _, key := range hubKeys(volunteers[j].Place) {
			if key != "" {
				members[key] = append(members[key], j)
			}
		}
	}
	type hubID struct {
		key  string
		pref bool
	}
	hubs := map[hubID]int32{}
	g := newGraph()
	// Each node tries its arcs last-added first, so arcs are added in reverse
	// of the preferred order: earlier sign-ups first.
	for k := len(vols) - 1; k >= 0; k-- {
		g.add(volNode[vols[k]], sink, 0)
	}
	hub := func(key string, r Person) int32 {
		id := hubID{key, prefers(r)}
		if n, ok := hubs[id]; ok {
			return n
		}
		n := next
		next++
		hubs[id] = n
		m := members[key]
		for k := len(m) - 1; k >= 0; k-- {
			exit := int64(0)
			if id.pref && (round == 2 || !wants(volunteers[m[k]], 2)) {
				// In round 2 the request's own round 1 volunteer is reached
				// by a direct arc at no penalty, never through a hub.
				exit = 1
			}
			g.add(n, volNode[m[k]], exit)
		}
		return n
	}
	for k := len(reqs) - 1; k >= 0; k-- {
		i := reqs[k]
		r := requests[i]
		if declined := declinedBy[r.ID]; len(declined) > 0 {
			for m := len(vols) - 1; m >= 0; m-- {
				v := volunteers[vols[m]]
				if declined[v.ID] {
					continue
				}
				if tier, ok := Tier(r.Place, v.Place); ok {
					g.add(reqNode[i], volNode[vols[m]], int64(tier)*scale+penalty(r, v))
				}
			}
		} else {
			keys := hubKeys(r.Place)
			for l := levels - 1; l >= 0; l-- {
				if keys[l] != "" && len(members[keys[l]]) > 0 {
					g.add(reqNode[i], hub(keys[l], r), int64(l)*scale)
				}
			}
			if v, ok := previous[r.ID]; ok && round == 2 {
				if j, ok := volunteerIndex[v]; ok {
					if tier, ok := Tier(r.Place, volunteers[j].Place); ok {
						g.add(reqNode[i], volNode[j], int64(tier)*scale)
					}
				}
			}
		}
		g.add(source, reqNode[i], 0)
	}
	g.nodes(int(next))
	g.minCostMaxFlow(source, sink)

	// Decompose: a request's unit goes to a volunteer directly or through a
	// hub; at a hub, requests and volunteers pair in sign-up order.
	hubOut := map[int32][]int{}
	for _, n := range hubs {
		var out []int
		for e, end := g.arcs(n); e < end; e++ {
			if g.used(e) {
				out = append(out, nodeVolunteer[g.to[e]])
			}
		}
		slices.Sort(out)
		hubOut[n] = out
	}
	assigned := map[string]string{}
	for _, i := range reqs {
		for e, end := g.arcs(reqNode[i]); e < end; e++ {
			if !g.used(e) {
				continue
			}
			to := g.to[e]
			if j, ok := nodeVolunteer[to]; ok {
				assigned[requests[i].ID] = volunteers[j].ID
			} else if out := hubOut[to]; len(out) > 0 {
				assigned[requests[i].ID] = volunteers[out[0]].ID
				hubOut[to] = out[1:]
			}
		}
	}
	return assigned
}

func identity(n int) []int32 {
	out := make([]int32, n)
	for i := range out {
		out[i] = int32(i)
	}
	return out
}

package matching

// Why a branch and bound: minimising splits among maximum matchings is
// NP-hard when eligibility is arbitrary (declined pairs can make it so).
// Sketch, from 3-dimensional matching (X, Y, Z of size q, triples T): a
// both-round volunteer per triple; per x a round-1 request eligible with
// the triples holding x; per y a round-2 request likewise; per z holding c
// triples, c-1 both-round requests eligible with those triples. When both
// rounds can cover every volunteer (else the answer is no), a maximum
// solution with no split must give each both-round request its two units
// from one volunteer (there are exactly 2|T| units to place and 2|T| slots),
// so it pairs all but one triple per z, and the q triples left take distinct
// x in round 1 and distinct y in round 2: a perfect 3-dimensional matching,
// and conversely. So no polynomial algorithm is exact unless P = NP; the
// descent is polynomial and this search, exponential in the worst case,
// runs where the component is small.

// exact runs a branch and bound over the pairs a both-round request may
// form, seeded with the descent's solution. A node fixes some pairs (a
// request and a volunteer together for both rounds, out of the rest) and
// marks some requests unpaired. Its relaxation is one min-cost max-flow over
// both rounds where a request's second unit costs a split if it is marked,
// nothing if it is still open: every completion of the node costs at least
// that much, so the relaxation bounds the subtree. If no open request is
// covered by two volunteers in it, the relaxation is itself a solution of
// the subtree's best cost; otherwise the node branches on such a request:
// paired with each volunteer it may pair with, or unpaired. Every solution
// lies in a branch, so the search is exact. It gives up after nodes
// relaxations, keeping the best found, and says so.
func (cp *comp) exact(a1, a2 []int32, nodes int) ([]int32, []int32, bool) {
	n := len(cp.reqs)
	best := cp.score(a1, a2)
	bestA1, bestA2 := a1, a2
	split := int64(8*n + 1) // exceeds any tier sum
	weight := func(s score) (int, int64) { return s.units, int64(s.split)*split + int64(s.tiers) }

	mark := make([]int8, n)       // 0 open, 1 unpaired
	pairedReq := make([]int32, n) // fixed pair's volunteer, or -1
	pairedVol := make([]bool, len(cp.vols))
	for i := range pairedReq {
		pairedReq[i] = -1
	}
	used := 0
	var search func() bool
	search = func() bool {
		if used >= nodes {
			return false
		}
		used++
		r1, r2, units, cost := cp.relax(mark, pairedReq, pairedVol, split)
		bu, bc := weight(best)
		if units < bu || (units == bu && cost >= bc) {
			return true // nothing better below
		}
		branch := -1
		for i := range n {
			if mark[i] == 0 && pairedReq[i] < 0 && r1[i] >= 0 && r2[i] >= 0 && r1[i] != r2[i] {
				branch = i
				break
			}
		}
		if branch < 0 {
			if s := cp.score(r1, r2); s.better(best) {
				best, bestA1, bestA2 = s, r1, r2
			}
			return true
		}
		i := branch
		// Pair with the volunteers the relaxation gave it first, then the others.
		try := []int32{r1[i], r2[i]}
		for j := range cp.vols {
			if j32 := int32(j); j32 != r1[i] && j32 != r2[i] {
				try = append(try, j32)
			}
		}
		for _, j := range try {
			if !cp.bothVol(int(j)) || pairedVol[j] {
				continue
			}
			if _, ok := cp.tier(i, int(j)); !ok {
				continue
			}
			pairedReq[i], pairedVol[j] = j, true
			ok := search()
			pairedReq[i], pairedVol[j] = -1, false
			if !ok {
				return false
			}
		}
		mark[i] = 1
		ok := search()
		mark[i] = 0
		return ok
	}
	done := search()
	return bestA1, bestA2, done
}

// relax solves a node's relaxation: both rounds in one network, a request's
// entry carrying one arc per round it asks for, the second priced split if
// the request is marked unpaired. Fixed pairs are out of the network and
// added back. It returns the assignments, units and cost (splits priced,
// plus tiers).
func (cp *comp) relax(mark []int8, pairedReq []int32, pairedVol []bool, split int64) (a1, a2 []int32, units int, cost int64) {
	n, m := len(cp.reqs), len(cp.vols)
	a1, a2 = make([]int32, n), make([]int32, n)
	const source, sink = 0, 1
	// Nodes: entry, round 1, round 2 per request; round 1, round 2 per volunteer.
	entry := func(i int) int32 { return int32(2 + 3*i) }
	reqRound := func(i, k int) int32 { return int32(2 + 3*i + 1 + k) }
	volRound := func(j, k int) int32 { return int32(2 + 3*n + 2*j + k) }
	g := newGraph()
	for j := m - 1; j >= 0; j-- {
		if pairedVol[j] {
			continue
		}
		for k := range 2 {
			if cp.vo[k][j] {
				g.add(volRound(j, k), sink, 0)
			}
		}
	}
	for i := n - 1; i >= 0; i-- {
		a1[i], a2[i] = -1, -1
		if j := pairedReq[i]; j >= 0 {
			t, _ := cp.tier(i, int(j))
			a1[i], a2[i] = j, j
			units += 2
			cost += 2 * int64(t)
			continue
		}
		asks := 0
		for k := range 2 {
			if !cp.rq[k][i] {
				continue
			}
			asks++
			g.add(entry(i), reqRound(i, k), 0)
			for j := m - 1; j >= 0; j-- {
				if pairedVol[j] || !cp.vo[k][j] {
					continue
				}
				if t, ok := cp.tier(i, j); ok {
					g.add(reqRound(i, k), volRound(j, k), int64(t))
				}
			}
		}
		if asks == 2 {
			second := int64(0)
			if mark[i] == 1 {
				second = split
			}
			g.add(source, entry(i), second)
		}
		if asks > 0 {
			g.add(source, entry(i), 0)
		}
	}
	g.nodes(int(2 + 3*n + 2*m))
	units += g.minCostMaxFlow(source, sink)
	for i := range n {
		if pairedReq[i] >= 0 {
			continue
		}
		for k, a := range [2][]int32{a1, a2} {
			if !cp.rq[k][i] {
				continue
			}
			for e, end := g.arcs(reqRound(i, k)); e < end; e++ {
				if g.used(e) {
					j := (g.to[e] - volRound(0, 0)) / 2
					a[i] = j
					t, _ := cp.tier(i, int(j))
					cost += int64(t)
				}
			}
		}
		if mark[i] == 1 && a1[i] >= 0 && a2[i] >= 0 {
			cost += split
		}
	}
	return a1, a2, units, cost
}

package matching

import "slices"

// comp is one component of the pool, indexed: requests and volunteers in
// sign-up order, their rounds, the hubs they belong to and their declined
// pairs, so that the flows below touch no string.
type comp struct {
	reqs, vols []int32 // indices in the pool, in sign-up order
	// rq[k][i] and vo[k][j]: request i asks for round k+1, volunteer j offers it.
	rq, vo     [2][]bool
	rhub, vhub [][levels]int32 // hub per level, -1 where the key is empty
	nhubs      int
	declined   []map[int32]bool // per request, nil when it declined no one
	most       [2]int           // a round's maximum units, once a plain matching found them
	plainNet   [2]*roundNet     // see plain
}

type hubKey struct {
	level int8
	a, b  string
}

// newComp indexes component c of the pool's requests and volunteers;
// declinedBy lists, per request ID, the IDs of the volunteers it declined.
func newComp(c component, requests, volunteers []Person, declinedBy map[string][]string) *comp {
	cp := &comp{reqs: c.requests, vols: c.volunteers}
	ids := map[hubKey]int32{}
	id := func(k hubKey) int32 {
		n, ok := ids[k]
		if !ok {
			n = int32(len(ids))
			ids[k] = n
		}
		return n
	}
	// People of a commune share its four wider hubs: they are looked up
	// once per (commune, intercommunality, arrondissement, département).
	type area struct{ commune, epci, arrondissement, departement string }
	wider := map[area][levels]int32{}
	hubs := func(p *Place) [levels]int32 {
		out := [levels]int32{-1, -1, -1, -1, -1}
		if p.Station != "" {
			out[SameStation] = id(hubKey{SameStation, p.Commune, p.Station})
		}
		a := area{p.Commune, p.EPCI, p.Arrondissement, p.Departement}
		w, ok := wider[a]
		if !ok {
			w = out
			keys := [levels]hubKey{
				{}, {SameCommune, p.Commune, ""}, {SameIntercommunality, p.EPCI, ""},
				{SameArrondissement, p.Departement, p.Arrondissement}, {SameDepartement, p.Departement, ""},
			}
			empty := [levels]bool{true, p.Commune == "", p.EPCI == "", p.Arrondissement == "", p.Departement == ""}
			for l, k := range keys {
				if !empty[l] {
					w[l] = id(k)
				}
			}
			wider[a] = w
		}
		for l := SameCommune; l < levels; l++ {
			out[l] = w[l]
		}
		return out
	}
	for k := range 2 {
		cp.rq[k] = make([]bool, len(cp.reqs))
		cp.vo[k] = make([]bool, len(cp.vols))
	}
	cp.rhub = make([][levels]int32, len(cp.reqs))
	cp.vhub = make([][levels]int32, len(cp.vols))
	for i, x := range cp.reqs {
		r := &requests[x]
		cp.rq[0][i], cp.rq[1][i] = wants(*r, 1), wants(*r, 2)
		cp.rhub[i] = hubs(&r.Place)
	}
	for j, x := range cp.vols {
		v := &volunteers[x]
		cp.vo[0][j], cp.vo[1][j] = wants(*v, 1), wants(*v, 2)
		cp.vhub[j] = hubs(&v.Place)
	}
	cp.nhubs = len(ids)
	if len(declinedBy) > 0 {
		var volIndex map[string]int32 // built for the first request that declined someone
		cp.declined = make([]map[int32]bool, len(cp.reqs))
		for i, x := range cp.reqs {
			ds := declinedBy[requests[x].ID]
			if len(ds) == 0 {
				continue
			}
			if volIndex == nil {
				volIndex = make(map[string]int32, len(cp.vols))
				for j, y := range cp.vols {
					volIndex[volunteers[y].ID] = int32(j)
				}
			}
			for _, id := range ds {
				if j, ok := volIndex[id]; ok {
					if cp.declined[i] == nil {
						cp.declined[i] = map[int32]bool{}
					}
					cp.declined[i][j] = true
				}
			}
		}
	}
	return cp
}

func (cp *comp) both(i int) bool    { return cp.rq[0][i] && cp.rq[1][i] }
func (cp *comp) bothVol(j int) bool { return cp.vo[0][j] && cp.vo[1][j] }

// tier of request i with volunteer j, or false when they may not pair
// (too far, or declined). It is Tier's: the lowest level whose hub they
// share.
func (cp *comp) tier(i, j int) (int, bool) {
	if cp.declined != nil && cp.declined[i][int32(j)] {
		return 0, false
	}
	r, v := &cp.rhub[i], &cp.vhub[j]
	for l := range levels {
		if r[l] >= 0 && r[l] == v[l] {
			return l, true
		}
	}
	return 0, false
}

// score is the objective of a pair of round assignments: units, splits,
// tier sum.
type score struct{ units, split, tiers int }

// better is the lexicographic order of the objective.
func (a score) better(b score) bool {
	if a.units != b.units {
		return a.units > b.units
	}
	if a.split != b.split {
		return a.split < b.split
	}
	return a.tiers < b.tiers
}

func (cp *comp) score(a1, a2 []int32) score {
	var s score
	for i := range cp.reqs {
		for _, a := range [2][]int32{a1, a2} {
			if a[i] >= 0 {
				t, _ := cp.tier(i, int(a[i]))
				s.units++
				s.tiers += t
			}
		}
		if a1[i] >= 0 && a2[i] >= 0 && a1[i] != a2[i] {
			s.split++
		}
	}
	return s
}

// steps bounds the descent after its first two solves.
const steps = 4

// descend alternates the rounds: round 1 is solved first, both-round
// requests steered to both-round volunteers; then each round in turn is
// re-solved with the other fixed. Every step keeps its round a maximum
// matching and minimises (splits, tiers) given the other round (exactly
// below fastFrom people, nearly above); a step is kept only if it scores
// better, so the objective never worsens, and the descent stops when a step
// gains nothing.
func (cp *comp) descend() (a1, a2 []int32) {
	a1 = cp.round(0, nil)
	a2 = cp.round(1, a1)
	best := cp.score(a1, a2)
	// basis[k] is the other round's assignment that round k+1's was solved
	// against (nil: none, round 1's first solve). A round solves the same
	// way against the same assignment, so a step that would re-solve it
	// against its basis would give it back, no better: it is skipped.
	basis := [2][]int32{nil, a1}
	for step := 0; step < steps; step++ {
		k := step % 2 // re-solve round 1, then round 2, ...
		var n1, n2 []int32
		s := best
		if k == 0 && !(basis[0] != nil && slices.Equal(basis[0], a2)) {
			n1, n2 = cp.round(0, a2), a2
			s = cp.score(n1, n2)
		} else if k == 1 && !slices.Equal(basis[1], a1) {
			n1, n2 = a1, cp.round(1, a1)
			s = cp.score(n1, n2)
		}
		if !s.better(best) {
			if step > 0 {
				break
			}
			continue
		}
		if k == 0 {
			basis[0] = a2
		} else {
			basis[1] = a1
		}
		a1, a2, best = n1, n2, s
	}
	return a1, a2
}

// round solves round k+1 as a min-cost max-flow. With other nil (round 1,
// first step), a both-round request pays the penalty for a volunteer who
// does not offer round 2; otherwise a request covered in the other round
// pays it for anyone but that round's volunteer, which is exactly a split.
// The penalty exceeds any sum of tiers, so the flow covers as many requests
// as possible, then splits as few, then is nearest.
//
// Requests reach volunteers through hubs (one per station, commune,
// intercommunality, arrondissement, département) whose entry costs the
// tier, so the network stays linear in the pool's size. A request with
// declined pairs links to its eligible volunteers directly instead, leaving
// the declined ones out; a request's own other-round volunteer is linked
// directly, at no penalty.
func (cp *comp) round(k int, other []int32) []int32 {
	if len(cp.reqs)+len(cp.vols) < fastFrom {
		return cp.build(k, other, nil, nil, false).solve(nil)
	}
	return cp.fastRound(k, other)
}

// roundNet is one round's network, built by build.
type roundNet struct {
	g                *graph
	reqs             []int32 // requests in the network, in sign-up order
	reqNode, volNode []int32
	nodeVol          []int32
	firstVol         int32
	hubs             []int32
	hubNode          []int32 // per (hub, steered)
	assigned         []int32
	cp               *comp
	zeroCost         bool
}

// build lays out round k+1's network over the requests and volunteers not
// skipped; with zeroCost every arc costs nothing (a plain maximum matching).
func (cp *comp) build(k int, other []int32, skipReq, skipVol []bool, zeroCost bool) *roundNet {
	assigned := make([]int32, len(cp.reqs))
	for i := range assigned {
		assigned[i] = -1
	}
	var reqs, vols []int32
	for i := range cp.reqs {
		if cp.rq[k][i] && (skipReq == nil || !skipReq[i]) {
			reqs = append(reqs, int32(i))
		}
	}
	for j := range cp.vols {
		if cp.vo[k][j] && (skipVol == nil || !skipVol[j]) {
			vols = append(vols, int32(j))
		}
	}
	rn := &roundNet{reqs: reqs, assigned: assigned, cp: cp, zeroCost: zeroCost}
	if len(reqs) == 0 || len(vols) == 0 {
		return rn
	}
	penalty := int64(4*len(reqs) + 1)
	scale := int64(1)
	if zeroCost {
		penalty, scale = 0, 0
	}
	// pays(i): request i pays the penalty on every path but the free ones.
	pays := func(i int32) bool {
		if zeroCost {
			return false
		}
		if other == nil {
			return cp.both(int(i))
		}
		return other[i] >= 0
	}
	free := func(i, j int32) bool { // no penalty for i taking j
		if other == nil {
			return cp.bothVol(int(j))
		}
		return other[i] == j
	}

	// Nodes: 0 source, 1 sink, then requests, volunteers, hubs.
	const source, sink = 0, 1
	next := int32(2)
	reqNode := make([]int32, len(cp.reqs))
	for _, i := range reqs {
		reqNode[i] = next
		next++
	}
	volNode := make([]int32, len(cp.vols))
	nodeVol := make([]int32, 0, len(vols)) // node - firstVol -> volunteer
	firstVol := next
	for _, j := range vols {
		volNode[j] = next
		nodeVol = append(nodeVol, j)
		next++
	}
	// Hub members, in sign-up order: counted, then filled.
	start := make([]int32, cp.nhubs+1)
	for _, j := range vols {
		for _, h := range cp.vhub[j] {
			if h >= 0 {
				start[h+1]++
			}
		}
	}
	for h := range cp.nhubs {
		start[h+1] += start[h]
	}
	members := make([]int32, start[cp.nhubs])
	fill := append([]int32(nil), start[:cp.nhubs]...)
	for _, j := range vols {
		for _, h := range cp.vhub[j] {
			if h >= 0 {
				members[fill[h]] = j
				fill[h]++
			}
		}
	}
	// A hub node per (hub, steered): in the first step both-round requests
	// enter hubs of their own whose exits to one-round volunteers carry the
	// penalty. Later steps price the entry instead, so one set suffices.
	hubNode := make([]int32, 2*cp.nhubs)
	for h := range hubNode {
		hubNode[h] = -1
	}
	var hubs []int32 // nodes of the hubs created, for the decomposition
	g := newGraph()
	g.reserve(2*len(vols) + len(members) + (levels+2)*len(reqs))
	// Each node tries its arcs last-added first, so arcs are added in reverse
	// of the preferred order: earlier sign-ups first.
	for m := len(vols) - 1; m >= 0; m-- {
		g.add(volNode[vols[m]], sink, 0)
	}
	hub := func(h int32, steered bool) int32 {
		id := 2 * h
		if steered {
			id++
		}
		if n := hubNode[id]; n >= 0 {
			return n
		}
		n := next
		next++
		hubNode[id] = n
		hubs = append(hubs, n)
		m := members[start[h]:start[h+1]]
		for x := len(m) - 1; x >= 0; x-- {
			exit := int64(0)
			if steered && !cp.bothVol(int(m[x])) {
				exit = penalty
			}
			g.add(n, volNode[m[x]], exit)
		}
		return n
	}
	for x := len(reqs) - 1; x >= 0; x-- {
		i := reqs[x]
		p := pays(i)
		if cp.declined != nil && cp.declined[i] != nil {
			for m := len(vols) - 1; m >= 0; m-- {
				j := vols[m]
				if tier, ok := cp.tier(int(i), int(j)); ok {
					c := int64(tier)
					if p && !free(i, j) {
						c += penalty
					}
					g.add(reqNode[i], volNode[j], c*scale)
				}
			}
		} else {
			steered := p && other == nil
			entry := int64(0)
			if p && other != nil {
				entry = penalty
			}
			for l := levels - 1; l >= 0; l-- {
				if h := cp.rhub[i][l]; h >= 0 && start[h+1] > start[h] {
					g.add(reqNode[i], hub(h, steered), int64(l)*scale+entry)
				}
			}
			if p && other != nil {
				if j := other[i]; cp.vo[k][j] {
					if tier, ok := cp.tier(int(i), int(j)); ok {
						g.add(reqNode[i], volNode[j], int64(tier)*scale)
					}
				}
			}
		}
		g.add(source, reqNode[i], 0)
	}
	g.nodes(int(next))
	rn.g, rn.reqNode, rn.volNode, rn.nodeVol, rn.firstVol, rn.hubs, rn.hubNode = g, reqNode, volNode, nodeVol, firstVol, hubs, hubNode
	return rn
}

func (rn *roundNet) solve(prefer []int32) []int32 {
	if rn.g != nil {
		if rn.zeroCost {
			rn.g.maxFlow(0, 1, -1)
		} else {
			rn.g.minCostMaxFlow(0, 1)
		}
		rn.decompose(prefer)
	}
	return rn.assigned
}

// decompose reads the assignment off the flow: a request's unit goes to a
// volunteer directly or through a hub; at a hub, a request meets the
// volunteer it is given in prefer if that one leaves the same hub, and the
// others pair in sign-up order.
func (rn *roundNet) decompose(prefer []int32) {
	g, firstVol, nodeVol := rn.g, rn.firstVol, rn.nodeVol
	// Hub nodes follow the volunteers' and were numbered as created: hub
	// node n's volunteers are hubOut[n-firstHub], cut from one array.
	firstHub := firstVol + int32(len(nodeVol))
	isVol := func(n int32) bool { return n >= firstVol && n < firstHub }
	bounds := make([]int32, len(rn.hubs)+1)
	var used []int32
	for h, n := range rn.hubs {
		for a, end := g.arcs(n); a < end; a++ {
			if g.used(a) {
				used = append(used, nodeVol[g.to[a]-firstVol])
			}
		}
		bounds[h+1] = int32(len(used))
	}
	hubOut := make([][]int32, len(rn.hubs))
	for h := range hubOut {
		hubOut[h] = used[bounds[h]:bounds[h+1]:bounds[h+1]]
		slices.Sort(hubOut[h])
	}
	via := make([]int32, len(rn.assigned)) // hub a request went through, as n-firstHub
	for _, i := range rn.reqs {
		rn.assigned[i], via[i] = -1, -1
		for a, end := g.arcs(rn.reqNode[i]); a < end; a++ {
			if !g.used(a) {
				continue
			}
			if to := g.to[a]; isVol(to) {
				rn.assigned[i] = nodeVol[to-firstVol]
			} else if to >= firstHub {
				via[i] = to - firstHub
			}
		}
	}
	if prefer != nil {
		for _, i := range rn.reqs {
			if via[i] < 0 || prefer[i] < 0 {
				continue
			}
			out := hubOut[via[i]]
			if x, found := slices.BinarySearch(out, prefer[i]); found {
				rn.assigned[i], via[i] = prefer[i], -1
				out[x] = -1 - out[x] // taken
			}
		}
	}
	for _, i := range rn.reqs {
		if via[i] < 0 {
			continue
		}
		out := hubOut[via[i]]
		for len(out) > 0 && out[0] < 0 {
			out = out[1:]
		}
		if len(out) > 0 {
			rn.assigned[i] = out[0]
			out = out[1:]
		}
		hubOut[via[i]] = out
	}
	// A request that paid the penalty into a hub never meets its own
	// other-round volunteer there: the direct arc would have been cheaper.
	// So pairing a hub's requests and volunteers in any order leaves each
	// path's cost, hence the optimum, as the flow found it.
}

// fastFrom is the size of component from which a round is solved in two
// stages: see fastRound.
var fastFrom = 2000

// preLevel is the highest hub level of the greedy stage.
const preLevel = SameCommune

// fastRound solves a large round in two stages. First the obvious pairs are
// taken greedily, in sign-up order, within a station then within a
// commune: a request with its other-round volunteer, then requests with
// volunteers they pay no penalty for. The min-cost flow then runs on the
// people left, a fraction of the pool. Last, a plain maximum matching over
// everyone, started from that assignment, checks the units: where the
// greedy stage cost some, the people that matching had to move are given
// back to the flow and the flow runs again (and if units are still short
// after a few rounds of that, the plain matching's result is kept). So the
// round always keeps as many units as the exact flow; only its cost may be
// a little above the optimum, and the descent keeps a step only when it
// scores better.
func (cp *comp) fastRound(k int, other []int32) []int32 {
	pre, takenReq, takenVol := cp.prematch(k, other)
	preOf := make([]int32, len(cp.vols)) // volunteer -> request it was pre-matched to
	for j := range preOf {
		preOf[j] = -1
	}
	for i, j := range pre {
		if j >= 0 {
			preOf[j] = int32(i)
		}
	}
	release := func(i int32) {
		if i >= 0 && takenReq[i] {
			j := pre[i]
			takenReq[i], takenVol[j], pre[i], preOf[j] = false, false, -1, -1
		}
	}
	for attempt := 0; ; attempt++ {
		merged := cp.build(k, other, takenReq, takenVol, false).solve(nil)
		for i, j := range pre {
			if j >= 0 {
				merged[i] = j
			}
		}
		if cp.most[k] > 0 && count(merged) == cp.most[k] {
			return merged // as many units as a plain maximum matching found before
		}
		full := cp.plain(k)
		if full.g == nil {
			return merged
		}
		want := -1 // units the flow may still add, when known
		if sent := full.setFlow(merged); cp.most[k] > 0 {
			want = cp.most[k] - sent
		}
		full.g.maxFlow(0, 1, want)
		full.decompose(merged)
		out := full.assigned
		cp.most[k] = count(out)
		if count(out) == count(merged) || attempt == 3 {
			return out
		}
		// The greedy stage cost units: give the people the plain matching
		// moved back to the flow, and solve again.
		for i := range out {
			if out[i] != merged[i] {
				release(int32(i))
				for _, j := range []int32{out[i], merged[i]} {
					if j >= 0 {
						release(preOf[j])
					}
				}
			}
		}
	}
}

// prematch takes the obvious pairs of round k+1; see fastRound.
func (cp *comp) prematch(k int, other []int32) (assigned []int32, takenReq, takenVol []bool) {
	assigned = make([]int32, len(cp.reqs))
	for i := range assigned {
		assigned[i] = -1
	}
	takenReq, takenVol = make([]bool, len(cp.reqs)), make([]bool, len(cp.vols))
	take := func(i, j int32) { assigned[i], takenReq[i], takenVol[j] = j, true, true }
	declined := func(i int32) bool { return cp.declined != nil && cp.declined[i] != nil }
	if other != nil {
		for i := range cp.reqs {
			if j := other[i]; cp.rq[k][i] && j >= 0 && cp.vo[k][j] && !takenVol[j] && !declined(int32(i)) {
				take(int32(i), j)
			}
		}
	}
	// Volunteers by hub of the two lowest levels, one-round then both-round
	// (list 2h+b, b = 1 for both-round), in sign-up order, with a cursor
	// past those taken: counted, then filled.
	start := make([]int32, 2*cp.nhubs+1)
	listsOf := func(j int, add func(key int32)) {
		if !cp.vo[k][j] || takenVol[j] {
			return
		}
		b := int32(0)
		if cp.bothVol(j) {
			b = 1
		}
		for l := SameStation; l <= preLevel; l++ {
			if h := cp.vhub[j][l]; h >= 0 {
				add(2*h + b)
			}
		}
	}
	for j := range cp.vols {
		listsOf(j, func(key int32) { start[key+1]++ })
	}
	for x := range 2 * cp.nhubs {
		start[x+1] += start[x]
	}
	lists := make([]int32, start[2*cp.nhubs])
	cursor := slices.Clone(start[:2*cp.nhubs]) // then past those taken
	for j := range cp.vols {
		listsOf(j, func(key int32) {
			lists[cursor[key]] = int32(j)
			cursor[key]++
		})
	}
	copy(cursor, start)
	pick := func(h, b int32) int32 {
		key := 2*h + b
		c, end := cursor[key], start[key+1]
		for c < end && takenVol[lists[c]] {
			c++
		}
		cursor[key] = c
		if c < end {
			return lists[c]
		}
		return -1
	}
	for l := SameStation; l <= preLevel; l++ {
		for i := range cp.reqs {
			i32 := int32(i)
			if !cp.rq[k][i] || takenReq[i] || declined(i32) {
				continue
			}
			h := cp.rhub[i][l]
			if h < 0 {
				continue
			}
			var kinds []int32 // kinds of volunteer it may take at no penalty
			switch {
			case other == nil && cp.both(i):
				kinds = []int32{1}
			case other == nil:
				kinds = []int32{0}
			case other[i] >= 0:
				continue // pays for anyone but its own, who is taken or absent
			default:
				kinds = []int32{0, 1}
			}
			for _, b := range kinds {
				if j := pick(h, b); j >= 0 {
					take(i32, j)
					break
				}
			}
		}
	}
	return assigned, takenReq, takenVol
}

// plain is round k+1's network for a plain maximum matching over everyone,
// without flow: it depends on neither the other round nor the greedy stage,
// so it is built once and emptied for each use.
func (cp *comp) plain(k int) *roundNet {
	rn := cp.plainNet[k]
	if rn == nil {
		rn = cp.build(k, nil, nil, nil, true)
		cp.plainNet[k] = rn
		return rn
	}
	if rn.g != nil {
		rn.g.reset()
	}
	rn.assigned = make([]int32, len(cp.reqs))
	for i := range rn.assigned {
		rn.assigned[i] = -1
	}
	return rn
}

// setFlow makes the network's flow the given assignment, each pair routed
// directly or through the lowest hub they share, and says how many pairs
// it routed.
func (rn *roundNet) setFlow(assigned []int32) (routed int) {
	g := rn.g
	push := func(a int32) { g.cap[a], g.cap[g.rev[a]] = 0, 1 }
	arc := func(u, v int32) int32 { // forward arc u -> v, found from v's side
		for a, end := g.arcs(v); a < end; a++ {
			if !g.fwd[a] && g.to[a] == u {
				return g.rev[a]
			}
		}
		return -1
	}
	out := func(u, v int32) int32 { // forward arc u -> v, found from u's side
		for a, end := g.arcs(u); a < end; a++ {
			if g.fwd[a] && g.to[a] == v {
				return a
			}
		}
		return -1
	}
	// Each arc is looked for from its end with few arcs: a hub or the
	// sink or source has thousands.
	for _, i := range rn.reqs {
		j := assigned[i]
		if j < 0 {
			continue
		}
		r, v := rn.reqNode[i], rn.volNode[j]
		route := out(r, v)
		if route < 0 {
			// Through the lowest hub both belong to.
			for l := range levels {
				h := rn.cp.rhub[i][l]
				if h < 0 || h != rn.cp.vhub[j][l] || rn.hubNode[2*h] < 0 {
					continue
				}
				if a, b := out(r, rn.hubNode[2*h]), arc(rn.hubNode[2*h], v); a >= 0 && b >= 0 {
					push(a)
					route = b
					break
				}
			}
		}
		if route < 0 {
			continue // cannot happen: an assigned pair is eligible
		}
		push(route)
		push(arc(0, r))
		push(out(v, 1))
		routed++
	}
	return routed
}

func count(a []int32) int {
	n := 0
	for _, x := range a {
		if x >= 0 {
			n++
		}
	}
	return n
}

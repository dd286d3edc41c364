package matching

import (
	"math"
	"slices"
)

// graph is a residual network with unit capacities and integer costs. Arcs
// are collected by add, then laid out by tail (compressed rows) the first
// time the flow runs: slot a of the layout holds an arc's head, capacity and
// cost, rev[a] the slot of its reverse, so the solver reads the arcs of a
// node as consecutive memory.
type graph struct {
	// Arcs as added, until layout.
	tail, head []int32
	price      []int32
	n          int
	// first[u]..first[u+1] are the slots of the arcs leaving u, last added
	// first: callers add arcs in reverse of the order they want tried.
	first []int32
	to    []int32
	rev   []int32
	cap   []int8
	cost  []int32
	fwd   []bool // the arc was added (not a reverse)
}

func newGraph() *graph { return &graph{} }

// reserve makes room for about m more arcs, sparing the appends' copies.
func (g *graph) reserve(m int) {
	g.tail = slices.Grow(g.tail, m)
	g.head = slices.Grow(g.head, m)
	g.price = slices.Grow(g.price, m)
}

// add appends an arc of capacity 1; nodes are sized later by nodes().
// Costs fit in 32 bits: a tier times a scale plus a penalty, both bounded by
// a few times the pool's size.
func (g *graph) add(u, v int32, cost int64) {
	g.tail = append(g.tail, u)
	g.head = append(g.head, v)
	g.price = append(g.price, int32(cost))
	if m := int(max(u, v)) + 1; m > g.n {
		g.n = m
	}
}

func (g *graph) nodes(n int) { g.n = max(g.n, n) }

// arcs is the slots of the arcs leaving u: [lo, hi).
func (g *graph) arcs(u int32) (lo, hi int32) {
	g.layout()
	return g.first[u], g.first[u+1]
}

// used says whether slot a is an added arc carrying flow.
func (g *graph) used(a int32) bool { return g.fwd[a] && g.cap[a] == 0 }

func (g *graph) layout() {
	if g.first != nil {
		return
	}
	n, m := g.n, len(g.tail)
	g.first = make([]int32, n+1)
	for i := range m {
		g.first[g.tail[i]+1]++
		g.first[g.head[i]+1]++
	}
	for u := range n {
		g.first[u+1] += g.first[u]
	}
	g.to = make([]int32, 2*m)
	g.rev = make([]int32, 2*m)
	g.cap = make([]int8, 2*m)
	g.cost = make([]int32, 2*m)
	g.fwd = make([]bool, 2*m)
	fill := slices.Clone(g.first[:n])
	// Last added first, the arc and its reverse alike.
	for i := m - 1; i >= 0; i-- {
		u, v, c := g.tail[i], g.head[i], g.price[i]
		a, b := fill[u], fill[v]
		fill[u]++
		fill[v]++
		g.to[a], g.rev[a], g.cap[a], g.cost[a], g.fwd[a] = v, b, 1, c, true
		g.to[b], g.rev[b], g.cost[b] = u, a, -c
	}
	g.tail, g.head, g.price = nil, nil, nil
}

// reset empties the flow, so that the network can be solved again.
func (g *graph) reset() {
	g.layout()
	for a, f := range g.fwd {
		if f {
			g.cap[a] = 1
		} else {
			g.cap[a] = 0
		}
	}
}

// push sends a unit along slot a.
func (g *graph) push(a int32) {
	g.cap[a]--
	g.cap[g.rev[a]]++
}

const unreachable = math.MaxInt64

// minCostMaxFlow sends as much flow as possible from s to t at least cost.
// Primal-dual: shortest distances under reduced costs (Dijkstra) update the
// potentials, then a maximum flow on the arcs of reduced cost zero (Dinic)
// pushes every shortest augmenting path of that cost at once. Phases are
// few: one per distinct augmenting path cost. Costs may be negative on
// arcs out of s only if no cycle is negative; callers use non-negative ones.
func (g *graph) minCostMaxFlow(s, t int32) (flow int) {
	g.layout()
	n := g.n
	pot := make([]int64, n)
	dist := make([]int64, n)
	level := make([]int32, n)
	iter := make([]int32, n)
	queue := make([]int32, 0, n)
	var st stack
	h := &minHeap{}
	first, to, capa, cost := g.first, g.to, g.cap, g.cost
	for {
		for i := range dist {
			dist[i] = unreachable
		}
		dist[s] = 0
		h.items = append(h.items[:0], heapItem{0, s})
		for len(h.items) > 0 {
			it := h.pop()
			u := it.node
			if it.dist != dist[u] || u == t {
				continue
			}
			if it.dist > dist[t] {
				break
			}
			pu := pot[u]
			for a, end := first[u], first[u+1]; a < end; a++ {
				if capa[a] == 0 {
					continue
				}
				v := to[a]
				nd := it.dist + int64(cost[a]) + pu - pot[v]
				if nd < dist[v] {
					dist[v] = nd
					h.push(heapItem{nd, v})
				}
			}
		}
		if dist[t] == unreachable {
			return flow
		}
		// Potentials move by the distance, capped at t's, which keeps every
		// residual arc's reduced cost non-negative.
		dt := dist[t]
		for v := range pot {
			if dist[v] < dt {
				pot[v] += dist[v] - dt
			}
		}
		for {
			// Levels over the admissible arcs (residual, reduced cost zero),
			// no deeper than t's: deeper nodes cannot be on a shortest path.
			for i := range level {
				level[i] = -1
			}
			level[s] = 0
			queue = append(queue[:0], s)
			for k := 0; k < len(queue); k++ {
				u := queue[k]
				if level[t] >= 0 && level[u] >= level[t] {
					break
				}
				pu := pot[u]
				for a, end := first[u], first[u+1]; a < end; a++ {
					v := to[a]
					if capa[a] > 0 && level[v] < 0 && int64(cost[a])+pu-pot[v] == 0 {
						level[v] = level[u] + 1
						queue = append(queue, v)
					}
				}
			}
			if level[t] < 0 {
				break
			}
			copy(iter, first[:n])
			for g.augment(s, t, level, iter, pot, &st) {
				flow++
			}
		}
	}
}

// maxFlow is minCostMaxFlow when every arc costs nothing: Dinic alone, from
// whatever flow the arcs already carry. It stops once it has sent want
// units, when the caller knows that no more can go (want < 0: no bound).
func (g *graph) maxFlow(s, t int32, want int) (flow int) {
	g.layout()
	n := g.n
	level := make([]int32, n)
	iter := make([]int32, n)
	queue := make([]int32, 0, n)
	var st stack
	first, to, capa := g.first, g.to, g.cap
	for flow != want {
		for i := range level {
			level[i] = -1
		}
		level[s] = 0
		queue = append(queue[:0], s)
		for k := 0; k < len(queue); k++ {
			u := queue[k]
			if level[t] >= 0 && level[u] >= level[t] {
				break
			}
			next := level[u] + 1
			for a, end := first[u], first[u+1]; a < end; a++ {
				if capa[a] == 0 {
					continue // tested first: it spares the random read of level
				}
				if v := to[a]; level[v] < 0 {
					level[v] = next
					queue = append(queue, v)
				}
			}
		}
		if level[t] < 0 {
			return flow
		}
		copy(iter, first[:n])
		for flow != want && g.augmentFree(s, t, level, iter, &st) {
			flow++
		}
	}
	return flow
}

type heapItem struct {
	dist int64
	node int32
}

type minHeap struct{ items []heapItem }

func (h *minHeap) push(it heapItem) {
	h.items = append(h.items, it)
	i := len(h.items) - 1
	for i > 0 {
		p := (i - 1) / 2
		if h.items[p].dist <= h.items[i].dist {
			break
		}
		h.items[p], h.items[i] = h.items[i], h.items[p]
		i = p
	}
}

func (h *minHeap) pop() heapItem {
	top := h.items[0]
	last := len(h.items) - 1
	h.items[0] = h.items[last]
	h.items = h.items[:last]
	i := 0
	for {
		l, r, m := 2*i+1, 2*i+2, i
		if l < last && h.items[l].dist < h.items[m].dist {
			m = l
		}
		if r < last && h.items[r].dist < h.items[m].dist {
			m = r
		}
		if m == i {
			return top
		}
		h.items[m], h.items[i] = h.items[i], h.items[m]
		i = m
	}
}

// stack is an augmenting path being explored: its slots, and the node each
// leaves from.
type stack struct{ arcs, nodes []int32 }

// augment finds one path of the level graph and pushes a unit along it,
// iteratively so that long alternating paths cannot overflow the stack.
func (g *graph) augment(s, t int32, level, iter []int32, pot []int64, st *stack) bool {
	st.arcs, st.nodes = st.arcs[:0], st.nodes[:0]
	first, to, capa, cost := g.first, g.to, g.cap, g.cost
	u := s
	for u != t {
		advanced := false
		lu, pu := level[u]+1, pot[u]
		a, end := iter[u], first[u+1]
		for ; a < end; a++ {
			v := to[a]
			if capa[a] > 0 && level[v] == lu && int64(cost[a])+pu-pot[v] == 0 {
				iter[u] = a
				st.arcs = append(st.arcs, a)
				st.nodes = append(st.nodes, u)
				u = v
				advanced = true
				break
			}
		}
		if advanced {
			continue
		}
		// Dead end: retreat and never try u again in this phase.
		iter[u] = end
		level[u] = -1
		if len(st.arcs) == 0 {
			return false
		}
		st.arcs = st.arcs[:len(st.arcs)-1]
		u = st.nodes[len(st.nodes)-1]
		st.nodes = st.nodes[:len(st.nodes)-1]
		iter[u]++
	}
	for _, a := range st.arcs {
		g.push(a)
	}
	return true
}

// augmentFree is augment when every arc costs nothing: a copy without the
// cost test, which the inner loop of the largest pools cannot afford.
func (g *graph) augmentFree(s, t int32, level, iter []int32, st *stack) bool {
	st.arcs, st.nodes = st.arcs[:0], st.nodes[:0]
	first, to, capa := g.first, g.to, g.cap
	u := s
	for u != t {
		advanced := false
		lu := level[u] + 1
		a, end := iter[u], first[u+1]
		for ; a < end; a++ {
			if v := to[a]; capa[a] > 0 && level[v] == lu {
				iter[u] = a
				st.arcs = append(st.arcs, a)
				st.nodes = append(st.nodes, u)
				u = v
				advanced = true
				break
			}
		}
		if advanced {
			continue
		}
		iter[u] = end
		level[u] = -1
		if len(st.arcs) == 0 {
			return false
		}
		st.arcs = st.arcs[:len(st.arcs)-1]
		u = st.nodes[len(st.nodes)-1]
		st.nodes = st.nodes[:len(st.nodes)-1]
		iter[u]++
	}
	for _, a := range st.arcs {
		g.push(a)
	}
	return true
}

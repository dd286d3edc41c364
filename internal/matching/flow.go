package matching

import (
	"math"
	"slices"
)

// graph is a residual network with unit capacities and integer costs.
// Arc e and e^1 are each other's reverse. Arcs are collected by add, then
// laid out by tail (compressed rows) the first time the flow runs: the
// solver walks arrays, not linked lists.
type graph struct {
	to   []int32
	cap  []int32
	cost []int64
	from []int32
	n    int
	// first[u]..first[u+1] index adj, the arcs leaving u, last added first:
	// callers add arcs in reverse of the order they want tried.
	first []int32
	adj   []int32
}

func newGraph() *graph { return &graph{} }

// reserve makes room for about m more arcs, sparing the appends' copies.
func (g *graph) reserve(m int) {
	m *= 2
	g.to = slices.Grow(g.to, m)
	g.from = slices.Grow(g.from, m)
	g.cap = slices.Grow(g.cap, m)
	g.cost = slices.Grow(g.cost, m)
}

// add appends an arc of capacity 1; nodes are sized later by nodes().
func (g *graph) add(u, v int32, cost int64) {
	g.to = append(g.to, v, u)
	g.from = append(g.from, u, v)
	g.cap = append(g.cap, 1, 0)
	g.cost = append(g.cost, cost, -cost)
	if m := int(max(u, v)) + 1; m > g.n {
		g.n = m
	}
}

func (g *graph) nodes(n int) { g.n = max(g.n, n) }

// arcs lists the arcs leaving u (forward arcs have even ids).
func (g *graph) arcs(u int32) []int32 {
	g.layout()
	return g.adj[g.first[u]:g.first[u+1]]
}

func (g *graph) layout() {
	if g.first != nil {
		return
	}
	g.first = make([]int32, g.n+1)
	for _, u := range g.from {
		g.first[u+1]++
	}
	for u := range g.n {
		g.first[u+1] += g.first[u]
	}
	g.adj = make([]int32, len(g.from))
	fill := make([]int32, g.n)
	copy(fill, g.first[:g.n])
	for e := len(g.from) - 1; e >= 0; e-- {
		u := g.from[e]
		g.adj[fill[u]] = int32(e)
		fill[u]++
	}
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
	path := make([]int32, 0, 64)
	h := &minHeap{}
	first, adj, to, capa, cost := g.first, g.adj, g.to, g.cap, g.cost
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
			for _, e := range adj[first[u]:first[u+1]] {
				if capa[e] == 0 {
					continue
				}
				v := to[e]
				nd := it.dist + cost[e] + pu - pot[v]
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
				for _, e := range adj[first[u]:first[u+1]] {
					v := to[e]
					if level[v] < 0 && capa[e] > 0 && cost[e]+pu-pot[v] == 0 {
						level[v] = level[u] + 1
						queue = append(queue, v)
					}
				}
			}
			if level[t] < 0 {
				break
			}
			for u := range n {
				iter[u] = first[u]
			}
			for {
				var ok bool
				if path, ok = g.augment(s, t, level, iter, pot, path); !ok {
					break
				}
				flow++
			}
		}
	}
}

// maxFlow is minCostMaxFlow when every arc costs nothing: Dinic alone, from
// whatever flow the arcs already carry.
func (g *graph) maxFlow(s, t int32) (flow int) {
	g.layout()
	n := g.n
	pot := make([]int64, n) // all zero: every residual arc is admissible
	level := make([]int32, n)
	iter := make([]int32, n)
	queue := make([]int32, 0, n)
	path := make([]int32, 0, 64)
	first, adj, to, capa := g.first, g.adj, g.to, g.cap
	for {
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
			for _, e := range adj[first[u]:first[u+1]] {
				if v := to[e]; level[v] < 0 && capa[e] > 0 {
					level[v] = level[u] + 1
					queue = append(queue, v)
				}
			}
		}
		if level[t] < 0 {
			return flow
		}
		for u := range n {
			iter[u] = first[u]
		}
		for {
			var ok bool
			if path, ok = g.augment(s, t, level, iter, pot, path); !ok {
				break
			}
			flow++
		}
	}
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

// augment finds one path of the level graph and pushes a unit along it,
// iteratively so that long alternating paths cannot overflow the stack.
func (g *graph) augment(s, t int32, level, iter []int32, pot []int64, path []int32) ([]int32, bool) {
	path = path[:0]
	first, adj, to, capa, cost := g.first, g.adj, g.to, g.cap, g.cost
	u := s
	for u != t {
		advanced := false
		for end := first[u+1]; iter[u] < end; iter[u]++ {
			e := adj[iter[u]]
			v := to[e]
			if level[v] == level[u]+1 && capa[e] > 0 && cost[e]+pot[u]-pot[v] == 0 {
				path = append(path, e)
				u = v
				advanced = true
				break
			}
		}
		if advanced {
			continue
		}
		// Dead end: retreat and never try u again in this phase.
		level[u] = -1
		if len(path) == 0 {
			return path, false
		}
		last := path[len(path)-1]
		path = path[:len(path)-1]
		u = g.from[last]
		iter[u]++
	}
	for _, e := range path {
		capa[e]--
		capa[e^1]++
	}
	return path, true
}

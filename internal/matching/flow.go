package matching

import "math"

// graph is a residual network with unit capacities and integer costs.
// Arc e and e^1 are each other's reverse.
type graph struct {
	head []int32
	next []int32
	to   []int32
	cap  []int32
	cost []int64
	from []int32
}

func newGraph() *graph { return &graph{} }

// add appends an arc of capacity 1; nodes are sized later by nodes().
func (g *graph) add(u, v int32, cost int64) {
	for int(max(u, v)) >= len(g.head) {
		g.head = append(g.head, -1)
	}
	g.to = append(g.to, v, u)
	g.from = append(g.from, u, v)
	g.cap = append(g.cap, 1, 0)
	g.cost = append(g.cost, cost, -cost)
	e := int32(len(g.to) - 2)
	g.next = append(g.next, g.head[u], g.head[v])
	g.head[u], g.head[v] = e, e+1
}

func (g *graph) nodes(n int) {
	for len(g.head) < n {
		g.head = append(g.head, -1)
	}
}

const unreachable = math.MaxInt64

// minCostMaxFlow sends as much flow as possible from s to t at least cost.
// Primal-dual: shortest distances under reduced costs (Dijkstra) update the
// potentials, then a maximum flow on the arcs of reduced cost zero (Dinic)
// pushes every shortest augmenting path of that cost at once. Phases are
// few: one per distinct augmenting path cost.
func (g *graph) minCostMaxFlow(s, t int32) (flow int) {
	n := len(g.head)
	pot := make([]int64, n)
	dist := make([]int64, n)
	level := make([]int32, n)
	iter := make([]int32, n)
	queue := make([]int32, 0, n)
	h := &minHeap{}
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
			for e := g.head[u]; e >= 0; e = g.next[e] {
				if g.cap[e] == 0 {
					continue
				}
				v := g.to[e]
				nd := it.dist + g.cost[e] + pot[u] - pot[v]
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
		admissible := func(e int32) bool {
			return g.cap[e] > 0 && g.cost[e]+pot[g.from[e]]-pot[g.to[e]] == 0
		}
		for {
			for i := range level {
				level[i] = -1
			}
			level[s] = 0
			queue = append(queue[:0], s)
			for k := 0; k < len(queue); k++ {
				u := queue[k]
				for e := g.head[u]; e >= 0; e = g.next[e] {
					if v := g.to[e]; level[v] < 0 && admissible(e) {
						level[v] = level[u] + 1
						queue = append(queue, v)
					}
				}
			}
			if level[t] < 0 {
				break
			}
			copy(iter, g.head)
			for g.augment(s, t, level, iter, admissible) {
				flow++
			}
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
func (g *graph) augment(s, t int32, level, iter []int32, admissible func(int32) bool) bool {
	var path []int32
	u := s
	for u != t {
		advanced := false
		for ; iter[u] >= 0; iter[u] = g.next[iter[u]] {
			e := iter[u]
			v := g.to[e]
			if level[v] == level[u]+1 && admissible(e) {
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
			return false
		}
		last := path[len(path)-1]
		path = path[:len(path)-1]
		u = g.from[last]
		iter[u] = g.next[iter[u]]
	}
	for _, e := range path {
		g.cap[e]--
		g.cap[e^1]++
	}
	return true
}

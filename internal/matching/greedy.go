package matching

// Greedy is the baseline the open-source platforms run: volunteer by
// volunteer, in sign-up order, each takes the nearest request still pending
// (earliest first among equals) in its département, for each round it
// offers.
//
// Pending requests are kept per hub and round, in sign-up order, with a
// cursor past those already taken: the nearest for a volunteer is the first
// pending one in its lowest hub that has any, so a run is about linear
// instead of a scan of the département per volunteer.
func Greedy(pool Pool) Result {
	requests := byRank(pool.Requests)
	volunteers := byRank(pool.Volunteers)
	assigned := map[int]map[string]string{1: {}, 2: {}}
	type key struct {
		level int
		hub   string
		dep   string // the département too: an intercommunality may span several
		round int
	}
	type list struct {
		reqs []int
		next int // reqs[:next] are all taken
	}
	lists := map[key]*list{}
	keys := func(p Place, round int) [levels]key {
		var k [levels]key
		for l, h := range hubKeys(p) {
			k[l] = key{l, h, p.Departement, round}
		}
		return k
	}
	taken := [2][]bool{make([]bool, len(requests)), make([]bool, len(requests))}
	for i, r := range requests {
		for _, round := range []int{1, 2} {
			if !wants(r, round) {
				continue
			}
			for _, k := range keys(r.Place, round) {
				if k.hub == "" {
					continue
				}
				if lists[k] == nil {
					lists[k] = &list{}
				}
				lists[k].reqs = append(lists[k].reqs, i)
			}
		}
	}
	for _, v := range volunteers {
		for _, round := range v.Rounds {
			if round != 1 && round != 2 {
				continue
			}
			done := taken[round-1]
			for _, k := range keys(v.Place, round) {
				lst := lists[k]
				if k.hub == "" || lst == nil {
					continue
				}
				for lst.next < len(lst.reqs) && done[lst.reqs[lst.next]] {
					lst.next++
				}
				best := -1
				for _, i := range lst.reqs[lst.next:] {
					if !done[i] && !pool.Declined[Pair{requests[i].ID, v.ID}] {
						best = i
						break
					}
				}
				if best >= 0 {
					done[best] = true
					assigned[round][requests[best].ID] = v.ID
					break
				}
			}
		}
	}
	return collect(requests, volunteers, assigned)
}

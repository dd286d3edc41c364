package matching

// Greedy is the baseline the open-source platforms run: volunteer by
// volunteer, in sign-up order, each takes the nearest request still pending
// (earliest first among equals), for each round it offers.
func Greedy(pool Pool) Result {
	requests := byRank(pool.Requests)
	volunteers := byRank(pool.Volunteers)
	assigned := map[int]map[string]string{1: {}, 2: {}}
	// Pending requests by département, so a volunteer scans only those it may take.
	byDepartement := map[string][]int{}
	for i, r := range requests {
		byDepartement[r.Place.Departement] = append(byDepartement[r.Place.Departement], i)
	}
	for _, v := range volunteers {
		for _, round := range v.Rounds {
			best, bestTier := -1, levels
			for _, i := range byDepartement[v.Place.Departement] {
				r := requests[i]
				if !wants(r, round) || pool.Declined[Pair{r.ID, v.ID}] {
					continue
				}
				if _, taken := assigned[round][r.ID]; taken {
					continue
				}
				if tier, ok := Tier(r.Place, v.Place); ok && tier < bestTier {
					best, bestTier = i, tier
				}
			}
			if best >= 0 {
				assigned[round][requests[best].ID] = v.ID
			}
		}
	}
	return collect(requests, volunteers, assigned)
}

package matching

import (
	"fmt"
	"math/rand/v2"
	"reflect"
	"slices"
	"testing"
)

// randomPool draws a small pool over a tiny geography where every tier and
// ineligible pairs occur.
func randomPool(rng *rand.Rand, nReq, nVol int) Pool {
	place := func() Place {
		dep := fmt.Sprint(rng.IntN(2))
		arr := dep + fmt.Sprint(rng.IntN(2))
		commune := arr + fmt.Sprint(rng.IntN(2))
		epci := ""
		if rng.IntN(3) > 0 {
			epci = "E" + fmt.Sprint(rng.IntN(3)) // may span arrondissements
		}
		return Place{Station: fmt.Sprint(rng.IntN(2)), Commune: commune, EPCI: epci, Arrondissement: arr, Departement: dep}
	}
	rounds := func() []int {
		return [][]int{{1}, {2}, {1, 2}, {1, 2}}[rng.IntN(4)]
	}
	p := Pool{Declined: map[Pair]bool{}}
	for i := range nReq {
		p.Requests = append(p.Requests, Person{ID: fmt.Sprintf("r%d", i), Place: place(), Rounds: rounds(), Rank: rng.IntN(100)})
	}
	for j := range nVol {
		p.Volunteers = append(p.Volunteers, Person{ID: fmt.Sprintf("v%d", j), Place: place(), Rounds: rounds(), Rank: rng.IntN(100)})
	}
	for range rng.IntN(4) {
		if nReq > 0 && nVol > 0 {
			p.Declined[Pair{fmt.Sprintf("r%d", rng.IntN(nReq)), fmt.Sprintf("v%d", rng.IntN(nVol))}] = true
		}
	}
	return p
}

// bruteForce enumerates every pair of maximum round matchings and keeps the
// lexicographic best: most units, then fewest splits, then least tier sum.
// Rounds are independent for units, so the most units is the sum of the two
// rounds' maxima and no non-maximum matching can be part of the optimum.
func bruteForce(p Pool) score {
	var rounds [2][][]int // per round, its maximum matchings: request -> volunteer or -1
	for k, round := range []int{1, 2} {
		best := 0
		cur := make([]int, len(p.Requests))
		used := make([]bool, len(p.Volunteers))
		var try func(i, size int)
		try = func(i, size int) {
			if i == len(p.Requests) {
				if size > best {
					best, rounds[k] = size, nil
				}
				if size == best {
					rounds[k] = append(rounds[k], slices.Clone(cur))
				}
				return
			}
			cur[i] = -1
			try(i+1, size)
			r := p.Requests[i]
			if !wants(r, round) {
				return
			}
			for j, v := range p.Volunteers {
				if used[j] || !wants(v, round) || p.Declined[Pair{r.ID, v.ID}] {
					continue
				}
				if _, ok := Tier(r.Place, v.Place); ok {
					used[j], cur[i] = true, j
					try(i+1, size+1)
					used[j], cur[i] = false, -1
				}
			}
		}
		try(0, 0)
	}
	var best score
	first := true
	for _, m1 := range rounds[0] {
		for _, m2 := range rounds[1] {
			var s score
			for i, r := range p.Requests {
				for _, m := range [2][]int{m1, m2} {
					if m[i] >= 0 {
						t, _ := Tier(r.Place, p.Volunteers[m[i]].Place)
						s.units++
						s.tiers += t
					}
				}
				if m1[i] >= 0 && m2[i] >= 0 && m1[i] != m2[i] {
					s.split++
				}
			}
			if first || s.better(best) {
				best, first = s, false
			}
		}
	}
	return best
}

// check verifies what any result must respect, whatever its quality.
func check(t *testing.T, p Pool, res Result) {
	t.Helper()
	req, vol := map[string]Person{}, map[string]Person{}
	for _, r := range p.Requests {
		req[r.ID] = r
	}
	for _, v := range p.Volunteers {
		vol[v.ID] = v
	}
	volunteerRounds := map[Pair]bool{} // (volunteer, round) taken
	requestRounds := map[Pair]bool{}
	units, tiers := 0, 0
	for _, m := range res.Matches {
		r, v := req[m.Request], vol[m.Volunteer]
		tier, ok := Tier(r.Place, v.Place)
		if !ok || tier != m.Tier {
			t.Fatalf("%+v: ineligible or wrong tier", m)
		}
		if p.Declined[Pair{m.Request, m.Volunteer}] {
			t.Fatalf("%+v: a declined pair proposed again", m)
		}
		for _, round := range m.Rounds {
			if !wants(r, round) || !wants(v, round) {
				t.Fatalf("%+v: round %d not asked or not offered", m, round)
			}
			k := Pair{m.Volunteer, fmt.Sprint(round)}
			if volunteerRounds[k] {
				t.Fatalf("volunteer %s takes two procurations for round %d", m.Volunteer, round)
			}
			volunteerRounds[k] = true
			k = Pair{m.Request, fmt.Sprint(round)}
			if requestRounds[k] {
				t.Fatalf("request %s matched twice for round %d", m.Request, round)
			}
			requestRounds[k] = true
			units++
			tiers += tier
		}
	}
	if units != res.Units || tiers != res.TierSum {
		t.Fatalf("result says %d units / %d tiers, matches add up to %d / %d", res.Units, res.TierSum, units, tiers)
	}
	split, both := 0, 0
	for _, r := range p.Requests {
		if requestRounds[Pair{r.ID, "1"}] && requestRounds[Pair{r.ID, "2"}] {
			both++
			if matchesOf(res, r.ID) > 1 {
				split++
			}
		}
	}
	if split != res.Split || both != res.Both {
		t.Fatalf("result says %d split of %d, matches show %d of %d", res.Split, res.Both, split, both)
	}
}

func matchesOf(res Result, request string) int {
	n := 0
	for _, m := range res.Matches {
		if m.Request == request {
			n++
		}
	}
	return n
}

// The engine's (units, splits, tier sum) is the brute-force optimum on
// thousands of small pools, and every component there is proven optimal.
func TestSolveIsOptimalAgainstBruteForce(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	splits := 0
	for trial := range 4000 {
		p := randomPool(rng, rng.IntN(7), rng.IntN(6))
		res := Solve(p)
		check(t, p, res)
		want := bruteForce(p)
		got := score{res.Units, res.Split, res.TierSum}
		if got != want || !res.Optimal {
			t.Fatalf("trial %d: engine %+v (optimal %v), brute force %+v\npool %+v", trial, got, res.Optimal, want, p)
		}
		splits += want.split
	}
	if splits == 0 {
		t.Error("no pool needed a split: the pools do not test the second criterion")
	}
}

// The descent alone (no branch and bound) always covers the most units and
// never claims better than the optimum; how often it is optimal is logged.
func TestDescentAgainstBruteForce(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	optimal, pools := 0, 3000
	for trial := range pools {
		p := randomPool(rng, rng.IntN(7), rng.IntN(6))
		res := solve(p, limits{})
		check(t, p, res)
		want := bruteForce(p)
		got := score{res.Units, res.Split, res.TierSum}
		if got.units != want.units || got.better(want) {
			t.Fatalf("trial %d: descent %+v, brute force %+v\npool %+v", trial, got, want, p)
		}
		if res.Optimal && len(p.Requests)+len(p.Volunteers) > 0 {
			t.Fatalf("trial %d: descent alone claims a proof", trial)
		}
		if got == want {
			optimal++
		}
	}
	t.Logf("descent alone optimal on %d of %d pools", optimal, pools)
}

// Large components take the two-stage rounds: on medium pools forced
// through them, every round still covers the most units (the per-round
// maximum flows), and the result is valid.
func TestFastRoundsKeepTheUnits(t *testing.T) {
	defer func(n int) { fastFrom = n }(fastFrom)
	fastFrom = 0
	rng := rand.New(rand.NewPCG(9, 10))
	for trial := range 60 {
		p := randomPool(rng, 20+rng.IntN(120), 20+rng.IntN(120))
		for range rng.IntN(40) {
			p.Declined[Pair{fmt.Sprintf("r%d", rng.IntN(len(p.Requests))), fmt.Sprintf("v%d", rng.IntN(len(p.Volunteers)))}] = true
		}
		res, most := solve(p, limits{}), PerRound(p)
		check(t, p, res)
		if res.Units != most.Units {
			t.Fatalf("trial %d: %d units, the rounds' maximum is %d", trial, res.Units, most.Units)
		}
	}
}

func TestGreedyIsValidButNotOptimal(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	worse := 0
	for range 2000 {
		p := randomPool(rng, rng.IntN(7), rng.IntN(7))
		g := Greedy(p)
		check(t, p, g)
		if s := Solve(p); g.Units < s.Units || (g.Units == s.Units && g.TierSum > s.TierSum) {
			worse++
		}
	}
	if worse == 0 {
		t.Error("greedy never did worse: the comparison proves nothing")
	}
}

// Greedy gives what its plain first version gave.
func TestGreedyIsTheReference(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	for trial := range 3000 {
		p := randomPool(rng, rng.IntN(9), rng.IntN(9))
		if got, want := Greedy(p), greedyReference(p); !reflect.DeepEqual(got, want) {
			t.Fatalf("trial %d: greedy %+v, reference %+v\npool %+v", trial, got, want, p)
		}
	}
}

// greedyReference is Greedy as first written, a scan of the département
// per volunteer: the fast one must give the same proposals.
func greedyReference(pool Pool) Result {
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

func TestTiers(t *testing.T) {
	paris11 := Place{Station: "75111_0001", Commune: "75111", EPCI: "200054781", Arrondissement: "751", Departement: "75"}
	for name, tc := range map[string]struct {
		other Place
		tier  int
		ok    bool
	}{
		"same station":          {paris11, SameStation, true},
		"same commune":          {Place{Station: "75111_0002", Commune: "75111", EPCI: "200054781", Arrondissement: "751", Departement: "75"}, SameCommune, true},
		"same intercommunality": {Place{Station: "92012_0001", Commune: "92012", EPCI: "200054781", Arrondissement: "922", Departement: "92"}, SameIntercommunality, true},
		"same arrondissement":   {Place{Station: "01001_0001", Commune: "01001", EPCI: "X", Arrondissement: "751", Departement: "75"}, SameArrondissement, true},
		"other département":     {Place{Station: "69123_0001", Commune: "69123", EPCI: "Y", Arrondissement: "691", Departement: "69"}, 0, false},
	} {
		tier, ok := Tier(paris11, tc.other)
		if tier != tc.tier || ok != tc.ok {
			t.Errorf("%s: tier %d %v, want %d %v", name, tier, ok, tc.tier, tc.ok)
		}
	}
}

func TestPreferences(t *testing.T) {
	here := Place{Station: "1", Commune: "c", Departement: "d"}
	// Earlier sign-ups win ties: one volunteer, two equal requests.
	p := Pool{
		Requests:   []Person{{ID: "late", Place: here, Rounds: []int{1}, Rank: 2}, {ID: "early", Place: here, Rounds: []int{1}, Rank: 1}},
		Volunteers: []Person{{ID: "v", Place: here, Rounds: []int{1, 2}}},
	}
	if res := Solve(p); len(res.Matches) != 1 || res.Matches[0].Request != "early" {
		t.Errorf("earlier sign-up should win: %+v", res.Matches)
	}
	// A request for both rounds keeps one volunteer for both.
	p = Pool{
		Requests: []Person{{ID: "both", Place: here, Rounds: []int{1, 2}}},
		Volunteers: []Person{{ID: "a", Place: here, Rounds: []int{1}, Rank: 1}, {ID: "b", Place: here, Rounds: []int{1, 2}, Rank: 2},
			{ID: "c", Place: here, Rounds: []int{2}, Rank: 0}},
	}
	res := Solve(p)
	if len(res.Matches) != 1 || res.Matches[0].Volunteer != "b" || len(res.Matches[0].Rounds) != 2 {
		t.Errorf("want one volunteer for both rounds: %+v", res.Matches)
	}
	// Declined pairs are never proposed again.
	p = Pool{
		Requests:   []Person{{ID: "r", Place: here, Rounds: []int{1}}},
		Volunteers: []Person{{ID: "v", Place: here, Rounds: []int{1}}},
		Declined:   map[Pair]bool{{"r", "v"}: true},
	}
	if res := Solve(p); len(res.Matches) != 0 || len(res.Unmatched) != 1 {
		t.Errorf("declined pair proposed: %+v", res)
	}
}

// Two both-rounds requests at the same place keep their own volunteers.
func TestBothRoundsKeepTheirVolunteers(t *testing.T) {
	here := Place{Station: "1", Commune: "c", Departement: "d"}
	p := Pool{
		Requests: []Person{{ID: "r1", Place: here, Rounds: []int{1, 2}, Rank: 1}, {ID: "r2", Place: here, Rounds: []int{1, 2}, Rank: 2}},
		Volunteers: []Person{{ID: "a", Place: here, Rounds: []int{1, 2}, Rank: 1}, {ID: "b", Place: here, Rounds: []int{1, 2}, Rank: 2},
			{ID: "c", Place: here, Rounds: []int{2}, Rank: 0}},
	}
	res := Solve(p)
	if len(res.Matches) != 2 {
		t.Fatalf("want two matches covering both rounds each: %+v", res.Matches)
	}
	for _, m := range res.Matches {
		if len(m.Rounds) != 2 {
			t.Errorf("%s split across volunteers: %+v", m.Request, res.Matches)
		}
	}
}

// The engine made faster gives the objective the engine gave before
// (recorded from it) on pools over a wider geography than randomPool's,
// with declined pairs, of components below and above fastFrom, and with
// every round forced through the two-stage rounds.
func TestSpreadPoolsKeepTheirObjective(t *testing.T) {
	defer func(n int) { fastFrom = n }(fastFrom)
	for _, tc := range []struct {
		fastFrom                          int
		seed                              uint64
		people, units, split, tiers, both int
	}{
		{2000, 1, 2949, 2161, 7, 1175, 831},
		{2000, 2, 1708, 1003, 0, 473, 357},
		{2000, 3, 2241, 1128, 2, 374, 418},
		{2000, 4, 2653, 1386, 15, 453, 499},
		{0, 1, 2949, 2161, 7, 1175, 831},
		{0, 2, 1708, 1003, 19, 488, 357},
		{0, 3, 2241, 1128, 2, 374, 418},
		{0, 4, 2653, 1386, 15, 453, 499},
	} {
		fastFrom = tc.fastFrom
		p := spreadPool(tc.seed)
		res := Solve(p)
		check(t, p, res)
		got := [5]int{len(p.Requests) + len(p.Volunteers), res.Units, res.Split, res.TierSum, res.Both}
		if want := [5]int{tc.people, tc.units, tc.split, tc.tiers, tc.both}; got != want {
			t.Errorf("fastFrom %d, seed %d: people, units, splits, tier sum, both %v, before %v", tc.fastFrom, tc.seed, got, want)
		}
	}
}

// spreadPool draws a pool over three départements of three arrondissements
// of twelve communes, intercommunalities spanning them, with declined pairs.
func spreadPool(seed uint64) Pool {
	rng := rand.New(rand.NewPCG(seed, 11))
	place := func() Place {
		dep := fmt.Sprint(rng.IntN(3))
		arr := dep + fmt.Sprint(rng.IntN(3))
		commune := arr + fmt.Sprint(rng.IntN(12))
		epci := ""
		if rng.IntN(4) > 0 {
			epci = "E" + fmt.Sprint(rng.IntN(8))
		}
		return Place{Station: fmt.Sprint(rng.IntN(4)), Commune: commune, EPCI: epci, Arrondissement: arr, Departement: dep}
	}
	rounds := func() []int { return [][]int{{1}, {2}, {1, 2}, {1, 2}, {1, 2}}[rng.IntN(5)] }
	p := Pool{Declined: map[Pair]bool{}}
	nReq, nVol := 300+rng.IntN(1500), 300+rng.IntN(1500)
	for i := range nReq {
		p.Requests = append(p.Requests, Person{ID: fmt.Sprintf("r%d", i), Place: place(), Rounds: rounds(), Rank: rng.IntN(1000)})
	}
	for j := range nVol {
		p.Volunteers = append(p.Volunteers, Person{ID: fmt.Sprintf("v%d", j), Place: place(), Rounds: rounds(), Rank: rng.IntN(1000)})
	}
	for range rng.IntN(300) {
		p.Declined[Pair{fmt.Sprintf("r%d", rng.IntN(nReq)), fmt.Sprintf("v%d", rng.IntN(nVol))}] = true
	}
	return p
}

package matching

import (
	"fmt"
	"math/rand/v2"
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

// bruteForce tries every assignment of each round: the most units, then the
// least tier sum.
func bruteForce(p Pool) (units, tierSum int) {
	for _, round := range []int{1, 2} {
		var reqs, vols []Person
		for _, r := range p.Requests {
			if wants(r, round) {
				reqs = append(reqs, r)
			}
		}
		for _, v := range p.Volunteers {
			if wants(v, round) {
				vols = append(vols, v)
			}
		}
		bestU, bestC := 0, 0
		used := make([]bool, len(vols))
		var try func(i, u, c int)
		try = func(i, u, c int) {
			if i == len(reqs) {
				if u > bestU || (u == bestU && c < bestC) {
					bestU, bestC = u, c
				}
				return
			}
			try(i+1, u, c) // request i unmatched this round
			for j, v := range vols {
				if used[j] || p.Declined[Pair{reqs[i].ID, v.ID}] {
					continue
				}
				if tier, ok := Tier(reqs[i].Place, v.Place); ok {
					used[j] = true
					try(i+1, u+1, c+tier)
					used[j] = false
				}
			}
		}
		try(0, 0, 0)
		units += bestU
		tierSum += bestC
	}
	return units, tierSum
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
}

func TestSolveIsOptimalAgainstBruteForce(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for trial := range 3000 {
		p := randomPool(rng, rng.IntN(7), rng.IntN(7))
		res := Solve(p)
		check(t, p, res)
		units, tiers := bruteForce(p)
		if res.Units != units || res.TierSum != tiers {
			t.Fatalf("trial %d: engine %d units / %d tiers, optimum %d / %d\npool %+v", trial, res.Units, res.TierSum, units, tiers, p)
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

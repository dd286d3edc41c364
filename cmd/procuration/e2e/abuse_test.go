package e2e

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/procurations/procuration/internal/auth"
	"github.com/procurations/procuration/internal/service"
)

// Finding 1: a signed-in person cannot give someone else's vote, with or
// without a police visit.
func TestAbuseAnotherVotersNumber(t *testing.T) {
	s := newStack(t, "--town-hall-review=automatic")
	s.loadVoters()
	ctx := context.Background()
	jeanTok := s.grantor("fc-jean", jean)
	franceIdentite := s.token(auth.RoleGrantor, "fc-jean", map[string]any{"given_name": "Jean", "family_name": "MARTIN",
		"birthdate": "1979-11-03", "email": "jean@example.fr", "acr": "eidas2"})
	namesake := s.token(auth.RoleGrantor, "fc-other-marie", map[string]any{"given_name": "Marie Claire", "family_name": "DUPONT",
		"birthdate": "1985-04-13", "email": "x@example.fr"})
	for name, tok := range map[string]string{"police visit": jeanTok, "France Identité": franceIdentite, "same names, another birth date": namesake} {
		res := s.create(tok, marie, "75056", sophie, "1992-06-30")
		require.Equal(t, 422, res.Status, "%s: %s", name, res.Raw)
		require.Equal(t, []string{"body.grantor.nne"}, fieldLocations(res), name)
	}
	var n int
	require.NoError(t, s.app.Pool.QueryRow(ctx, `SELECT count(*) FROM procurations`).Scan(&n))
	require.Zero(t, n, "nothing created")
	require.NoError(t, s.app.Pool.QueryRow(ctx, `SELECT count(*) FROM audit_log WHERE action = 'create.refused.identity'`).Scan(&n))
	require.Equal(t, 3, n, "each attempt audited")
	// Whether the number exists or not, the answer is the same.
	unknown := s.create(jeanTok, "199999999", "75056", sophie, "1992-06-30")
	require.Equal(t, s.create(jeanTok, marie, "75056", sophie, "1992-06-30").Body["errors"], unknown.Body["errors"])
}

// Finding 2: one live procuration per vote, whatever two requests do at once.
func TestAbuseTwoProxiesForOneVote(t *testing.T) {
	s := newStack(t)
	s.loadVoters()
	marieTok := s.grantor("fc-marie", marie)
	var (
		wg      sync.WaitGroup
		mu      sync.Mutex
		answers []response
	)
	for _, proxy := range []struct{ nne, birth string }{{jean, "1979-11-03"}, {sophie, "1992-06-30"}, {camille, "2001-09-15"}} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := s.create(marieTok, marie, "75056", proxy.nne, proxy.birth)
			mu.Lock()
			answers = append(answers, r)
			mu.Unlock()
		}()
	}
	wg.Wait()
	var ref string
	conflicts := 0
	for _, r := range answers {
		switch r.Status {
		case 201:
			require.Empty(t, ref, "two live dossiers for one vote")
			ref = r.Body["reference"].(string)
		case 409:
			conflicts++
		default:
			t.Fatalf("%d %s", r.Status, r.Raw)
		}
	}
	require.Equal(t, 2, conflicts)
	again := s.create(marieTok, marie, "75056", sophie, "1992-06-30")
	require.Equal(t, 409, again.Status)
	require.Contains(t, again.Body["detail"], ref, "names the dossier holding the vote")
	// The other round is another vote; after a cancellation the vote is free.
	period := s.do("POST", "/v1/procurations", marieTok, map[string]any{"grantor": map[string]any{"nne": marie, "commune_code": "75056"},
		"proxy":    map[string]any{"nne": sophie, "birth_date": "1992-06-30"},
		"validity": map[string]any{"from": "2027-04-01", "until": "2027-04-30"}})
	require.Equal(t, 409, period.Status, "a period covering the rounds overlaps")
	require.Equal(t, 200, s.do("POST", "/v1/procurations/"+ref+"/cancel", marieTok, nil).Status)
	require.Equal(t, 201, s.create(marieTok, marie, "75056", sophie, "1992-06-30").Status)
}

// Finding 3: the register is not for harvesting.
func TestAbuseRegisterHarvest(t *testing.T) {
	s := newStack(t)
	s.loadVoters()
	tok := s.grantor("fc-jean", jean)
	lookup := func(family, given, birth string) response {
		return s.do("POST", "/v1/register/lookup", tok, map[string]any{"family_name": family, "given_names": given, "birth_date": birth, "commune_code": "75056"})
	}
	require.Equal(t, 422, lookup("%", "%", "1985-04-12").Status, "no wildcard")
	require.Equal(t, 422, lookup("DUPONT", "M_rie", "1985-04-12").Status, "no wildcard")
	require.Equal(t, 404, lookup("DUPONT", "Marie", "1985-04-12").Status, "no prefix: an exact identity")
	require.Equal(t, 200, lookup("Dupont", "Marie-Claire", "1985-04-12").Status)
	var last response
	for day := 1; day <= 25; day++ {
		last = lookup("DUPONT", "Marie Claire", fmt.Sprintf("1985-04-%02d", day))
		if last.Status == 429 {
			break
		}
	}
	require.Equal(t, 429, last.Status, "looping over birth dates is throttled")
	require.NotEmpty(t, last.Header.Get("Retry-After"))
	var audited int
	require.NoError(t, s.app.Pool.QueryRow(context.Background(), `SELECT count(*) FROM audit_log WHERE action = 'register.lookup'`).Scan(&audited))
	require.GreaterOrEqual(t, audited, 20)
	// A link of an offer is not for looking voters up.
	offer := s.link(auth.RoleRequester, "r-x", auth.PurposeAnswerOffer, "m-x")
	require.Equal(t, 403, s.do("POST", "/v1/register/lookup", offer, map[string]any{"family_name": "DUPONT", "given_names": "Marie Claire",
		"birth_date": "1985-04-12", "commune_code": "75056"}).Status)
}

// Finding 5: the limits are the same for every replica, and a client is
// known behind a proxy only when the proxy is trusted.
func TestAbuseLimitsAcrossReplicas(t *testing.T) {
	s := newStack(t, "--signups-per-address=3", "--signups-per-email=100")
	require.Equal(t, 201, s.do("POST", "/v1/campaigns", s.support(), map[string]any{"id": "rl-2027", "name": "RL", "election_id": "presidentielle-2027",
		"sender": "RL <rl@rl.example>", "matching_every_minutes": 0}).Status)
	second := *s.app.Service
	replica := service.New(second)
	ctx := context.Background()
	form := func(i int) service.SignupForm {
		return service.SignupForm{GivenNames: "Personne", FamilyName: fmt.Sprintf("N%c", 'A'+i), BirthDate: "1980-01-01",
			Email: fmt.Sprintf("rl%d@example.fr", i), CommuneCode: "75056", Rounds: []int{1}, Consent: true}
	}
	for i, svc := range []*service.Service{s.app.Service, replica, s.app.Service} {
		_, err := svc.SignUp(ctx, "request", "rl-2027", form(i), "203.0.113.7")
		require.NoError(t, err)
	}
	_, err := replica.SignUp(ctx, "request", "rl-2027", form(3), "203.0.113.7")
	require.Error(t, err, "the fourth attempt, on another replica, is over the shared limit")
	_, err = replica.SignUp(ctx, "request", "rl-2027", form(4), "203.0.113.8")
	require.NoError(t, err, "another client is not")
}

// Finding 7: a sign-up is no oracle; pre-registering someone with your own
// address locks nobody out.
func TestAbuseSignupOracle(t *testing.T) {
	s := newStack(t)
	require.Equal(t, 201, s.do("POST", "/v1/campaigns", s.support(), map[string]any{"id": "or-2027", "name": "Oracle", "election_id": "presidentielle-2027",
		"sender": "O <o@or.example>", "matching_every_minutes": 0}).Status)
	victim := map[string]any{"given_names": "Marie Claire", "family_name": "DUPONT", "birth_date": "1985-04-12", "email": "attacker@example.fr",
		"commune_code": "75056", "rounds": []int{1}, "consent": true}
	s.signUpConfirmed("or-2027", "requests", victim)
	// The attacker probes: every answer is the same shape, whoever exists.
	probe := func(side string) response { return s.do("POST", "/v1/campaigns/or-2027/"+side, "", victim) }
	for _, r := range []response{probe("requests"), probe("volunteers")} {
		require.Equal(t, 201, r.Status)
		require.Equal(t, "check_email", r.Body["status"])
		require.NotContains(t, r.Raw, "demandeur")
		require.NotContains(t, r.Raw, "volontaire")
	}
	// The real person, with their own address, signs up and confirms.
	victim["email"] = "marie@example.fr"
	id := s.signUpConfirmed("or-2027", "requests", victim)
	su, err := s.app.Store.Signup(context.Background(), id)
	require.NoError(t, err)
	require.Equal(t, "pool", su.Status)
	require.Equal(t, "marie@example.fr", su.Email)
}

// Finding 9: a match does not complete on a stranger's dossier.
func TestAbuseLinkingAStrangersDossier(t *testing.T) {
	s := newStack(t)
	s.loadVoters()
	require.Equal(t, 201, s.do("POST", "/v1/campaigns", s.support(), map[string]any{"id": "ln-2027", "name": "Lien", "election_id": "presidentielle-2027",
		"sender": "L <l@ln.example>", "matching_every_minutes": 0}).Status)
	person := func(given, family, birth, email, nne string) map[string]any {
		return map[string]any{"given_names": given, "family_name": family, "birth_date": birth, "email": email, "nne": nne,
			"commune_code": "69123", "polling_station": "69123_0001", "rounds": []int{1}, "consent": true}
	}
	requestID := s.signUpConfirmed("ln-2027", "requests", person("Luc", "PETIT", "1968-01-21", "luc@example.fr", luc))
	volunteerID := s.signUpConfirmed("ln-2027", "volunteers", person("Camille", "ROBERT", "2001-09-15", "camille@example.fr", camille))
	bo := s.token(auth.RoleBackOffice, "bo-ln", map[string]any{"campaigns": []string{"ln-2027"}})
	run := s.do("POST", "/v1/campaigns/ln-2027/matching-runs", bo, map[string]any{"dry_run": false})
	require.Equal(t, 200, run.Status, run.Raw)
	matchID := run.Body["matches"].([]any)[0].(map[string]any)["id"].(string)
	for party, id := range map[string]string{auth.RoleRequester: requestID, auth.RoleVolunteer: volunteerID} {
		require.EventuallyWithT(t, func(c *assert.CollectT) {
			r := s.do("POST", "/v1/matches/"+matchID+"/answer", s.link(party, id, auth.PurposeAnswerOffer, matchID), map[string]any{"outcome": "accepted"})
			require.Equal(c, 200, r.Status, r.Raw)
		}, 20*time.Second, 100*time.Millisecond)
	}
	// A stranger's validated dossier: Marie gives her vote to Jean.
	stranger := s.validated()
	requester := s.link(auth.RoleRequester, requestID, auth.PurposeMatch, matchID)
	for _, ref := range []string{stranger, "ZZZZZZ"} {
		r := s.do("POST", "/v1/matches/"+matchID+"/procuration", requester, map[string]any{"reference": ref})
		require.Equal(t, 422, r.Status, r.Raw)
		require.NotContains(t, r.Raw, "validated")
	}
	m, err := s.app.Store.Match(context.Background(), matchID)
	require.NoError(t, err)
	require.Equal(t, "accepted", string(m.Status), "the match did not move")
	// Luc's own dossier for Camille links.
	own := s.create(s.grantor("fc-luc", luc), luc, "69123", camille, "2001-09-15")
	require.Equal(t, 201, own.Status, own.Raw)
	r := s.do("POST", "/v1/matches/"+matchID+"/procuration", requester, map[string]any{"reference": own.Body["reference"]})
	require.Equal(t, 200, r.Status, r.Raw)
}

// Findings 10 and 11: references are not guessed at a counter, official
// emails go to no stranger, and a grantor cannot flood anyone.
func TestAbuseEnumerationAndMailBombing(t *testing.T) {
	s := newStack(t)
	s.loadVoters()
	ctx := context.Background()
	police := s.police("opj-curious")
	for i := range 12 {
		r := s.do("GET", fmt.Sprintf("/v1/procurations/ZZZZ%c%c", 'A'+i%20, 'B'), police, nil)
		require.Equal(t, 404, r.Status)
	}
	var misses, alerts int
	require.NoError(t, s.app.Pool.QueryRow(ctx, `SELECT count(*) FILTER (WHERE action = 'view.miss'), count(*) FILTER (WHERE action = 'alert.enumeration')
		FROM audit_log WHERE actor_sub LIKE '%|opj-curious'`).Scan(&misses, &alerts))
	require.Equal(t, 12, misses, "misses are audited")
	require.GreaterOrEqual(t, alerts, 1, "a run of misses raises an alert")
	var last response
	for range 130 {
		if last = s.do("GET", "/v1/procurations/ZZZZZB", police, nil); last.Status == 429 {
			break
		}
	}
	require.Equal(t, 429, last.Status, "an agent's reads are bounded")

	marieTok := s.grantor("fc-marie", marie)
	other := s.do("POST", "/v1/procurations", marieTok, map[string]any{"grantor": map[string]any{"nne": marie, "commune_code": "75056",
		"email": "victim@example.fr"}, "proxy": map[string]any{"nne": jean, "birth_date": "1979-11-03"},
		"validity": map[string]any{"election_id": "presidentielle-2027", "rounds": []int{1}}})
	require.Equal(t, 422, other.Status, other.Raw)
	require.Equal(t, []string{"body.grantor.email"}, fieldLocations(other))
	// Ten requests a day: create and cancel, then the eleventh is refused.
	for range 10 {
		r := s.create(marieTok, marie, "75056", jean, "1979-11-03")
		require.Equal(t, 201, r.Status, r.Raw)
		require.Equal(t, 200, s.do("POST", "/v1/procurations/"+r.Body["reference"].(string)+"/cancel", marieTok, nil).Status)
	}
	flood := s.create(marieTok, marie, "75056", jean, "1979-11-03")
	require.Equal(t, 429, flood.Status, flood.Raw)
	require.Empty(t, s.smtp.To("victim@example.fr"))
}

// The holder's address is taken only with the grantor's explicit consent
// and only as one plain address: anything else is a 422 naming the field,
// nothing is filed and nobody is written to. PostgreSQL refuses an address
// without its consent whatever the code does.
func TestAbuseHolderEmailWithoutConsentOrMalformed(t *testing.T) {
	s := newStack(t)
	s.loadVoters()
	ctx := context.Background()
	marieTok := s.grantor("fc-marie", marie)
	create := func(proxy map[string]any) response {
		proxy["nne"], proxy["birth_date"] = jean, "1979-11-03"
		return s.do("POST", "/v1/procurations", marieTok, map[string]any{"grantor": map[string]any{"nne": marie, "commune_code": "75056"},
			"proxy": proxy, "validity": map[string]any{"election_id": "presidentielle-2027", "rounds": []int{1}}})
	}
	for name, tc := range map[string]struct {
		proxy map[string]any
		want  []string
	}{
		"an address without consent":    {map[string]any{"email": "victim@example.fr"}, []string{"body.proxy.email_consent"}},
		"consent refused":               {map[string]any{"email": "victim@example.fr", "email_consent": false}, []string{"body.proxy.email_consent"}},
		"consent without an address":    {map[string]any{"email_consent": true}, []string{"body.proxy.email"}},
		"not an address":                {map[string]any{"email": "jean at example", "email_consent": true}, []string{"body.proxy.email"}},
		"several addresses":             {map[string]any{"email": "victim@example.fr, other@example.fr", "email_consent": true}, []string{"body.proxy.email"}},
		"a display name":                {map[string]any{"email": "Jean <victim@example.fr>", "email_consent": true}, []string{"body.proxy.email"}},
		"a header smuggled in":          {map[string]any{"email": "victim@example.fr\r\nBcc: other@example.fr", "email_consent": true}, []string{"body.proxy.email"}},
		"malformed and without consent": {map[string]any{"email": "victim@"}, []string{"body.proxy.email", "body.proxy.email_consent"}},
		"too long":                      {map[string]any{"email": strings.Repeat("a", 250) + "@example.fr", "email_consent": true}, []string{"body.proxy.email"}},
		"consent of the wrong type":     {map[string]any{"email": "victim@example.fr", "email_consent": "yes"}, []string{"body.proxy.email_consent"}},
	} {
		r := create(tc.proxy)
		require.Equal(t, 422, r.Status, "%s: %s", name, r.Raw)
		require.ElementsMatch(t, tc.want, fieldLocations(r), name)
		require.NotContains(t, r.Raw, "victim", "%s: a 422 never echoes the request", name)
	}
	var n int
	require.NoError(t, s.app.Pool.QueryRow(ctx, `SELECT count(*) FROM procurations`).Scan(&n))
	require.Zero(t, n, "nothing filed")

	ok := create(map[string]any{"email": "jean.martin@example.fr", "email_consent": true})
	require.Equal(t, 201, ok.Status, ok.Raw)
	_, err := s.app.Pool.Exec(ctx, `UPDATE procurations SET proxy_email_consent_at = NULL WHERE reference = $1`, ok.Body["reference"])
	require.ErrorContains(t, err, "proxy_email_needs_consent")
	_, err = s.app.Pool.Exec(ctx, `UPDATE procurations SET proxy_email = '', proxy_email_consent_at = NULL WHERE reference = $1`, ok.Body["reference"])
	require.NoError(t, err, "the address may be erased with its consent")
	s.waitMails("fc-marie@example.fr", 1)
	require.Empty(t, s.smtp.To("victim@example.fr"))
	require.Empty(t, s.smtp.To("other@example.fr"))
}

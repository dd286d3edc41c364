package e2e

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/procurations/procuration/internal/auth"
	"github.com/procurations/procuration/internal/store"
)

// The contract as a client developer meets it: idempotency keys bound to
// one request, lists that page to the end, states named in 409s, an import
// that loads what it can and says what it refused.
func TestContractAsAClientMeetsIt(t *testing.T) {
	s := newStack(t)
	s.loadVoters()
	ctx := context.Background()
	marieTok := s.grantor("fc-marie", marie)

	// An Idempotency-Key reused for another request: 422, nothing created.
	body := map[string]any{"grantor": map[string]any{"nne": marie, "commune_code": "75056"},
		"proxy": map[string]any{"nne": jean, "birth_date": "1979-11-03"}, "validity": map[string]any{"election_id": "presidentielle-2027", "rounds": []int{1}}}
	first := s.do("POST", "/v1/procurations", marieTok, body, "Idempotency-Key", "k-1")
	require.Equal(t, 201, first.Status, first.Raw)
	body["validity"] = map[string]any{"election_id": "presidentielle-2027", "rounds": []int{2}}
	reused := s.do("POST", "/v1/procurations", marieTok, body, "Idempotency-Key", "k-1")
	require.Equal(t, 422, reused.Status, reused.Raw)
	require.Equal(t, []string{"header.Idempotency-Key"}, fieldLocations(reused))
	var n int
	require.NoError(t, s.app.Pool.QueryRow(ctx, `SELECT count(*) FROM procurations`).Scan(&n))
	require.Equal(t, 1, n)

	// The register import: bad lines are refused one by one, in French,
	// the others load; dates nobody was born on are refused.
	today := time.Now().Format(time.DateOnly)
	imp := s.do("POST", "/v1/register/imports", s.support(), "nne,family_name,given_names,sex,birth_date,commune_code,polling_station\n"+
		"200000001,NOUVEAU,Ana,F,1990-01-01,75056,75056_0003\n"+
		"200000002,FUTUR,Zoé,F,2999-01-01,75056,75056_0003\n"+
		"200000003,ZERO,Yann,M,0000-01-01,75056,75056_0003\n"+
		"200000004,SEUL\n"+
		"200000005,AUJOURDHUI,Léa,F,"+today+",75056,75056_0003\n")
	require.Equal(t, 200, imp.Status, imp.Raw)
	require.EqualValues(t, 2, imp.Body["imported"], imp.Raw)
	require.Len(t, imp.Body["rejected"], 3, imp.Raw)
	require.Contains(t, imp.Raw, "invraisemblable")
	header := s.do("POST", "/v1/register/imports", s.support(), "a,b\n1,2\n")
	require.Equal(t, 422, header.Status)
	require.Contains(t, header.Raw, "en-tête attendu")

	// A campaign, 7 confirmed requesters: lists page with a cursor to the end.
	require.Equal(t, 201, s.do("POST", "/v1/campaigns", s.support(), map[string]any{"id": "page-2027", "name": "Page", "election_id": "presidentielle-2027",
		"sender": "Page <page@page.example>", "matching_every_minutes": 0}).Status)
	var ids []string
	for i := range 7 {
		ids = append(ids, s.signUpConfirmed("page-2027", "requests", map[string]any{"given_names": "Personne", "family_name": fmt.Sprintf("NUMÉRO%c", 'A'+i),
			"birth_date": "1980-01-01", "email": fmt.Sprintf("p%d@example.fr", i), "commune_code": "75056", "rounds": []int{1}, "consent": true}))
	}
	bo := s.token(auth.RoleBackOffice, "bo-page", map[string]any{"campaigns": []string{"page-2027"}})
	var seen []string
	for cursor, pages := "", 0; ; pages++ {
		require.Less(t, pages, 5)
		r := s.do("GET", "/v1/campaigns/page-2027/requests?limit=3&cursor="+cursor, bo, nil)
		require.Equal(t, 200, r.Status, r.Raw)
		for _, item := range r.Body["items"].([]any) {
			seen = append(seen, item.(map[string]any)["id"].(string))
		}
		next, _ := r.Body["next_cursor"].(string)
		if next == "" {
			break
		}
		cursor = next
	}
	require.Equal(t, ids, seen, "every sign-up, once, oldest first")
	require.Equal(t, 422, s.do("GET", "/v1/campaigns/page-2027/requests?cursor=garbage", bo, nil).Status)

	// Confirming a sign-up that left the pool names its state.
	_, err := s.app.Pool.Exec(ctx, `UPDATE signups SET status = 'withdrawn' WHERE id = $1`, ids[0])
	require.NoError(t, err)
	link := s.link(auth.RoleRequester, ids[0], auth.PurposeConfirmSignup, ids[0])
	confirm := s.do("POST", "/v1/signups/"+ids[0]+"/confirm", "", map[string]any{"token": link})
	require.Equal(t, 409, confirm.Status, confirm.Raw)
	require.Equal(t, "withdrawn", confirm.state(), confirm.Raw)
	su, err := s.app.Store.Signup(ctx, ids[0])
	require.NoError(t, err)
	require.Equal(t, "withdrawn", su.Status, "still out of the pool")

	// matching_every_minutes: 0 means on demand: no schedule.
	_, err = s.app.Temporal.ScheduleClient().GetHandle(ctx, "matching-page-2027").Describe(ctx)
	require.Error(t, err)
	c, err := s.app.Store.Campaign(ctx, "page-2027")
	require.NoError(t, err)
	require.Zero(t, c.MatchingEvery)

	// Sign-up fields that would end up in emails are bounded and clean.
	bad := s.do("POST", "/v1/campaigns/page-2027/volunteers", "", map[string]any{"given_names": "R2D2", "family_name": "X",
		"birth_date": "1980-01-01", "email": "a@b", "phone": "<script>", "commune_code": "75056", "rounds": []int{1}, "consent": true})
	require.Equal(t, 422, bad.Status, bad.Raw)
	require.ElementsMatch(t, []string{"body.given_names", "body.email", "body.phone"}, fieldLocations(bad))
	var signups int
	require.NoError(t, s.app.Pool.QueryRow(ctx, `SELECT count(*) FROM signups WHERE side = $1`, store.SideVolunteer).Scan(&signups))
	require.Zero(t, signups)
}

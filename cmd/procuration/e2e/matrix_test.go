package e2e

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/danielgtaylor/huma/v2"
	"github.com/stretchr/testify/require"

	"github.com/procurations/procuration/api"
	"github.com/procurations/procuration/internal/auth"
)

// allow means the identity got past authentication and authorisation: any
// answer but 401, 403 and 404 (a 409 or a 422 is the use case speaking).
const allow = 0

// TestAuthorisationMatrix calls every operation of the OpenAPI document as
// every kind of caller, with every kind of broken token, and compares each
// answer with the table below. An operation without a row fails the test.
func TestAuthorisationMatrix(t *testing.T) {
	s := newStack(t)
	s.loadVoters()

	// The objects the operations name: Marie's dossier, a campaign and one
	// of its matches awaiting answers.
	created := s.create(s.grantor("fc-marie", marie), marie, "75056", jean, "1979-11-03")
	require.Equal(t, 201, created.Status, created.Raw)
	ref := created.Body["reference"].(string)
	require.Equal(t, 201, s.do("POST", "/v1/campaigns", s.support(), map[string]any{"id": "mx-2027", "name": "Matrice",
		"election_id": "presidentielle-2027", "sender": "Matrice <m@mx.example>", "matching_every_minutes": 0, "back_office_approval": true}).Status)
	person := func(given, email string) map[string]any {
		return map[string]any{"given_names": given, "family_name": "MATRICE", "birth_date": "1980-01-01", "email": email,
			"commune_code": "75056", "polling_station": "75056_0009", "rounds": []int{1}, "consent": true}
	}
	requestID := s.signUpConfirmed("mx-2027", "requests", person("Rita", "rita@example.fr"))
	volunteerID := s.signUpConfirmed("mx-2027", "volunteers", person("Victor", "victor@example.fr"))
	bo := s.token(auth.RoleBackOffice, "bo-mx", map[string]any{"campaigns": []string{"mx-2027"}})
	run := s.do("POST", "/v1/campaigns/mx-2027/matching-runs", bo, map[string]any{"dry_run": false})
	require.Equal(t, 200, run.Status, run.Raw)
	matchID := run.Body["matches"].([]any)[0].(map[string]any)["id"].(string)
	bulk := s.do("POST", "/v1/campaigns/mx-2027/matches/approvals", bo, map[string]any{"ids": []string{matchID}, "outcome": "approved"})
	require.Equal(t, 202, bulk.Status, bulk.Raw)
	job := bulk.Body["job"].(string)

	// The callers.
	other := func(url string) *auth.Issuer {
		i, err := auth.LoadOrCreateIssuer(url, s.cfg.Audience, filepath.Join(t.TempDir(), "other.pem"), true)
		require.NoError(t, err)
		return i
	}
	police := s.police("opj-mx")
	mint := func(i *auth.Issuer, role string, ttl time.Duration) string {
		tok, err := i.Mint(role, "opj-mx", map[string]any{"given_name": "Paul", "family_name": "LEMAIRE"}, ttl)
		require.NoError(t, err)
		return tok
	}
	parts := strings.Split(police, ".")
	hsHeader := base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"HS256","typ":"JWT"}`))
	mac := hmac.New(sha256.New, []byte("public key material"))
	mac.Write([]byte(hsHeader + "." + parts[1]))
	callers := map[string]string{
		"none":              "",
		"grantor":           s.grantor("fc-marie", marie),
		"other grantor":     s.grantor("fc-jean", jean),
		"police":            police,
		"town hall":         s.townHall("mairie-paris", "75056"),
		"other town hall":   s.townHall("mairie-lyon", "69123"),
		"support":           s.support(),
		"back office":       bo,
		"other back office": s.token(auth.RoleBackOffice, "bo-other", map[string]any{"campaigns": []string{"another"}}),
		"match link":        s.link(auth.RoleRequester, requestID, auth.PurposeMatch, matchID),
		"offer link":        s.link(auth.RoleVolunteer, volunteerID, auth.PurposeAnswerOffer, matchID),
		"other offer link":  s.link(auth.RoleVolunteer, volunteerID, auth.PurposeAnswerOffer, "m-0000000000000000"),
		"confirmation link": s.link(auth.RoleRequester, requestID, auth.PurposeConfirmSignup, requestID),
		"expired":           mint(s.issuer, auth.RolePolice, -time.Minute),
		"foreign key":       mint(other(s.url), auth.RolePolice, time.Hour),
		"wrong audience":    mustMint(t, &auth.Issuer{}, s, "another-service"),
		"wrong issuer":      mint(other("http://issuer.invalid"), auth.RolePolice, time.Hour),
		"alg none":          base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"none"}`)) + "." + parts[1] + ".",
		"HS256":             hsHeader + "." + parts[1] + "." + base64.RawURLEncoding.EncodeToString(mac.Sum(nil)),
	}
	broken := []string{"expired", "foreign key", "wrong audience", "wrong issuer", "alg none", "HS256"}

	type op struct {
		method, path string
		body         any
		// tokenInBody: the link's token travels in the body, not a header.
		tokenInBody bool
		// want lists the callers allowed, and the answer of those who are not;
		// others answer otherwise.
		allowed   []string
		otherwise int
		except    map[string]int
	}
	proc := "/v1/procurations/" + ref
	ops := map[string]op{
		"health":                    {method: "GET", path: "/healthz", allowed: []string{"*"}},
		"ready":                     {method: "GET", path: "/readyz", allowed: []string{"*"}},
		"import-register":           {method: "POST", path: "/v1/register/imports", body: "nne,family_name,given_names,sex,birth_date,commune_code,polling_station\n", allowed: []string{"support"}, otherwise: 403},
		"lookup-voter":              {method: "POST", path: "/v1/register/lookup", body: map[string]any{"family_name": "DUPONT", "given_names": "Marie Claire", "birth_date": "1985-04-12", "commune_code": "75056"}, allowed: []string{"grantor", "other grantor", "match link"}, otherwise: 403},
		"list-elections":            {method: "GET", path: "/v1/elections", allowed: []string{"*authenticated"}},
		"create-procuration":        {method: "POST", path: "/v1/procurations", body: map[string]any{"grantor": map[string]any{"nne": marie, "commune_code": "75056"}, "proxy": map[string]any{"nne": jean, "birth_date": "1979-11-03"}, "validity": map[string]any{"election_id": "presidentielle-2027", "rounds": []int{1}}}, allowed: []string{"grantor", "other grantor"}, otherwise: 403},
		"get-procuration":           {method: "GET", path: proc, allowed: []string{"grantor", "police", "town hall", "support"}, otherwise: 403, except: map[string]int{"other grantor": 404, "other town hall": 404}},
		"verify-procuration":        {method: "POST", path: proc + "/police-verification", body: map[string]any{"outcome": "verified", "id_document": map[string]any{"kind": "cni", "number": "X1234"}}, allowed: []string{"police"}, otherwise: 403},
		"decide-procuration":        {method: "POST", path: proc + "/town-hall-decision", body: map[string]any{"outcome": "validated"}, allowed: []string{"town hall"}, otherwise: 403, except: map[string]int{"other town hall": 404}},
		"cancel-procuration":        {method: "POST", path: proc + "/cancel", allowed: []string{"grantor"}, otherwise: 403, except: map[string]int{"other grantor": 404}},
		"list-commune-procurations": {method: "GET", path: "/v1/communes/75056/procurations", allowed: []string{"town hall", "support"}, otherwise: 403},
		"create-campaign":           {method: "POST", path: "/v1/campaigns", body: map[string]any{"id": "mx-2027", "name": "x", "election_id": "presidentielle-2027", "sender": "X <x@x.example>"}, allowed: []string{"support"}, otherwise: 403},
		"signup-request":            {method: "POST", path: "/v1/campaigns/mx-2027/requests", body: person("Publique", "publique@example.fr"), allowed: []string{"*"}},
		"signup-volunteer":          {method: "POST", path: "/v1/campaigns/mx-2027/volunteers", body: person("Publique", "publique@example.fr"), allowed: []string{"*"}},
		"list-requests":             {method: "GET", path: "/v1/campaigns/mx-2027/requests", allowed: []string{"back office", "support"}, otherwise: 403},
		"list-volunteers":           {method: "GET", path: "/v1/campaigns/mx-2027/volunteers", allowed: []string{"back office", "support"}, otherwise: 403},
		"run-matching":              {method: "POST", path: "/v1/campaigns/mx-2027/matching-runs", body: map[string]any{"dry_run": true}, allowed: []string{"back office", "support"}, otherwise: 403},
		"campaign-figures":          {method: "GET", path: "/v1/campaigns/mx-2027/figures", allowed: []string{"back office", "support"}, otherwise: 403},
		"list-matches":              {method: "GET", path: "/v1/campaigns/mx-2027/matches", allowed: []string{"back office", "support"}, otherwise: 403},
		"approve-matches":           {method: "POST", path: "/v1/campaigns/mx-2027/matches/approvals", body: map[string]any{"ids": []string{matchID}, "outcome": "approved"}, allowed: []string{"back office", "support"}, otherwise: 403},
		"propose-match":             {method: "POST", path: "/v1/campaigns/mx-2027/matches", body: map[string]any{"request_id": requestID, "volunteer_id": volunteerID}, allowed: []string{"back office", "support"}, otherwise: 403},
		"get-match-approvals":       {method: "GET", path: "/v1/campaigns/mx-2027/matches/approvals/" + job, allowed: []string{"back office", "support"}, otherwise: 403},
		"get-match":                 {method: "GET", path: "/v1/matches/" + matchID, allowed: []string{"back office", "support", "match link", "offer link"}, otherwise: 404, except: map[string]int{"other offer link": 403, "confirmation link": 403}},
		"approve-match":             {method: "POST", path: "/v1/matches/" + matchID + "/approval", body: map[string]any{"outcome": "approved"}, allowed: []string{"back office", "support"}, otherwise: 403, except: map[string]int{"other back office": 404}},
		"answer-match":              {method: "POST", path: "/v1/matches/" + matchID + "/answer", body: map[string]any{"outcome": "accepted"}, allowed: []string{"match link", "offer link"}, otherwise: 403},
		"link-procuration":          {method: "POST", path: "/v1/matches/" + matchID + "/procuration", body: map[string]any{"reference": ref}, allowed: []string{"match link"}, otherwise: 403},
		"confirm-signup":            {method: "POST", path: "/v1/signups/" + requestID + "/confirm", tokenInBody: true, allowed: []string{"confirmation link"}, otherwise: 401, except: map[string]int{"match link": 403}},
		"answer-match-link":         {method: "POST", path: "/v1/matches/" + matchID + "/answer-link", tokenInBody: true, allowed: []string{"offer link"}, otherwise: 403, except: map[string]int{"none": 401}},
	}

	_, doc := api.New(api.Deps{Service: s.app.Service, Verifier: auth.NewVerifier("procuration", nil, nil)})
	var missing []string
	for _, item := range doc.OpenAPI().Paths {
		for _, o := range []*huma.Operation{item.Get, item.Post, item.Put, item.Delete, item.Patch} {
			if o != nil {
				if _, ok := ops[o.OperationID]; !ok {
					missing = append(missing, o.OperationID)
				}
			}
		}
	}
	sort.Strings(missing)
	require.Empty(t, missing, "operations without a row in the authorisation matrix")

	names := make([]string, 0, len(ops))
	for id := range ops {
		names = append(names, id)
	}
	sort.Strings(names)
	// Actions that change state last, so reads see the objects as set up.
	sort.SliceStable(names, func(i, j int) bool { return ops[names[i]].method == "GET" && ops[names[j]].method != "GET" })
	for _, id := range names {
		o := ops[id]
		for caller, token := range callers {
			want := o.otherwise
			switch {
			case contains(o.allowed, "*"):
				want = allow
			case contains(o.allowed, "*authenticated") && caller != "none" && !contains(broken, caller):
				want = allow
			case contains(o.allowed, caller):
				want = allow
			case contains(broken, caller) || caller == "none":
				want = http.StatusUnauthorized
			}
			if w, ok := o.except[caller]; ok && !contains(o.allowed, caller) {
				want = w
			}
			if o.tokenInBody && !contains(o.allowed, caller) && contains(broken, caller) {
				want = http.StatusUnauthorized
			}
			var r response
			if o.tokenInBody {
				body := map[string]any{"token": token}
				if id == "answer-match-link" {
					body["outcome"] = "accepted"
				}
				r = s.do(o.method, o.path, "", body)
			} else {
				r = s.do(o.method, o.path, token, o.body)
			}
			switch {
			case want == allow && (r.Status == 401 || r.Status == 403 || r.Status == 404 || r.Status >= 500):
				t.Errorf("%s as %s: %d, want it allowed: %s", id, caller, r.Status, r.Raw)
			case want != allow && r.Status != want:
				t.Errorf("%s as %s: %d, want %d: %s", id, caller, r.Status, want, r.Raw)
			}
		}
	}
}

// A process that does not run the development issuer refuses its tokens:
// only the links of its own emails pass.
func TestDevelopmentTokensAreRefusedWithoutTheDevelopmentIssuer(t *testing.T) {
	s := newStack(t)
	verifier := auth.NewVerifier(s.cfg.Audience, nil, nil)
	verifier.TrustLinks(s.url)
	production, _ := api.New(api.Deps{Service: s.app.Service, Verifier: verifier})
	for name, tc := range map[string]struct {
		token, path string
		want        int
	}{
		"support":      {s.support(), "/v1/elections", 401},
		"police":       {s.police("opj-1"), "/v1/procurations/K7M2QX", 401},
		"grantor":      {s.grantor("fc-marie", marie), "/v1/elections", 401},
		"a match link": {s.link(auth.RoleRequester, "r-1", auth.PurposeMatch, "m-1"), "/v1/elections", 200},
	} {
		req := httptest.NewRequest("GET", tc.path, nil)
		req.Header.Set("Authorization", "Bearer "+tc.token)
		rec := httptest.NewRecorder()
		production.ServeHTTP(rec, req)
		if rec.Code != tc.want {
			t.Errorf("%s: %d, want %d", name, rec.Code, tc.want)
		}
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// mustMint signs a police token with the stack's key for another audience.
func mustMint(t *testing.T, _ *auth.Issuer, s *stack, audience string) string {
	i, err := auth.LoadOrCreateIssuer(s.url, audience, s.cfg.IssuerKey, false)
	require.NoError(t, err)
	tok, err := i.Mint(auth.RolePolice, "opj-mx", nil, time.Hour)
	require.NoError(t, err)
	return tok
}

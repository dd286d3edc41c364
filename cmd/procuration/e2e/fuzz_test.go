package e2e

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"regexp"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.temporal.io/api/enums/v1"
	workflowpb "go.temporal.io/api/workflow/v1"
	"go.temporal.io/api/workflowservice/v1"

	"github.com/procurations/procuration/internal/auth"
	"github.com/procurations/procuration/internal/geo"
	"github.com/procurations/procuration/internal/signup"
)

// TestFuzzOpenAPI sends some 5,000 malformed requests, generated from the
// OpenAPI document for every operation, to the whole stack, and checks that
// each is refused cleanly: no 5xx, problem+json in French that never echoes
// what was sent, nothing stored, no workflow started or left retrying.
func TestFuzzOpenAPI(t *testing.T) {
	started := time.Now()
	s := newStack(t, "--match-dossier-check=1h")
	fx := s.fuzzObjects()
	setupDone := time.Now()

	var doc openAPI
	res, err := http.Get(s.url + "/openapi.json")
	require.NoError(t, err)
	dec := json.NewDecoder(res.Body)
	dec.UseNumber()
	require.NoError(t, dec.Decode(&doc))
	res.Body.Close()

	genStart := time.Now()
	ops := doc.operations()
	require.NotEmpty(t, ops)
	var cases []fuzzCase
	known := map[string]bool{}
	for _, op := range ops {
		f, ok := fx.fixtures[op.id]
		if !ok {
			t.Logf("operation %s has no fixture: fuzzed from its schema with every role", op.id)
			f = doc.genericFixture(op, fx.allTokens)
		}
		known[op.id] = true
		g := &gen{doc: &doc, op: op, fx: f, csvHeader: "nne,family_name,given_names,sex,birth_date,commune_code,polling_station", expired: fx.expired}
		g.generate()
		require.NotEmpty(t, g.cases, "operation %s has no generated case", op.id)
		for _, loc := range doc.expected(op) {
			require.True(t, g.covered[loc], "operation %s: no case changes %s (body %q)", op.id, loc, op.bodyType)
		}
		cases = append(cases, g.cases...)
	}
	for id := range fx.fixtures {
		require.True(t, known[id], "fixture %s names no operation of the document", id)
	}

	t.Logf("%d cases generated in %s", len(cases), time.Since(genStart).Round(time.Millisecond))
	quiesceStart := time.Now()
	s.quiesce()
	t.Logf("setup settled in %s", time.Since(quiesceStart).Round(time.Millisecond))
	before := s.snapshot()
	workflowsBefore := s.workflows()
	require.Empty(t, s.retrying(), "workflows retrying before the fuzz run")

	fuzzStart := time.Now()
	results := s.send(cases, 6)
	fuzzTime := time.Since(fuzzStart)

	v := newVerdicts()
	for i, r := range results {
		v.check(cases[i], r)
	}
	if path := os.Getenv("FUZZ_DUMP"); path != "" {
		// Every case and its answer, one a line, to study a run.
		var dump bytes.Buffer
		for i, r := range results {
			fmt.Fprintf(&dump, "%s\t%d\t%s\t%s\n", cases[i].op, r.status, cases[i], abridge(r.body, 200))
		}
		require.NoError(t, os.WriteFile(path, dump.Bytes(), 0o644))
	}

	t.Logf("answers checked %s after the run", time.Since(fuzzStart.Add(fuzzTime)).Round(time.Millisecond))
	// Nothing stored, nothing started, nothing stuck.
	time.Sleep(time.Until(fuzzStart.Add(fuzzTime).Add(4 * time.Second)))
	after := s.snapshot()
	for _, table := range fuzzTables {
		if before[table] != after[table] {
			v.add("stored", "", fmt.Sprintf("table %s changed: %s → %s", table, before[table], after[table]))
		}
	}
	workflowsAfter := s.workflows()
	for id := range workflowsAfter {
		if !workflowsBefore[id] {
			v.add("workflow started", "", id)
		}
	}
	stuck := s.retrying()
	for _, st := range stuck {
		v.add("retrying forever", "", st)
	}

	t.Logf("stores and workflows checked %s after the run", time.Since(fuzzStart.Add(fuzzTime)).Round(time.Millisecond))
	byStatus := map[int]int{}
	for _, r := range results {
		byStatus[r.status]++
	}
	codes := make([]int, 0, len(byStatus))
	for c := range byStatus {
		codes = append(codes, c)
	}
	sort.Ints(codes)
	var parts []string
	for _, c := range codes {
		parts = append(parts, fmt.Sprintf("%d:%d", c, byStatus[c]))
	}
	v.report(t)
	t.Logf("fuzz: %d requests over %d operations in %s (setup %s, total %s); answers by status %s; %d 5xx, %d non-problem+json errors, "+
		"%d without an answer, %d English messages, %d echoes, %d tables changed, %d workflows started, workflows retrying forever: %d",
		len(cases), len(ops), fuzzTime.Round(time.Millisecond), setupDone.Sub(started).Round(time.Millisecond),
		time.Since(started).Round(time.Millisecond), strings.Join(parts, " "), v.count["5xx"], v.count["not problem+json"],
		v.count["no answer"], v.count["English"], v.count["echo"], v.count["stored"], v.count["workflow started"], len(stuck))
}

// --- the objects the cases point at ---

type fuzzFixtures struct {
	fixtures  map[string]fixture
	allTokens []string
	expired   string
}

// fuzzObjects creates a campaign, a dossier in each state a portal acts
// on, sign-ups and two matches, and describes how each operation is called.
func (s *stack) fuzzObjects() fuzzFixtures {
	t := s.t
	s.loadVoters()
	support := s.support()
	police := s.police("opj-fuzz")
	paris := s.townHall("mairie-fuzz-paris", "75056")
	lyon := s.townHall("mairie-fuzz-lyon", "69123")

	create := func(tok, grantor, commune, proxy, birth string) string {
		r := s.create(tok, grantor, commune, proxy, birth)
		require.Equal(t, 201, r.Status, r.Raw)
		return r.Body["reference"].(string)
	}
	verify := func(ref, outcome string) {
		body := map[string]any{"outcome": outcome, "id_document": map[string]any{"kind": "cni", "number": "ZQ123"}}
		if outcome == "refused" {
			body["reason"] = "pièce d'identité expirée"
		}
		r := s.do("POST", "/v1/procurations/"+ref+"/police-verification", police, body)
		require.Equal(t, 200, r.Status, r.Raw)
	}
	decide := func(ref, tok, outcome string) {
		body := map[string]any{"outcome": outcome}
		if outcome == "invalidated" {
			body["reason"] = "mandataire non inscrit"
		}
		r := s.do("POST", "/v1/procurations/"+ref+"/town-hall-decision", tok, body)
		require.Equal(t, 200, r.Status, r.Raw)
	}
	gA, gB, gC := s.grantor("fz-a", marie), s.grantor("fz-b", sophie), s.grantor("fz-c", jean)
	gD, gE := s.grantor("fz-d", camille), s.grantor("fz-e", luc)
	awaitingPolice := create(gA, marie, "75056", jean, "1979-11-03")
	awaitingTownHall := create(gB, sophie, "75056", marie, "1985-04-12")
	verify(awaitingTownHall, "verified")
	validated := create(gC, jean, "75056", sophie, "1992-06-30")
	verify(validated, "verified")
	decide(validated, paris, "validated")
	refused := create(gD, camille, "69123", luc, "1968-01-21")
	verify(refused, "refused")
	cancelled := create(gE, luc, "69123", camille, "2001-09-15")
	require.Equal(t, 200, s.do("POST", "/v1/procurations/"+cancelled+"/cancel", gE, nil).Status)
	// One live dossier per vote: Luc, whose dossier was cancelled, asks again.
	invalidatedTok := s.grantor("fz-f", luc)
	invalidated := create(invalidatedTok, luc, "69123", camille, "2001-09-15")
	verify(invalidated, "verified")
	decide(invalidated, lyon, "invalidated")

	// A campaign with its pool: two pairs matched, one match rejected.
	const campaign = "fuzz-2027"
	r := s.do("POST", "/v1/campaigns", support, map[string]any{"id": campaign, "name": "Fuzz 2027", "election_id": geo.DemoElection.ID,
		"sender": "Fuzz <contact@fuzz.example>", "back_office_approval": true, "matching_every_minutes": 0})
	require.Equal(t, 201, r.Status, r.Raw)
	// A campaign nobody signed up to: a matching run there proposes nothing.
	const empty = "fuzz-empty"
	r = s.do("POST", "/v1/campaigns", support, map[string]any{"id": empty, "name": "Fuzz vide", "election_id": geo.DemoElection.ID,
		"sender": "Fuzz <contact@fuzz.example>", "matching_every_minutes": 0})
	require.Equal(t, 201, r.Status, r.Raw)
	bo := s.token(auth.RoleBackOffice, "bo-fuzz", map[string]any{"campaigns": []string{campaign, empty}})
	person := func(given, family, birth, email string) map[string]any {
		return map[string]any{"given_names": given, "family_name": family, "birth_date": birth, "email": email,
			"commune_code": "75056", "polling_station": "75056_0001", "rounds": []int{1, 2}, "consent": true}
	}
	// The sign-up's id is only in its confirmation link.
	signUp := func(side string, p map[string]any, confirm bool) string {
		r := s.do("POST", "/v1/campaigns/"+campaign+"/"+side, "", p)
		require.Equal(t, 201, r.Status, r.Raw)
		link := confirmLink.FindString(s.waitMails(p["email"].(string), 1)[0].Text)
		if confirm {
			c := s.followLink(link)
			require.Equal(t, 200, c.Status, c.Raw)
		}
		return linkID(link)
	}
	signUp("requests", person("Alice", "FUZZ", "1980-01-01", "alice.fuzz@example.fr"), true)
	signUp("requests", person("Chloé", "FUZZ", "1981-01-01", "chloe.fuzz@example.fr"), true)
	signUp("volunteers", person("Bruno", "FUZZ", "1982-01-01", "bruno.fuzz@example.fr"), true)
	signUp("volunteers", person("Denis", "FUZZ", "1983-01-01", "denis.fuzz@example.fr"), true)
	unconfirmed := signUp("requests", person("Émile", "FUZZ", "1984-01-01", "emile.fuzz@example.fr"), false)
	run := s.do("POST", "/v1/campaigns/"+campaign+"/matching-runs", bo, map[string]any{"dry_run": false})
	require.Equal(t, 200, run.Status, run.Raw)
	matches := run.Body["matches"].([]any)
	require.Len(t, matches, 2, run.Raw)
	live, dead := matches[0].(map[string]any), matches[1].(map[string]any)
	liveID, deadID := live["id"].(string), dead["id"].(string)
	rej := s.do("POST", "/v1/matches/"+deadID+"/approval", bo, map[string]any{"outcome": "rejected"})
	require.Equal(t, 200, rej.Status, rej.Raw)
	require.Equal(t, "rejected", rej.Body["status"])
	// Nothing left to approve for a job but the live fixture's: a job
	// nobody started.
	const job = "0123456789abcdef"
	liveReq, liveVol := live["request_id"].(string), live["volunteer_id"].(string)
	deadReq, deadVol := dead["request_id"].(string), dead["volunteer_id"].(string)
	// Links of the emails: each names one purpose on one object.
	tokR, tokV := s.link(auth.RoleRequester, liveReq, auth.PurposeMatch, liveID), s.link(auth.RoleVolunteer, liveVol, auth.PurposeMatch, liveID)
	deadR, deadV := s.link(auth.RoleRequester, deadReq, auth.PurposeMatch, deadID), s.link(auth.RoleVolunteer, deadVol, auth.PurposeAnswerOffer, deadID)
	offerR := s.link(auth.RoleRequester, liveReq, auth.PurposeAnswerOffer, liveID)
	confirmU := s.link(auth.RoleRequester, unconfirmed, auth.PurposeConfirmSignup, unconfirmed)
	confirmR := s.link(auth.RoleRequester, liveReq, auth.PurposeConfirmSignup, liveReq)

	one := func(b base) fixture { return fixture{doomed: []base{b}} }
	m := func(kv ...string) map[string]string {
		out := map[string]string{}
		for i := 0; i+1 < len(kv); i += 2 {
			out[kv[i]] = kv[i+1]
		}
		return out
	}
	mk := func(path, query map[string]string, body any, doom string, tokens ...string) base {
		if path == nil {
			path = map[string]string{}
		}
		if query == nil {
			query = map[string]string{}
		}
		return base{path: path, query: query, header: map[string]string{}, body: body, tokens: tokens, doom: doom}
	}
	procurationBody := func(grantor, commune, proxy, birth string) map[string]any {
		return map[string]any{"grantor": map[string]any{"nne": grantor, "commune_code": commune, "phone": "0611223344"},
			"proxy":    map[string]any{"nne": proxy, "birth_date": birth},
			"validity": map[string]any{"election_id": geo.DemoElection.ID, "rounds": []any{1, 2}}}
	}
	signupBody := func(consent bool, birth string) map[string]any {
		return map[string]any{"given_names": "Zoé", "family_name": "LIVE", "birth_date": birth, "email": "zoe.live@example.fr",
			"phone": "0611223344", "nne": "100000009", "commune_code": "75056", "polling_station": "75056_0001", "rounds": []any{1, 2},
			"consent": consent}
	}
	campaignBody := func(id, sender string) map[string]any {
		return map[string]any{"id": id, "name": "Fuzz live", "election_id": geo.DemoElection.ID, "sender": sender,
			"back_office_approval": true, "answer_window_hours": 48, "retention_days": 30, "matching_every_minutes": 0,
			"link_reminder_days": []any{2, 5}}
	}
	verification := map[string]any{"outcome": "verified", "id_document": map[string]any{"kind": "cni", "number": "ZQ123456"}, "reason": "ras"}
	lineDoomed := []string{"199999991", "FUZZ", "Zoé", "F", "1990-01-01", "99999", "99999_0001"}
	lineDoomed2 := []string{"199999992", "FUZZ", "Zoé", "X", "1990-01-01", "75056", "75056_0001"}
	lineLive := []string{"199999993", "FUZZ", "Zoé", "F", "1990-01-01", "75056", "75056_0001"}
	listBase := func(tokens ...string) fixture {
		return one(mk(m("campaign", campaign), m("limit", "5"), nil, "", tokens...))
	}
	liveGrantor := s.token(auth.RoleGrantor, "fz-live", map[string]any{"given_name": "Camille", "family_name": "ROBERT",
		"birthdate": "2001-09-15", "email": "fz-live@example.fr"})

	withKey := func(b base, key string) base {
		b.header["Idempotency-Key"] = key
		return b
	}
	f := map[string]fixture{
		"health":         one(mk(nil, nil, nil, "", "")),
		"ready":          one(mk(nil, nil, nil, "", "")),
		"list-elections": one(mk(nil, nil, nil, "", gA, police, support, bo, tokR)),
		"import-register": {
			live: &base{path: map[string]string{}, query: map[string]string{}, header: map[string]string{}, csv: lineLive, tokens: []string{support}},
			doomed: []base{
				{path: map[string]string{}, query: map[string]string{}, header: map[string]string{}, csv: lineDoomed, tokens: []string{support}, doom: "body.commune_code"},
				{path: map[string]string{}, query: map[string]string{}, header: map[string]string{}, csv: lineDoomed2, tokens: []string{support}, doom: "body.sex"},
			},
		},
		"lookup-voter": one(mk(nil, nil, map[string]any{"family_name": "DUPONT", "given_names": "Marie Claire", "birth_date": "1985-04-12",
			"commune_code": "75056"}, "", gA, tokR, tokV)),
		"create-procuration": {
			live: ptr(withKey(mk(nil, nil, procurationBody(camille, "69123", luc, "1968-01-21"), "", liveGrantor), "fz-live-1")),
			doomed: []base{
				// Sophie's number with Marie's identity.
				withKey(mk(nil, nil, procurationBody(sophie, "75056", jean, "1979-11-03"), "body.grantor.nne", gA), "fz-doomed-1"),
				// An unknown proxy birth date.
				withKey(mk(nil, nil, procurationBody(marie, "75056", jean, "1979-11-04"), "body.proxy", gA), "fz-doomed-2"),
			},
		},
		"get-procuration": one(mk(m("reference", awaitingPolice), nil, nil, "", gA, police, paris, support)),
		"cancel-procuration": {
			live:   ptr(mk(m("reference", awaitingPolice), nil, nil, "", gA)),
			doomed: []base{mk(m("reference", cancelled), nil, nil, "", gE)},
		},
		"verify-procuration": {
			live:   ptr(mk(m("reference", awaitingPolice), nil, verification, "", police)),
			doomed: []base{mk(m("reference", awaitingTownHall), nil, verification, "path.reference", police)},
		},
		"decide-procuration": {
			live: ptr(mk(m("reference", awaitingTownHall), nil, map[string]any{"outcome": "validated", "reason": "ras"}, "", paris)),
			doomed: []base{mk(m("reference", awaitingPolice), nil, map[string]any{"outcome": "validated", "reason": "ras"}, "path.reference", paris),
				mk(m("reference", refused), nil, map[string]any{"outcome": "validated", "reason": "ras"}, "path.reference", lyon)},
		},
		"list-commune-procurations": one(mk(m("code", "75056"), m("limit", "5"), nil, "", paris, support)),
		"create-campaign": {
			live: ptr(mk(nil, nil, campaignBody("fuzz-live", "Fuzz <contact@fuzz.example>"), "", support)),
			doomed: []base{mk(nil, nil, campaignBody(campaign, "Fuzz <contact@fuzz.example>"), "body.id", support),
				mk(nil, nil, campaignBody("fuzz-doomed", "pas une adresse"), "body.sender", support)},
		},
		"campaign-figures": listBase(bo, support),
		"list-matches":     listBase(bo, support),
		"list-requests":    listBase(bo, support),
		"list-volunteers":  listBase(bo, support),
		"approve-matches": {
			live:   ptr(mk(m("campaign", campaign), nil, map[string]any{"ids": []any{liveID}, "outcome": "approved"}, "", bo, support)),
			doomed: []base{mk(m("campaign", campaign), nil, map[string]any{"ids": []any{deadID, "m-zqunknown"}, "outcome": "approved"}, "", bo, support)},
		},
		// Both already in a match: refused, whatever the mutation.
		"propose-match":       one(mk(m("campaign", campaign), nil, map[string]any{"request_id": liveReq, "volunteer_id": liveVol}, "", bo, support)),
		"get-match-approvals": one(mk(m("campaign", campaign, "job", job), nil, nil, "", bo, support)),
		"run-matching": {
			live:   ptr(mk(m("campaign", campaign), nil, map[string]any{"dry_run": false}, "", bo, support)),
			doomed: []base{mk(m("campaign", empty), nil, map[string]any{"dry_run": false}, "", bo, support)},
		},
		"signup-request": {
			live: ptr(mk(m("campaign", campaign), nil, signupBody(true, "1990-01-01"), "", "")),
			doomed: []base{mk(m("campaign", campaign), nil, signupBody(false, "1990-01-01"), "body.consent", "", gA),
				mk(m("campaign", campaign), nil, signupBody(true, "2015-01-01"), "body.birth_date", "")},
		},
		"signup-volunteer": {
			live: ptr(mk(m("campaign", campaign), nil, signupBody(true, "1990-01-01"), "", "")),
			doomed: []base{mk(m("campaign", campaign), nil, signupBody(false, "1990-01-01"), "body.consent", "", gA),
				mk(m("campaign", campaign), nil, signupBody(true, "2015-01-01"), "body.birth_date", "")},
		},
		"confirm-signup": {
			live: ptr(mk(m("id", unconfirmed), nil, map[string]any{"token": confirmU}, "", "")),
			// Confirming again changes nothing.
			doomed: []base{mk(m("id", liveReq), nil, map[string]any{"token": confirmR}, "", "")},
		},
		"get-match": one(mk(m("id", liveID), nil, nil, "", bo, support, tokR, tokV)),
		"approve-match": {
			live:   ptr(mk(m("id", liveID), nil, map[string]any{"outcome": "approved"}, "", bo, support)),
			doomed: []base{mk(m("id", deadID), nil, map[string]any{"outcome": "approved"}, "", bo, support)},
		},
		"answer-match": {
			live:   ptr(mk(m("id", liveID), nil, map[string]any{"outcome": "accepted"}, "", tokR, tokV)),
			doomed: []base{mk(m("id", deadID), nil, map[string]any{"outcome": "accepted"}, "", deadR, deadV)},
		},
		"answer-match-link": {
			live:   ptr(mk(m("id", liveID), nil, map[string]any{"token": offerR, "outcome": "accepted"}, "", "")),
			doomed: []base{mk(m("id", deadID), nil, map[string]any{"token": deadV, "outcome": "accepted"}, "", "")},
		},
		"link-procuration": {
			live:   ptr(mk(m("id", liveID), nil, map[string]any{"reference": awaitingPolice}, "", tokR)),
			doomed: []base{mk(m("id", deadID), nil, map[string]any{"reference": awaitingPolice}, "", deadR)},
		},
	}
	expired, err := s.issuer.Mint(auth.RoleSupport, "support-1", nil, -time.Hour)
	require.NoError(t, err)
	return fuzzFixtures{fixtures: f, expired: expired, allTokens: []string{"", gA, police, paris, support, bo, tokR, tokV}}
}

func ptr(b base) *base { return &b }

// --- what is stored ---

var fuzzTables = []string{"procurations", "procuration_history", "idempotency_keys", "proxy_slots", "step_notes", "agents",
	"signups", "matches", "match_history", "match_slots", "declined_pairs", "campaigns", "voters", "sent_emails"}

// snapshot is each table's row count and a digest of its rows.
func (s *stack) snapshot() map[string]string {
	out := map[string]string{}
	for _, table := range fuzzTables {
		var n int
		var digest string
		require.NoError(s.t, s.app.Pool.QueryRow(context.Background(),
			`SELECT count(*), coalesce(md5(string_agg(t::text, '|' ORDER BY t::text)), '') FROM `+table+` t`).Scan(&n, &digest))
		out[table] = fmt.Sprintf("%d rows (%s)", n, digest[:min(8, len(digest))])
	}
	return out
}

// listWorkflows pages through the executions a visibility query finds.
func (s *stack) listWorkflows(query string) []*workflowpb.WorkflowExecutionInfo {
	var out []*workflowpb.WorkflowExecutionInfo
	var token []byte
	for {
		res, err := s.app.Temporal.ListWorkflow(context.Background(), &workflowservice.ListWorkflowExecutionsRequest{
			Namespace: s.cfg.Temporal.Namespace, PageSize: 1000, NextPageToken: token, Query: query})
		require.NoError(s.t, err)
		out = append(out, res.Executions...)
		if token = res.NextPageToken; len(token) == 0 {
			return out
		}
	}
}

// workflows names every execution the namespace knows, running or closed.
func (s *stack) workflows() map[string]bool {
	out := map[string]bool{}
	for _, e := range s.listWorkflows("") {
		out[e.Execution.WorkflowId+"/"+e.Execution.RunId] = true
	}
	return out
}

// retrying names the running workflows with an activity at its third
// attempt or beyond; pending lists those with any activity pending.
func (s *stack) activities() (retrying, pending []string) {
	for _, e := range s.listWorkflows("ExecutionStatus = 'Running'") {
		d, err := s.app.Temporal.DescribeWorkflowExecution(context.Background(), e.Execution.WorkflowId, e.Execution.RunId)
		require.NoError(s.t, err)
		if d.WorkflowExecutionInfo.Status != enums.WORKFLOW_EXECUTION_STATUS_RUNNING {
			continue
		}
		for _, a := range d.PendingActivities {
			// The confirmations' sender always has its activity running.
			if e.Execution.WorkflowId != signup.SenderWorkflowID {
				pending = append(pending, e.Execution.WorkflowId)
			}
			if a.Attempt >= 3 {
				msg := ""
				if a.LastFailure != nil {
					msg = a.LastFailure.Message
				}
				retrying = append(retrying, fmt.Sprintf("%s: activity %s at attempt %d (%s)", e.Execution.WorkflowId,
					a.ActivityType.GetName(), a.Attempt, msg))
			}
		}
	}
	return retrying, pending
}

func (s *stack) retrying() []string {
	r, _ := s.activities()
	return r
}

// quiesce waits until the setup's workflows have done their work: no
// activity pending, and the tables still.
func (s *stack) quiesce() {
	deadline := time.Now().Add(60 * time.Second)
	last := s.snapshot()
	for time.Now().Before(deadline) {
		time.Sleep(500 * time.Millisecond)
		_, pending := s.activities()
		now := s.snapshot()
		if len(pending) == 0 && fmt.Sprint(now) == fmt.Sprint(last) {
			return
		}
		last = now
	}
	s.t.Fatal("the setup's workflows did not settle")
}

// --- sending ---

type fuzzResult struct {
	status int
	ctype  string
	body   []byte
	err    error
}

func (s *stack) send(cases []fuzzCase, workers int) []fuzzResult {
	client := &http.Client{
		Timeout:       60 * time.Second,
		Transport:     &http.Transport{MaxIdleConnsPerHost: workers, DisableCompression: true},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	results := make([]fuzzResult, len(cases))
	next := make(chan int)
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				results[i] = s.sendOne(client, cases[i])
			}
		}()
	}
	for i := range cases {
		next <- i
	}
	close(next)
	wg.Wait()
	return results
}

func (s *stack) sendOne(client *http.Client, c fuzzCase) fuzzResult {
	if c.rawHeader != "" || c.rawTarget {
		return s.sendRaw(c)
	}
	var body io.Reader
	if c.hasBody {
		body = bytes.NewReader(expandBytes(c.body))
	}
	req, err := http.NewRequest(c.method, s.url+expand(c.target), body)
	if err != nil {
		return fuzzResult{err: fmt.Errorf("building the request: %w", err)}
	}
	for k, v := range c.header {
		req.Header.Set(k, expand(v))
	}
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	res, err := client.Do(req)
	if err != nil {
		return fuzzResult{err: err}
	}
	defer res.Body.Close()
	raw, err := io.ReadAll(res.Body)
	return fuzzResult{status: res.StatusCode, ctype: res.Header.Get("Content-Type"), body: raw, err: err}
}

// sendRaw writes the request on a TCP connection byte for byte.
func (s *stack) sendRaw(c fuzzCase) fuzzResult {
	conn, err := net.DialTimeout("tcp", strings.TrimPrefix(s.url, "http://"), 5*time.Second)
	if err != nil {
		return fuzzResult{err: err}
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(30 * time.Second))
	var b bytes.Buffer
	fmt.Fprintf(&b, "%s %s HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n", c.method, expand(c.target), strings.TrimPrefix(s.url, "http://"))
	for k, v := range c.header {
		fmt.Fprintf(&b, "%s: %s\r\n", k, expand(v))
	}
	if c.token != "" {
		fmt.Fprintf(&b, "Authorization: Bearer %s\r\n", c.token)
	}
	if c.rawHeader != "" {
		b.WriteString(c.rawHeader + "\r\n")
	}
	payload := expandBytes(c.body)
	if c.hasBody && !strings.HasPrefix(c.rawHeader, "Transfer-Encoding") {
		fmt.Fprintf(&b, "Content-Length: %d\r\n", len(payload))
	}
	b.WriteString("\r\n")
	b.Write(payload)
	go func() { _, _ = conn.Write(b.Bytes()) }()
	res, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		return fuzzResult{err: err}
	}
	defer res.Body.Close()
	raw, err := io.ReadAll(res.Body)
	return fuzzResult{status: res.StatusCode, ctype: res.Header.Get("Content-Type"), body: raw, err: err}
}

// --- verdicts ---

type verdicts struct {
	count    map[string]int
	examples map[string][]string
	keys     []string
}

func newVerdicts() *verdicts {
	return &verdicts{count: map[string]int{}, examples: map[string][]string{}}
}

func (v *verdicts) add(kind, op, example string) {
	key := kind
	if op != "" {
		key += " — " + op
	}
	if _, ok := v.examples[key]; !ok {
		v.keys = append(v.keys, key)
	}
	v.count[kind]++
	if len(v.examples[key]) < 3 || kind == "stored" || kind == "workflow started" {
		v.examples[key] = append(v.examples[key], example)
	}
}

func (v *verdicts) report(t *testing.T) {
	sort.Strings(v.keys)
	for _, k := range v.keys {
		t.Errorf("%s:\n    %s", k, strings.Join(v.examples[k], "\n    "))
	}
}

var (
	englishWords = regexp.MustCompile(`(?i)\b(expected|invalid|failed|failure|required|unexpected|must|cannot|unable|missing|unknown|error|not found|not allowed|too large|too long|should|value|property|request|body|unmarshal|parse)\b`)
	frenchWords  = regexp.MustCompile(`(?i)[éèêàùâîôûçœ]|\b(de|du|la|le|les|des|ou|et|un|une|au|aux|vous|votre|pour|cette|ce|pas|ne|est|sont|aucun|aucune|avec|sans|dans|sur|attendu|attendue|attendus|obligatoire|illisible|invalide|inconnue?|introuvable|trop|interdit|caractères?|chiffres|nombre|liste|objet|curseur|jeton|lien|campagne|procuration|valeur|format)\b`)
)

func french(s string) bool {
	return strings.TrimSpace(s) != "" && frenchWords.MatchString(s) && !englishWords.MatchString(s)
}

func abridge(b []byte, n int) string {
	s := strings.ReplaceAll(strings.ToValidUTF8(string(b), "\ufffd"), bigMarker, "<1 MB of a>")
	if len(s) > n {
		s = s[:n] + fmt.Sprintf("…(%d bytes)", len(b))
	}
	return fmt.Sprintf("%q", s)
}

func (c fuzzCase) String() string {
	tok := "no token"
	if c.token != "" {
		tok = "token"
	}
	body := ""
	if c.hasBody {
		body = " body " + abridge(c.body, 160)
	}
	extra := ""
	if c.rawHeader != "" {
		extra = " header " + abridge([]byte(c.rawHeader), 80)
	}
	return fmt.Sprintf("[%s] %s %s (%s)%s%s", c.name, c.method, abridge([]byte(c.target), 160), tok, extra, body)
}

func (v *verdicts) check(c fuzzCase, r fuzzResult) {
	answer := func() string { return fmt.Sprintf("→ %d %s %s", r.status, r.ctype, abridge(r.body, 300)) }
	if r.err != nil {
		v.add("no answer", c.op, fmt.Sprintf("%s → %v", c, r.err))
		return
	}
	if r.status >= 500 {
		v.add("5xx", c.op, c.String()+" "+answer())
	}
	if c.secured && c.token != "" && !c.authCase && r.status == 401 {
		v.add("token refused (the case does not reach the use case)", c.op, c.String()+" "+answer())
	}
	if c.wildcard && r.status < 300 {
		var list struct {
			Items []any  `json:"items"`
			NNE   string `json:"nne"`
		}
		if json.Unmarshal(r.body, &list) == nil && (len(list.Items) > 0 || list.NNE != "") {
			v.add("wildcard matched", c.op, c.String()+" "+answer())
		}
	}
	if c.hostile && r.status < 300 && c.method != http.MethodGet && !refusedInside(r.body) {
		v.add("hostile input accepted", c.op, c.String()+" "+answer())
	}
	if r.status < 400 {
		return
	}
	if r.ctype != "application/problem+json" {
		v.add("not problem+json", c.op, c.String()+" "+answer())
		return
	}
	var p struct {
		Detail string `json:"detail"`
		Errors []struct {
			Location string `json:"location"`
			Message  string `json:"message"`
		} `json:"errors"`
	}
	if err := json.Unmarshal(r.body, &p); err != nil {
		v.add("not problem+json", c.op, c.String()+" "+answer())
		return
	}
	if !french(p.Detail) {
		v.add("English", c.op, fmt.Sprintf("detail %q: %s %s", p.Detail, c, answer()))
	}
	for _, e := range p.Errors {
		if !french(e.Message) {
			v.add("English", c.op, fmt.Sprintf("message %q at %s: %s %s", e.Message, e.Location, c, answer()))
		}
	}
	for _, n := range c.needles {
		if bytes.Contains(r.body, []byte(n)) || bytes.Contains(r.body, mustMarshal(n)[1:len(mustMarshal(n))-1]) {
			v.add("echo", c.op, fmt.Sprintf("echoes %q: %s %s", abridge([]byte(n), 40), c, answer()))
			break
		}
	}
	if len(r.body) > 64<<10 {
		v.add("echo", c.op, fmt.Sprintf("a %d-byte error answer: %s", len(r.body), c))
	}
}

// refusedInside recognises the 200 answers that refuse every item: a
// register import that loaded no line, a bulk approval whose every result
// is an error.
func refusedInside(body []byte) bool {
	var b struct {
		Imported *int `json:"imported"`
		Results  []struct {
			Error string `json:"error"`
		} `json:"results"`
	}
	if json.Unmarshal(body, &b) != nil {
		return false
	}
	if b.Imported != nil {
		return *b.Imported == 0
	}
	if len(b.Results) == 0 {
		return false
	}
	for _, r := range b.Results {
		if r.Error == "" {
			return false
		}
	}
	return true
}

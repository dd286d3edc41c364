package e2e

import (
	"context"
	"encoding/base64"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/encoding/protojson"

	"github.com/procurations/procuration/internal/auth"
	"github.com/procurations/procuration/internal/dossier"
	"github.com/procurations/procuration/internal/store"
)

const (
	marie   = "100000001" // DUPONT Marie Claire, Paris
	jean    = "100000002" // MARTIN Jean, Paris, born 1979-11-03
	sophie  = "100000003"
	luc     = "100000004" // PETIT Luc, Lyon
	camille = "100000005"
)

func fieldLocations(r response) []string {
	var out []string
	errs, _ := r.Body["errors"].([]any)
	for _, e := range errs {
		m, _ := e.(map[string]any)
		loc, _ := m["location"].(string)
		out = append(out, loc)
	}
	return out
}

func TestThreeStepFlowOverHTTP(t *testing.T) {
	s := newStack(t)
	res := s.do("POST", "/v1/register/imports", s.support(),
		"nne,family_name,given_names,sex,birth_date,commune_code,polling_station\n"+
			"100000001,DUPONT,Marie Claire,F,1985-04-12,75056,75056_0001\n"+
			"12,BAD,Nne,F,1985-04-12,75056,75056_0001\n"+
			"100000009,NOWHERE,Commune,F,1985-04-12,99999,99999_0001\n")
	require.Equal(t, 200, res.Status, res.Raw)
	require.EqualValues(t, 1, res.Body["imported"])
	require.Len(t, res.Body["rejected"], 2)
	require.Contains(t, res.Raw, `"line":3`)
	s.loadVoters()

	marieTok := s.grantor("fc-marie", marie)
	police := s.police("opj-paris-11")
	paris := s.townHall("mairie-paris", "75056")
	lyon := s.townHall("mairie-lyon", "69123")

	// Health, docs and identity.
	require.Equal(t, 200, s.do("GET", "/healthz", "", nil).Status)
	require.Equal(t, 200, s.do("GET", "/openapi.json", "", nil).Status)
	require.Equal(t, 401, s.do("GET", "/v1/elections", "", nil).Status)
	require.Equal(t, 401, s.do("GET", "/v1/elections", "not-a-jwt", nil).Status)
	elections := s.do("GET", "/v1/elections", marieTok, nil)
	require.Equal(t, 200, elections.Status)
	require.Contains(t, elections.Raw, `"date":"2027-04-11"`)

	// Find my voter number.
	lookup := s.do("POST", "/v1/register/lookup", marieTok, map[string]any{"family_name": "dupont", "given_names": "marie-claire",
		"birth_date": "1985-04-12", "commune_code": "75056"})
	require.Equal(t, 200, lookup.Status, lookup.Raw)
	require.Equal(t, marie, lookup.Body["nne"])
	require.Equal(t, "75056_0001", lookup.Body["polling_station"])
	require.Equal(t, 404, s.do("POST", "/v1/register/lookup", marieTok, map[string]any{"family_name": "dupont", "given_names": "Marie Claire",
		"birth_date": "1985-04-13", "commune_code": "75056"}).Status)

	// Bad input: 422 naming each field, and nothing created.
	bad := s.do("POST", "/v1/procurations", marieTok, map[string]any{
		"grantor":  map[string]any{"nne": "12ab", "commune_code": "00000"},
		"proxy":    map[string]any{"nne": "12ab", "birth_date": "3 novembre"},
		"validity": map[string]any{"election_id": "nope", "rounds": []int{1}},
	})
	require.Equal(t, 422, bad.Status, bad.Raw)
	require.ElementsMatch(t, []string{"body.grantor.nne", "body.proxy.nne", "body.proxy.birth_date", "body.grantor.commune_code",
		"body.validity.election_id"}, fieldLocations(bad))
	require.Equal(t, "application/problem+json", bad.Header.Get("Content-Type"))
	require.NotContains(t, bad.Raw, "12ab", "a 422 never echoes the request")
	self := s.create(marieTok, marie, "75056", marie, "1985-04-12")
	require.Equal(t, 422, self.Status)
	require.Equal(t, []string{"body.proxy.nne"}, fieldLocations(self))
	unknownProxy := s.create(marieTok, marie, "75056", jean, "1979-11-04")
	require.Equal(t, []string{"body.proxy"}, fieldLocations(unknownProxy))
	period := s.do("POST", "/v1/procurations", marieTok, map[string]any{
		"grantor": map[string]any{"nne": marie, "commune_code": "75056"}, "proxy": map[string]any{"nne": jean, "birth_date": "1979-11-03"},
		"validity": map[string]any{"from": time.Now().AddDate(0, 0, 1).Format(time.DateOnly), "until": time.Now().AddDate(1, 0, 5).Format(time.DateOnly)},
	})
	require.Equal(t, []string{"body.validity.until"}, fieldLocations(period))
	past := s.do("POST", "/v1/procurations", marieTok, map[string]any{
		"grantor": map[string]any{"nne": marie, "commune_code": "75056"}, "proxy": map[string]any{"nne": jean, "birth_date": "1979-11-03"},
		"validity": map[string]any{"from": "2020-01-01", "until": "2020-06-01"},
	})
	require.Equal(t, []string{"body.validity.from"}, fieldLocations(past))
	notMine := s.create(marieTok, luc, "69123", jean, "1979-11-03")
	require.Equal(t, []string{"body.grantor.nne"}, fieldLocations(notMine), "Luc's number with Marie's identity")
	require.Equal(t, 403, s.create(police, marie, "75056", jean, "1979-11-03").Status)
	var count int
	require.NoError(t, s.app.Pool.QueryRow(context.Background(), `SELECT count(*) FROM procurations`).Scan(&count))
	require.Zero(t, count, "rejected requests created nothing")

	// 1. Request, retried with the same Idempotency-Key.
	body := map[string]any{
		"grantor":  map[string]any{"nne": marie, "commune_code": "75056", "phone": "0612345678"},
		"proxy":    map[string]any{"nne": jean, "birth_date": "1979-11-03"},
		"validity": map[string]any{"election_id": "presidentielle-2027", "rounds": []int{1, 2}},
	}
	created := s.do("POST", "/v1/procurations", marieTok, body, "Idempotency-Key", "req-1")
	require.Equal(t, 201, created.Status, created.Raw)
	ref := created.Body["reference"].(string)
	require.Regexp(t, `^[2-9A-HJKMNP-TV-Z]{6}$`, ref)
	require.Equal(t, "awaiting_police", created.Body["status"])
	again := s.do("POST", "/v1/procurations", marieTok, body, "Idempotency-Key", "req-1")
	require.Equal(t, 201, again.Status)
	require.Equal(t, ref, again.Body["reference"], "same key, same dossier")
	grantorView := created.Body["grantor"].(map[string]any)
	require.Equal(t, "Marie Claire", grantorView["given_names"])
	require.Equal(t, "1985-04-12", grantorView["birth_date"])
	require.Equal(t, "MARTIN", created.Body["proxy"].(map[string]any)["family_name"])

	mails := s.waitMails("fc-marie@example.fr", 1)
	require.Len(t, mails, 1, "one submission email despite the retried create")
	require.Contains(t, mails[0].Subject, ref)
	require.Contains(t, mails[0].Text, "commissariat de police ou brigade de gendarmerie")
	require.Contains(t, mails[0].Text, "pièce d'identité")
	require.Contains(t, mails[0].HTML, ref)
	require.Contains(t, mails[0].Text, "11 avril 2027")

	// Who sees what.
	require.Equal(t, 200, s.do("GET", "/v1/procurations/"+ref, marieTok, nil).Status)
	require.Equal(t, 200, s.do("GET", "/v1/procurations/"+strings.ToLower(ref), police, nil).Status)
	require.Equal(t, 404, s.do("GET", "/v1/procurations/"+ref, s.grantor("fc-jean", jean), nil).Status)
	require.Equal(t, 404, s.do("GET", "/v1/procurations/"+ref, lyon, nil).Status, "not yours answers as not there")
	require.Equal(t, 403, s.do("GET", "/v1/communes/75056/procurations", police, nil).Status, "police cannot list")
	require.Equal(t, 403, s.do("GET", "/v1/communes/75056/procurations", lyon, nil).Status)
	require.Equal(t, 404, s.do("GET", "/v1/procurations/ZZZZZZ", police, nil).Status)

	// Out of order: 409 naming the status.
	early := s.do("POST", "/v1/procurations/"+ref+"/town-hall-decision", paris, map[string]any{"outcome": "validated"})
	require.Equal(t, 409, early.Status, early.Raw)
	require.Equal(t, "awaiting_police", early.state(), early.Raw)
	require.Contains(t, early.Body["detail"], "en attente de vérification par la police")

	// 2. Police.
	require.Equal(t, 422, s.do("POST", "/v1/procurations/"+ref+"/police-verification", police,
		map[string]any{"outcome": "maybe", "id_document": map[string]any{"kind": "cni", "number": "X"}}).Status)
	verified := s.do("POST", "/v1/procurations/"+ref+"/police-verification", police,
		map[string]any{"outcome": "verified", "id_document": map[string]any{"kind": "cni", "number": "123456789012"}})
	require.Equal(t, 200, verified.Status, verified.Raw)
	require.Equal(t, "awaiting_town_hall", verified.Body["status"])
	pol := verified.Body["police"].(map[string]any)
	require.Equal(t, "Paul LEMAIRE", pol["agent"])
	require.Equal(t, "brigadier-chef", pol["rank"])
	twice := s.do("POST", "/v1/procurations/"+ref+"/police-verification", police,
		map[string]any{"outcome": "verified", "id_document": map[string]any{"kind": "cni", "number": "123456789012"}})
	require.Equal(t, 409, twice.Status)
	require.Equal(t, "awaiting_town_hall", twice.state(), twice.Raw)
	receipt := s.waitMails("fc-marie@example.fr", 2)[1]
	require.Contains(t, receipt.Text, "Paul LEMAIRE, brigadier-chef")
	require.Contains(t, receipt.Text, "Commissariat central du 11e arrondissement")

	// 3. Town hall: its list, then its decision.
	list := s.do("GET", "/v1/communes/75056/procurations?status=awaiting_town_hall", paris, nil)
	require.Equal(t, 200, list.Status, list.Raw)
	items := list.Body["items"].([]any)
	require.Len(t, items, 1)
	require.Equal(t, ref, items[0].(map[string]any)["reference"])
	require.Equal(t, 404, s.do("POST", "/v1/procurations/"+ref+"/town-hall-decision", lyon, map[string]any{"outcome": "validated"}).Status)
	require.Equal(t, []string{"body.reason"}, fieldLocations(s.do("POST", "/v1/procurations/"+ref+"/town-hall-decision", paris,
		map[string]any{"outcome": "invalidated"})))
	decided := s.do("POST", "/v1/procurations/"+ref+"/town-hall-decision", paris, map[string]any{"outcome": "validated"})
	require.Equal(t, 200, decided.Status, decided.Raw)
	require.Equal(t, "validated", decided.Body["status"])
	validated := s.waitMails("fc-marie@example.fr", 3)[2]
	require.Contains(t, validated.Subject, "validée")
	require.Contains(t, validated.Text, "La mairie de Paris a validé")

	final := s.do("GET", "/v1/procurations/"+ref, marieTok, nil)
	var statuses []string
	for _, h := range final.Body["history"].([]any) {
		statuses = append(statuses, h.(map[string]any)["status"].(string))
	}
	require.Equal(t, []string{"awaiting_police", "awaiting_town_hall", "validated"}, statuses)

	// Cancellation releases the cap slot.
	st := s.app.Store
	slots, err := st.ActiveSlots(context.Background(), jean)
	require.NoError(t, err)
	require.Equal(t, 1, slots)
	require.Equal(t, 404, s.do("POST", "/v1/procurations/"+ref+"/cancel", s.grantor("fc-jean", jean), nil).Status)
	cancelled := s.do("POST", "/v1/procurations/"+ref+"/cancel", marieTok, nil)
	require.Equal(t, 200, cancelled.Status, cancelled.Raw)
	require.Equal(t, "cancelled", cancelled.Body["status"])
	slots, err = st.ActiveSlots(context.Background(), jean)
	require.NoError(t, err)
	require.Zero(t, slots)
	require.Equal(t, 409, s.do("POST", "/v1/procurations/"+ref+"/cancel", marieTok, nil).Status)
	cancelMail := s.waitMails("fc-marie@example.fr", 4)[3]
	require.Contains(t, cancelMail.Subject, "résiliée")

	// A period rather than an election: a new proxy may be given after a cancellation.
	from, until := time.Now().AddDate(0, 0, 1).Format(time.DateOnly), time.Now().AddDate(0, 6, 0).Format(time.DateOnly)
	periodic := s.do("POST", "/v1/procurations", marieTok, map[string]any{
		"grantor": map[string]any{"nne": marie, "commune_code": "75056"}, "proxy": map[string]any{"nne": sophie, "birth_date": "1992-06-30"},
		"validity": map[string]any{"from": from, "until": until},
	})
	require.Equal(t, 201, periodic.Status, periodic.Raw)
	require.Equal(t, map[string]any{"from": from, "until": until}, periodic.Body["validity"])
	require.NotEqual(t, ref, periodic.Body["reference"])

	// The audit trail names who did each step; the emails are on record once each.
	trail, err := st.AuditTrail(context.Background(), ref)
	require.NoError(t, err)
	var actions []string
	for _, a := range trail {
		actions = append(actions, a.ActorRole+":"+a.Action)
	}
	require.Equal(t, []string{"grantor:create", "police:view", "police:police.verified", "town_hall:town_hall.validated", "grantor:cancel"}, actions)
	// The holder's email of the cancellation is recorded after the
	// grantor's, as the workflow asks for it.
	var sent []store.SentMail
	require.Eventually(t, func() bool {
		sent, err = st.SentMails(context.Background(), ref)
		return err == nil && len(sent) == 6
	}, 10*time.Second, 50*time.Millisecond, "the grantor's four emails and the holder's two on record: %v", sent)
	for _, m := range sent {
		if m.Kind == string(dossier.MailHolderInformed) || m.Kind == string(dossier.MailHolderCancelled) {
			// Marie gave no address for Jean: not sent, and on record.
			require.Nil(t, m.SentAt, m.Key)
			require.NotNil(t, m.Skipped, m.Key)
			continue
		}
		require.NotNil(t, m.SentAt, m.Key)
	}
}

func TestConcurrentValidationsForOneProxy(t *testing.T) {
	s := newStack(t)
	s.loadVoters()
	police := s.police("opj-1")
	// Marie (Paris) and Luc (Lyon) both choose Camille (Lyon) as proxy.
	refs := map[string]string{}
	for _, g := range []struct{ sub, nne, commune string }{{"fc-marie", marie, "75056"}, {"fc-luc", luc, "69123"}} {
		res := s.create(s.grantor(g.sub, g.nne), g.nne, g.commune, camille, "2001-09-15")
		require.Equal(t, 201, res.Status, res.Raw)
		ref := res.Body["reference"].(string)
		refs[g.commune] = ref
		require.Equal(t, 200, s.do("POST", "/v1/procurations/"+ref+"/police-verification", police,
			map[string]any{"outcome": "verified", "id_document": map[string]any{"kind": "passeport", "number": "20AB12345"}}).Status)
	}
	var wg sync.WaitGroup
	results := make(map[string]response)
	var mu sync.Mutex
	for commune, ref := range refs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := s.do("POST", "/v1/procurations/"+ref+"/town-hall-decision", s.townHall("mairie-"+commune, commune), map[string]any{"outcome": "validated"})
			mu.Lock()
			results[commune] = r
			mu.Unlock()
		}()
	}
	wg.Wait()
	var ok, conflict int
	for commune, r := range results {
		switch r.Status {
		case 200:
			ok++
		case 409:
			conflict++
			require.Contains(t, r.Body["detail"], "L73")
			// The refused one changed nothing: still waiting for its town hall.
			p, err := s.app.Store.Procuration(context.Background(), refs[commune])
			require.NoError(t, err)
			require.Equal(t, dossier.AwaitingTownHall, p.Status)
		default:
			t.Fatalf("unexpected %d: %s", r.Status, r.Raw)
		}
	}
	require.Equal(t, 1, ok)
	require.Equal(t, 1, conflict)
	slots, err := s.app.Store.ActiveSlots(context.Background(), camille)
	require.NoError(t, err)
	require.Equal(t, 1, slots)
}

func TestWorkerReplacedMidDossier(t *testing.T) {
	s := newStack(t)
	s.loadVoters()
	grantor := s.grantor("fc-sophie", sophie)
	res := s.create(grantor, sophie, "75056", jean, "1979-11-03")
	require.Equal(t, 201, res.Status, res.Raw)
	ref := res.Body["reference"].(string)
	s.waitMails("fc-sophie@example.fr", 1)

	// The worker goes away; the officer's verification waits for a worker.
	s.stopWorker()
	done := make(chan response, 1)
	go func() {
		done <- s.do("POST", "/v1/procurations/"+ref+"/police-verification", s.police("opj-2"),
			map[string]any{"outcome": "verified", "id_document": map[string]any{"kind": "cni", "number": "X1234"}})
	}()
	select {
	case r := <-done:
		t.Fatalf("verification answered without a worker: %d %s", r.Status, r.Raw)
	case <-time.After(2 * time.Second):
	}
	// A new worker takes over the dossier where it was.
	s.startWorker()
	verified := <-done
	require.Equal(t, 200, verified.Status, verified.Raw)
	decided := s.do("POST", "/v1/procurations/"+ref+"/town-hall-decision", s.townHall("mairie-paris", "75056"), map[string]any{"outcome": "validated"})
	require.Equal(t, 200, decided.Status, decided.Raw)

	s.waitMails("fc-sophie@example.fr", 3)
	s.waitIdle(dossier.WorkflowID(ref)) // nothing more can be sent
	mails := s.smtp.To("fc-sophie@example.fr")
	var subjects []string
	for _, m := range mails {
		subjects = append(subjects, m.Subject)
	}
	require.Len(t, mails, 3, "exactly one email per step: %v", subjects)
	require.Contains(t, subjects[0], "enregistrée")
	require.Contains(t, subjects[1], "vérifiée")
	require.Contains(t, subjects[2], "validée")
}

func TestMailServerDownThenBack(t *testing.T) {
	s := newStack(t)
	s.loadVoters()
	s.smtp.Stop()
	res := s.create(s.grantor("fc-marie", marie), marie, "75056", jean, "1979-11-03")
	require.Equal(t, 201, res.Status, "the dossier is created while mail is down")
	ref := res.Body["reference"].(string)
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		sent, err := s.app.Store.SentMails(context.Background(), ref)
		require.NoError(c, err)
		require.Len(c, sent, 1)
		require.Nil(c, sent[0].SentAt, "claimed, not yet sent")
	}, 10*time.Second, 50*time.Millisecond)
	s.smtp.Start()
	mails := s.waitMails("fc-marie@example.fr", 1)
	require.Contains(t, mails[0].Subject, ref)
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		sent, err := s.app.Store.SentMails(context.Background(), ref)
		require.NoError(c, err)
		require.NotNil(c, sent[0].SentAt)
	}, 10*time.Second, 50*time.Millisecond)
	require.Len(t, s.smtp.To("fc-marie@example.fr"), 1)
}

func TestAutomaticReviewAndFranceIdentite(t *testing.T) {
	s := newStack(t, "--town-hall-review=automatic")
	s.loadVoters()
	tok := s.token("grantor", "fc-luc", map[string]any{"given_name": "Luc", "family_name": "PETIT", "birthdate": "1968-01-21",
		"email": "luc@example.fr", "acr": "eidas2"})
	res := s.create(tok, luc, "69123", camille, "2001-09-15")
	require.Equal(t, 201, res.Status, res.Raw)
	ref := res.Body["reference"].(string)
	var p store.Procuration
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		var err error
		p, err = s.app.Store.Procuration(context.Background(), ref)
		require.NoError(c, err)
		require.Equal(c, dossier.Validated, p.Status)
	}, 30*time.Second, 50*time.Millisecond, "no police visit, no town hall agent")
	require.True(t, p.Police.DigitalIdentity)
	require.True(t, p.TownHall.Automatic)
	mails := s.waitMails("luc@example.fr", 3)
	require.Contains(t, mails[1].Text, "France Identité")
	require.Contains(t, mails[2].Text, "répertoire électoral unique ont validé")
	decision := s.do("POST", "/v1/procurations/"+ref+"/town-hall-decision", s.townHall("mairie-lyon", "69123"), map[string]any{"outcome": "validated"})
	require.Equal(t, 409, decision.Status)
}

var payloadData = regexp.MustCompile(`"data":"([A-Za-z0-9+/=]+)"`)

func TestHistoriesHoldNoPersonalData(t *testing.T) {
	s := newStack(t)
	s.loadVoters()
	police, paris := s.police("opj-1"), s.townHall("mairie-paris", "75056")

	refused := s.create(s.grantor("fc-marie", marie), marie, "75056", jean, "1979-11-03").Body["reference"].(string)
	r := s.do("POST", "/v1/procurations/"+refused+"/police-verification", police, map[string]any{"outcome": "refused",
		"id_document": map[string]any{"kind": "cni", "number": "880692310285"}, "reason": "la carte de Mme DUPONT est expirée"})
	require.Equal(t, 200, r.Status, r.Raw)
	require.Equal(t, "la carte de Mme DUPONT est expirée", r.Body["police"].(map[string]any)["reason"])

	invalidated := s.create(s.grantor("fc-sophie", sophie), sophie, "75056", jean, "1979-11-03").Body["reference"].(string)
	require.Equal(t, 200, s.do("POST", "/v1/procurations/"+invalidated+"/police-verification", police, map[string]any{"outcome": "verified",
		"id_document": map[string]any{"kind": "passeport", "number": "19FR44021"}}).Status)
	r = s.do("POST", "/v1/procurations/"+invalidated+"/town-hall-decision", paris, map[string]any{"outcome": "invalidated",
		"reason": "M. MARTIN Jean a déjà une procuration"})
	require.Equal(t, 200, r.Status, r.Raw)
	require.Equal(t, "invalidated", r.Body["status"])

	require.Contains(t, s.waitMails("fc-marie@example.fr", 2)[1].Text, "la carte de Mme DUPONT est expirée")
	require.Contains(t, s.waitMails("fc-sophie@example.fr", 3)[2].Text, "M. MARTIN Jean a déjà une procuration")

	for _, ref := range []string{refused, invalidated} {
		var history strings.Builder
		it := s.app.Temporal.GetWorkflowHistory(context.Background(), dossier.WorkflowID(ref), "", false, 0)
		for it.HasNext() {
			event, err := it.Next()
			require.NoError(t, err)
			raw, err := protojson.Marshal(event)
			require.NoError(t, err)
			history.Write(raw)
			// Payloads are base64 in protojson: read them decoded too.
			for _, m := range payloadData.FindAllStringSubmatch(string(raw), -1) {
				decoded, err := base64.StdEncoding.DecodeString(m[1])
				require.NoError(t, err)
				history.Write(decoded)
			}
		}
		require.True(t, strings.Contains(history.String(), `|opj-1"`), "payloads were decoded")
		for _, personal := range []string{"DUPONT", "MARTIN", "BERNARD", "Marie", "Sophie", "Jean", marie, jean, sophie,
			"1985-04-12", "1979-11-03", "1992-06-30", "example.fr", "880692310285", "19FR44021", "LEMAIRE", "Paul"} {
			require.False(t, strings.Contains(history.String(), personal), "history of %s holds %q", ref, personal)
		}
	}
}

var confirmLink = regexp.MustCompile(`http://\S+/c/[a-z0-9-]+/confirmer/\S+\?token=\S+`)

func TestSignupConfirmationAndDryRun(t *testing.T) {
	s := newStack(t, "--signups-per-email=3")
	support := s.support()
	campaign := map[string]any{"id": "planprocu-2027", "name": "Plan Procu 2027", "election_id": "presidentielle-2027",
		"sender": "Plan Procu <contact@planprocu.example>", "back_office_approval": true}
	require.Equal(t, 201, s.do("POST", "/v1/campaigns", support, campaign).Status)
	require.Equal(t, 409, s.do("POST", "/v1/campaigns", support, campaign).Status)
	// Its matching runs on a schedule, every hour by default, until the election ends.
	schedule, err := s.app.Temporal.ScheduleClient().GetHandle(context.Background(), "matching-planprocu-2027").Describe(context.Background())
	require.NoError(t, err)
	require.Equal(t, time.Hour, schedule.Schedule.Spec.Intervals[0].Every)
	life, err := s.app.Temporal.DescribeWorkflowExecution(context.Background(), "campaign-planprocu-2027", "")
	require.NoError(t, err)
	require.Equal(t, "Campaign", life.WorkflowExecutionInfo.Type.Name)
	require.Equal(t, 403, s.do("POST", "/v1/campaigns", s.police("opj-1"), campaign).Status)

	person := func(given, family, birth, email, commune, station string, rounds []int) map[string]any {
		return map[string]any{"given_names": given, "family_name": family, "birth_date": birth, "email": email,
			"commune_code": commune, "polling_station": station, "rounds": rounds, "consent": true}
	}
	alice := person("Alice", "MOREAU", "1990-02-03", "alice@example.fr", "75056", "75056_0007", []int{1, 2})
	bad := s.do("POST", "/v1/campaigns/planprocu-2027/requests", "", map[string]any{"given_names": "A", "family_name": "B",
		"birth_date": "2015-01-01", "email": "nope", "commune_code": "00000", "rounds": []int{3}, "consent": false})
	require.Equal(t, 422, bad.Status, bad.Raw)
	require.ElementsMatch(t, []string{"body.birth_date", "body.email", "body.commune_code", "body.rounds", "body.consent"}, fieldLocations(bad))
	require.Equal(t, 404, s.do("POST", "/v1/campaigns/nope/requests", "", alice).Status)

	first := s.do("POST", "/v1/campaigns/planprocu-2027/requests", "", alice)
	require.Equal(t, 201, first.Status, first.Raw)
	require.Equal(t, "check_email", first.Body["status"])
	// The same person at the same address, typed differently: one record,
	// and the same neutral answer.
	alice["family_name"], alice["given_names"] = "Moreau", "ALICE"
	again := s.do("POST", "/v1/campaigns/planprocu-2027/requests", "", alice)
	require.Equal(t, 201, again.Status)
	require.Equal(t, "check_email", again.Body["status"])
	require.NotEqual(t, first.Body["id"], again.Body["id"], "the receipt tells nothing of the record")
	// On the other side: the same neutral answer, and nothing changes.
	other := s.do("POST", "/v1/campaigns/planprocu-2027/volunteers", "", alice)
	require.Equal(t, 201, other.Status, other.Raw)
	require.Equal(t, "check_email", other.Body["status"])
	require.NotContains(t, other.Raw, "demandeur")
	// A fourth sign-up for the same email within the hour: 429 with Retry-After.
	limited := s.do("POST", "/v1/campaigns/planprocu-2027/volunteers", "", person("Bob", "X", "1980-01-01", "alice@example.fr", "75056", "", []int{1}))
	require.Equal(t, 429, limited.Status, limited.Raw)
	require.NotEmpty(t, limited.Header.Get("Retry-After"))

	bruno := s.do("POST", "/v1/campaigns/planprocu-2027/volunteers", "", person("Bruno", "LAMBERT", "1975-07-08", "bruno@example.fr", "75056", "75056_0007", []int{1, 2}))
	require.Equal(t, 201, bruno.Status, bruno.Raw)

	// Nobody is in the pool before confirming.
	backOffice := s.token(auth.RoleBackOffice, "bo-1", map[string]any{"campaigns": []string{"planprocu-2027"}})
	run := s.do("POST", "/v1/campaigns/planprocu-2027/matching-runs", backOffice, map[string]any{"dry_run": true})
	require.Equal(t, 200, run.Status, run.Raw)
	require.EqualValues(t, 0, run.Body["proposed"])

	ids := map[string]string{}
	for _, addr := range []string{"alice@example.fr", "bruno@example.fr"} {
		mails := s.waitMails(addr, 1)
		// Its record says sent: nothing more will go out for it.
		key := "signup/" + linkID(confirmLink.FindString(mails[0].Text)) + "/confirmation"
		require.EventuallyWithT(t, func(c *assert.CollectT) {
			var sent bool
			require.NoError(c, s.app.Pool.QueryRow(context.Background(), `SELECT sent_at IS NOT NULL FROM sent_emails WHERE key = $1`, key).Scan(&sent))
			require.True(c, sent)
		}, 10*time.Second, 50*time.Millisecond)
		require.Len(t, s.smtp.To(addr), 1, "one confirmation despite signing up again")
		require.Contains(t, mails[0].Subject, "Plan Procu 2027")
		require.Contains(t, mails[0].From, "contact@planprocu.example")
		link := confirmLink.FindString(mails[0].Text)
		require.NotEmpty(t, link, mails[0].Text)
		ids[addr] = linkID(link)
		token := linkToken(link)
		require.Equal(t, 401, s.do("POST", "/v1/signups/"+ids[addr]+"x/confirm", "", map[string]any{"token": token}).Status, "a link for another sign-up")
		confirmed := s.followLink(link)
		require.Equal(t, 200, confirmed.Status, confirmed.Raw)
		require.Contains(t, confirmed.Raw, "confirmée")
		su, err := s.app.Store.Signup(context.Background(), ids[addr])
		require.NoError(t, err)
		require.Equal(t, "pool", su.Status)
	}
	aliceID, brunoID := ids["alice@example.fr"], ids["bruno@example.fr"]

	run = s.do("POST", "/v1/campaigns/planprocu-2027/matching-runs", backOffice, map[string]any{"dry_run": true})
	require.Equal(t, 200, run.Status, run.Raw)
	require.EqualValues(t, 1, run.Body["proposed"])
	m := run.Body["matches"].([]any)[0].(map[string]any)
	require.Equal(t, aliceID, m["request_id"])
	require.Equal(t, brunoID, m["volunteer_id"])
	require.EqualValues(t, 0, m["tier"], "same polling station")
	require.Equal(t, []any{1.0, 2.0}, m["rounds"])

	other403 := s.token(auth.RoleBackOffice, "bo-2", map[string]any{"campaigns": []string{"another"}})
	require.Equal(t, 403, s.do("POST", "/v1/campaigns/planprocu-2027/matching-runs", other403, map[string]any{"dry_run": true}).Status)
}

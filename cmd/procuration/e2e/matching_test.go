package e2e

import (
	"context"
	"html"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/procurations/procuration/internal/auth"
	"github.com/procurations/procuration/internal/campaign"
	"github.com/procurations/procuration/internal/match"
)

var answerLink = regexp.MustCompile(`http://\S+/c/[a-z0-9-]+/offre/\S+\?token=\S+&outcome=accepted`)

// signUpConfirmed signs a person up and opens their confirmation link; it
// returns the sign-up's id, which only the link names.
func (s *stack) signUpConfirmed(campaign, side string, person map[string]any) string {
	s.t.Helper()
	res := s.do("POST", "/v1/campaigns/"+campaign+"/"+side, "", person)
	require.Equal(s.t, 201, res.Status, res.Raw)
	require.Equal(s.t, "check_email", res.Body["status"])
	mails := s.waitMails(person["email"].(string), 1)
	link := confirmLink.FindString(mails[len(mails)-1].Text)
	confirmed := s.followLink(link)
	require.Equal(s.t, 200, confirmed.Status, confirmed.Raw)
	require.Contains(s.t, confirmed.Raw, "confirmée")
	return linkID(link)
}

// linkID is the object a link names: /c/<campaign>/<kind>/<id>?token=...
func linkID(link string) string {
	path, _, _ := strings.Cut(link, "?")
	return path[strings.LastIndex(path, "/")+1:]
}

// linkToken is the token a link carries.
func linkToken(link string) string {
	u, _ := url.Parse(link)
	return u.Query().Get("token")
}

var hiddenInput = regexp.MustCompile(`<input type="hidden" name="([a-z]+)" value="([^"]*)">`)

// followLink does what a person does with an email's link: open the page,
// which changes nothing (link scanners open it too), then press its button,
// which posts the page's form.
func (s *stack) followLink(link string) response {
	s.t.Helper()
	require.NotEmpty(s.t, link)
	path, _, _ := strings.Cut(strings.TrimPrefix(link, s.url), "?")
	page := s.do("GET", strings.TrimPrefix(link, s.url), "", nil)
	require.Equal(s.t, 200, page.Status)
	require.Contains(s.t, page.Header.Get("Content-Type"), "text/html")
	form := url.Values{}
	for _, m := range hiddenInput.FindAllStringSubmatch(page.Raw, -1) {
		form.Set(m[1], html.UnescapeString(m[2]))
	}
	require.NotEmpty(s.t, form.Get("token"), page.Raw)
	// The page's session holds the form's CSRF token, as a browser's would.
	cookie, _, _ := strings.Cut(page.Header.Get("Set-Cookie"), ";")
	return s.do("POST", path, "", form, "Cookie", cookie)
}

// link mints what an email's link carries: a requester's or a volunteer's
// token for one purpose on one object.
func (s *stack) link(role, signupID, purpose, object string) string {
	tok, err := s.issuer.MintLink(role, signupID, purpose, object, time.Now().Add(time.Hour))
	require.NoError(s.t, err)
	return tok
}

func TestMatchFromSignupToValidatedProcuration(t *testing.T) {
	s := newStack(t, "--match-dossier-check=200ms")
	s.loadVoters()
	require.Equal(t, 201, s.do("POST", "/v1/campaigns", s.support(), map[string]any{"id": "planprocu-2027", "name": "Plan Procu 2027",
		"election_id": "presidentielle-2027", "sender": "Plan Procu <contact@planprocu.example>", "back_office_approval": true}).Status)
	bo := s.token(auth.RoleBackOffice, "bo-1", map[string]any{"campaigns": []string{"planprocu-2027"}})

	// Marie needs a proxy; Jean volunteers; both vote at the same station.
	requestID := s.signUpConfirmed("planprocu-2027", "requests", map[string]any{"given_names": "Marie Claire", "family_name": "DUPONT",
		"birth_date": "1985-04-12", "email": "marie@example.fr", "phone": "0611111111", "nne": marie, "commune_code": "75056",
		"polling_station": "75056_0001", "rounds": []int{1, 2}, "consent": true})
	volunteerID := s.signUpConfirmed("planprocu-2027", "volunteers", map[string]any{"given_names": "Jean", "family_name": "MARTIN",
		"birth_date": "1979-11-03", "email": "jean@example.fr", "phone": "0622222222", "nne": jean, "commune_code": "75056",
		"polling_station": "75056_0001", "rounds": []int{1, 2}, "consent": true})

	// Two runs at once: the database lets the pair be proposed once.
	var wg sync.WaitGroup
	runs := make([]response, 2)
	for i := range runs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			runs[i] = s.do("POST", "/v1/campaigns/planprocu-2027/matching-runs", bo, map[string]any{"dry_run": false})
		}()
	}
	wg.Wait()
	proposed := 0
	var matchID string
	for _, r := range runs {
		require.Equal(t, 200, r.Status, r.Raw)
		for _, m := range r.Body["matches"].([]any) {
			proposed++
			matchID = m.(map[string]any)["id"].(string)
			require.Equal(t, requestID, m.(map[string]any)["request_id"])
			require.Equal(t, volunteerID, m.(map[string]any)["volunteer_id"])
		}
	}
	require.Equal(t, 1, proposed, "one live match per person and round, whatever the timing")

	// Back office: the list, then approval in bulk.
	requests := s.do("GET", "/v1/campaigns/planprocu-2027/requests?status=pool&commune=75056", bo, nil)
	require.Equal(t, 200, requests.Status, requests.Raw)
	require.Len(t, requests.Body["items"], 1)
	require.Equal(t, "DUPONT", requests.Body["items"].([]any)[0].(map[string]any)["family_name"])
	require.Len(t, s.do("GET", "/v1/campaigns/planprocu-2027/volunteers?departement=69", bo, nil).Body["items"], 0)
	require.Equal(t, 403, s.do("GET", "/v1/campaigns/planprocu-2027/volunteers", s.token(auth.RoleBackOffice, "bo-2", nil), nil).Status)
	// "Find my voter number" from the requester's link token.
	lookup := s.do("POST", "/v1/register/lookup", s.link(auth.RoleRequester, requestID, auth.PurposeMatch, "any"), map[string]any{"family_name": "Dupont",
		"given_names": "Marie Claire", "birth_date": "1985-04-12", "commune_code": "75056"})
	require.Equal(t, marie, lookup.Body["nne"], lookup.Raw)
	list := s.do("GET", "/v1/campaigns/planprocu-2027/matches?status=proposed&departement=75", bo, nil)
	require.Equal(t, 200, list.Status, list.Raw)
	require.Len(t, list.Body["items"], 1)
	require.Equal(t, 404, s.do("GET", "/v1/matches/"+matchID, s.link(auth.RoleRequester, "someone-else", auth.PurposeMatch, matchID), nil).Status)
	approval := s.do("POST", "/v1/campaigns/planprocu-2027/matches/approvals", bo, map[string]any{"ids": []string{matchID, "m-unknown"}, "outcome": "approved"})
	require.Equal(t, 202, approval.Status, approval.Raw)
	progressURL := approval.Header.Get("Location")
	require.Equal(t, "/v1/campaigns/planprocu-2027/matches/approvals/"+approval.Body["job"].(string), progressURL)
	var progress response
	require.Eventually(t, func() bool {
		progress = s.do("GET", progressURL, bo, nil)
		return progress.Status == 200 && progress.Body["finished"] == true
	}, time.Minute, 200*time.Millisecond, "the bulk approval ends")
	require.EqualValues(t, 2, progress.Body["total"], progress.Raw)
	require.EqualValues(t, 1, progress.Body["succeeded"], progress.Raw)
	failures := progress.Body["failures"].([]any)
	require.Len(t, failures, 1, progress.Raw)
	require.Equal(t, "m-unknown", failures[0].(map[string]any)["id"])
	require.NotEmpty(t, failures[0].(map[string]any)["error"])
	require.Equal(t, 404, s.do("GET", "/v1/campaigns/planprocu-2027/matches/approvals/0123456789abcdef", bo, nil).Status)
	m, err := s.app.Store.Match(context.Background(), matchID)
	require.NoError(t, err)
	require.Equal(t, "awaiting_answer", string(m.Status))

	// Both answer from the offer email's link.
	for _, addr := range []string{"marie@example.fr", "jean@example.fr"} {
		offer := s.waitMails(addr, 2)[1]
		require.Contains(t, offer.Subject, "mise en relation")
		require.NotContains(t, offer.Text, "0611111111", "no contact details before both accept")
		require.NotContains(t, offer.Text, "0622222222")
		link := answerLink.FindString(offer.Text)
		require.NotEmpty(t, link, offer.Text)
		// Opening the page alone answers nothing.
		page := s.do("GET", strings.TrimPrefix(link, s.url), "", nil)
		require.Contains(t, page.Raw, "J'accepte")
		m, err := s.app.Store.Match(context.Background(), matchID)
		require.NoError(t, err)
		if addr == "marie@example.fr" {
			require.Nil(t, m.RequestAnswer)
		} else {
			require.Nil(t, m.VolunteerAnswer)
		}
		res := s.followLink(link)
		require.Equal(t, 200, res.Status, res.Raw)
	}
	got := s.do("GET", "/v1/matches/"+matchID, s.link(auth.RoleRequester, requestID, auth.PurposeMatch, matchID), nil)
	require.Equal(t, "accepted", got.Body["status"], got.Raw)

	// Contact details now, and the pre-filled Cerfa for the requester.
	toMarie := s.waitMails("marie@example.fr", 3)[2]
	require.Contains(t, toMarie.Text, "Jean MARTIN")
	require.Contains(t, toMarie.Text, "0622222222")
	pdf := toMarie.Attachments["cerfa-14952-procuration.pdf"]
	require.True(t, strings.HasPrefix(string(pdf), "%PDF-"), "Cerfa attached")
	toJean := s.waitMails("jean@example.fr", 3)[2]
	require.Contains(t, toJean.Text, "Marie Claire DUPONT")
	require.Contains(t, toJean.Text, "0611111111")

	// Marie asks for the official procuration and links it; officer and town hall validate it.
	created := s.create(s.grantor("fc-marie", marie), marie, "75056", jean, "1979-11-03")
	require.Equal(t, 201, created.Status, created.Raw)
	ref := created.Body["reference"].(string)
	requester := s.link(auth.RoleRequester, requestID, auth.PurposeMatch, matchID)
	require.Equal(t, 403, s.do("POST", "/v1/matches/"+matchID+"/procuration", s.link(auth.RoleVolunteer, volunteerID, auth.PurposeMatch, matchID), map[string]any{"reference": ref}).Status)
	require.Equal(t, 422, s.do("POST", "/v1/matches/"+matchID+"/procuration", requester, map[string]any{"reference": "0000"}).Status)
	linked := s.do("POST", "/v1/matches/"+matchID+"/procuration", requester, map[string]any{"reference": strings.ToLower(ref)})
	require.Equal(t, 200, linked.Status, linked.Raw)
	require.Equal(t, "procuration_linked", linked.Body["status"])
	require.Equal(t, 200, s.do("POST", "/v1/procurations/"+ref+"/police-verification", s.police("opj-1"),
		map[string]any{"outcome": "verified", "id_document": map[string]any{"kind": "cni", "number": "X1234"}}).Status)
	require.Equal(t, 200, s.do("POST", "/v1/procurations/"+ref+"/town-hall-decision", s.townHall("mairie-paris", "75056"),
		map[string]any{"outcome": "validated"}).Status)

	require.EventuallyWithT(t, func(c *assert.CollectT) {
		m, err := s.app.Store.Match(context.Background(), matchID)
		require.NoError(c, err)
		require.Equal(c, "completed", string(m.Status))
	}, 30*time.Second, 100*time.Millisecond)
	done := s.waitMails("jean@example.fr", 4)[3]
	require.Contains(t, done.Subject, "validée")
	require.Contains(t, done.Text, ref)

	figures := s.do("GET", "/v1/campaigns/planprocu-2027/figures", bo, nil)
	require.Equal(t, 200, figures.Status, figures.Raw)
	require.EqualValues(t, 1, figures.Body["matches_by_status"].(map[string]any)["completed"])
	require.EqualValues(t, 2, figures.Body["signups_by_departement"].(map[string]any)["75"])

	// A completed match keeps its people's rounds: a new run proposes nothing.
	again := s.do("POST", "/v1/campaigns/planprocu-2027/matching-runs", bo, map[string]any{"dry_run": true})
	require.EqualValues(t, 0, again.Body["proposed"])

	// After the retention period (the campaign workflow's timer calls this).
	purged, err := s.app.Store.PurgeCampaign(context.Background(), "planprocu-2027")
	require.NoError(t, err)
	require.Equal(t, 2, purged)
	var left int
	require.NoError(t, s.app.Pool.QueryRow(context.Background(), `SELECT count(*) FROM signups WHERE campaign_id = 'planprocu-2027'
		AND (family_name <> '' OR email <> '' OR nne <> '')`).Scan(&left))
	require.Zero(t, left, "no name, email or voter number left")
	require.NoError(t, s.app.Pool.QueryRow(context.Background(), `SELECT count(*) FROM sent_emails
		WHERE (key LIKE 'match/%' OR key LIKE 'signup/%') AND recipient <> ''`).Scan(&left))
	require.Zero(t, left, "no recipient left in the campaign's email records")
	figures = s.do("GET", "/v1/campaigns/planprocu-2027/figures", bo, nil)
	require.EqualValues(t, 1, figures.Body["matches_by_status"].(map[string]any)["completed"], "figures survive")
}

// A volunteer declines: the pair is never proposed again, and the next run
// offers the requester the next nearest volunteer.
func TestDeclineThenNextRunOffersSomeoneElse(t *testing.T) {
	s := newStack(t)
	require.Equal(t, 201, s.do("POST", "/v1/campaigns", s.support(), map[string]any{"id": "lyon-2027", "name": "Lyon 2027",
		"election_id": "presidentielle-2027", "sender": "Lyon <contact@lyon.example>", "back_office_approval": false,
		"matching_every_minutes": 0}).Status)
	person := func(given, family, birth, email, station string) map[string]any {
		return map[string]any{"given_names": given, "family_name": family, "birth_date": birth, "email": email,
			"commune_code": "69123", "polling_station": station, "rounds": []int{1}, "consent": true}
	}
	requestID := s.signUpConfirmed("lyon-2027", "requests", person("Camille", "ROBERT", "2001-09-15", "camille@example.fr", "69123_0001"))
	near := s.signUpConfirmed("lyon-2027", "volunteers", person("Luc", "PETIT", "1968-01-21", "luc@example.fr", "69123_0001"))
	far := s.signUpConfirmed("lyon-2027", "volunteers", person("Inès", "GARNIER", "1990-05-05", "ines@example.fr", "69123_0042"))
	bo := s.token(auth.RoleBackOffice, "bo-lyon", map[string]any{"campaigns": []string{"lyon-2027"}})
	run := func() map[string]any {
		r := s.do("POST", "/v1/campaigns/lyon-2027/matching-runs", bo, map[string]any{"dry_run": false})
		require.Equal(t, 200, r.Status, r.Raw)
		require.Len(t, r.Body["matches"], 1, r.Raw)
		return r.Body["matches"].([]any)[0].(map[string]any)
	}
	first := run()
	require.Equal(t, near, first["volunteer_id"], "the same polling station first")
	matchID := first["id"].(string)
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		m, err := s.app.Store.Match(context.Background(), matchID)
		require.NoError(c, err)
		require.Equal(c, "awaiting_answer", string(m.Status))
	}, 20*time.Second, 50*time.Millisecond)
	require.Equal(t, 403, s.do("POST", "/v1/matches/"+matchID+"/answer", bo, map[string]any{"outcome": "declined"}).Status)
	declined := s.do("POST", "/v1/matches/"+matchID+"/answer", s.link(auth.RoleVolunteer, near, auth.PurposeAnswerOffer, matchID), map[string]any{"outcome": "declined"})
	require.Equal(t, 200, declined.Status, declined.Raw)
	require.Equal(t, "declined", declined.Body["status"])
	require.Equal(t, 409, s.do("POST", "/v1/matches/"+matchID+"/answer", s.link(auth.RoleRequester, requestID, auth.PurposeAnswerOffer, matchID),
		map[string]any{"outcome": "accepted"}).Status, "a declined match takes no more answers")
	told := s.waitMails("camille@example.fr", 3)[2]
	require.Contains(t, told.Text, "décliné")

	second := run()
	require.Equal(t, far, second["volunteer_id"], "never the declined pair again")
	require.EqualValues(t, 1, second["tier"])
}

// A requester whose official dossier failed comes back first in line: ahead
// of an earlier sign-up for the only volunteer around.
func TestFirstInLineAfterAFailedDossier(t *testing.T) {
	s := newStack(t)
	bad := s.do("POST", "/v1/campaigns", s.support(), map[string]any{"id": "Nice!", "name": "Nice 2027",
		"election_id": "presidentielle-2027", "sender": "not an address", "link_reminder_days": []int{2, 90}})
	require.Equal(t, 422, bad.Status, bad.Raw)
	require.ElementsMatch(t, []string{"body.id", "body.sender", "body.link_reminder_days[1]"}, fieldLocations(bad))
	require.Equal(t, 201, s.do("POST", "/v1/campaigns", s.support(), map[string]any{"id": "nice-2027", "name": "Nice 2027",
		"election_id": "presidentielle-2027", "sender": "Nice <contact@nice.example>", "matching_every_minutes": 0,
		"link_reminder_days": []int{1, 3, 7}}).Status)
	c, err := s.app.Store.Campaign(context.Background(), "nice-2027")
	require.NoError(t, err)
	require.Equal(t, []int32{1, 3, 7}, c.LinkReminderDays)
	person := func(given, email, birth string) map[string]any {
		return map[string]any{"given_names": given, "family_name": "TEST", "birth_date": birth, "email": email,
			"commune_code": "06088", "polling_station": "06088_0001", "rounds": []int{1}, "consent": true}
	}
	early := s.signUpConfirmed("nice-2027", "requests", person("Early", "early@example.fr", "1980-01-01"))
	again := s.signUpConfirmed("nice-2027", "requests", person("Again", "again@example.fr", "1981-01-01"))
	s.signUpConfirmed("nice-2027", "volunteers", person("Vol", "vol@example.fr", "1982-01-01"))
	bo := s.token(auth.RoleBackOffice, "bo-nice", map[string]any{"campaigns": []string{"nice-2027"}})
	dry := func() string {
		r := s.do("POST", "/v1/campaigns/nice-2027/matching-runs", bo, map[string]any{"dry_run": true})
		require.Equal(t, 200, r.Status, r.Raw)
		return r.Body["matches"].([]any)[0].(map[string]any)["request_id"].(string)
	}
	require.Equal(t, early, dry(), "earlier sign-ups win ties")
	// What the match workflow records when the linked dossier fails.
	_, err = s.app.Pool.Exec(context.Background(), `UPDATE signups SET first_in_line = true WHERE id = $1`, again)
	require.NoError(t, err)
	require.Equal(t, again, dry(), "back first in line")
}

// A back office pairs people by hand under the rules of a run: confirmed,
// in reach, one volunteer per round; two proposals for the same volunteer
// at once, one wins.
func TestProposePairByHand(t *testing.T) {
	s := newStack(t)
	require.Equal(t, 201, s.do("POST", "/v1/campaigns", s.support(), map[string]any{"id": "main-2027", "name": "À la main 2027",
		"election_id": "presidentielle-2027", "sender": "Main <contact@main.example>", "back_office_approval": true,
		"matching_every_minutes": 0}).Status)
	person := func(given, email, commune string, rounds ...int) map[string]any {
		return map[string]any{"given_names": given, "family_name": "MAIN", "birth_date": "1980-02-02", "email": email,
			"commune_code": commune, "rounds": rounds, "consent": true}
	}
	rita := s.signUpConfirmed("main-2027", "requests", person("Rita", "rita@example.fr", "75056", 1, 2))
	rose := s.signUpConfirmed("main-2027", "requests", person("Rose", "rose@example.fr", "75056", 1))
	remi := s.signUpConfirmed("main-2027", "requests", person("Rémi", "remi@example.fr", "75056", 1))
	victor := s.signUpConfirmed("main-2027", "volunteers", person("Victor", "victor@example.fr", "75056", 1))
	lyon := s.signUpConfirmed("main-2027", "volunteers", person("Léon", "leon@example.fr", "69123", 1, 2))
	second := s.signUpConfirmed("main-2027", "volunteers", person("Sacha", "sacha@example.fr", "75056", 2))
	last := s.signUpConfirmed("main-2027", "volunteers", person("Vera", "vera@example.fr", "75056", 1))
	bo := s.token(auth.RoleBackOffice, "bo-main", map[string]any{"campaigns": []string{"main-2027"}})
	propose := func(token, request, volunteer string) response {
		return s.do("POST", "/v1/campaigns/main-2027/matches", token, map[string]any{"request_id": request, "volunteer_id": volunteer})
	}
	field := func(r response) string {
		list, _ := r.Body["errors"].([]any)
		if len(list) == 0 {
			return ""
		}
		loc, _ := list[0].(map[string]any)["location"].(string)
		return loc
	}

	// Refused, naming the field, and nothing stored.
	require.Equal(t, 403, propose(s.token(auth.RoleBackOffice, "bo-other", map[string]any{"campaigns": []string{"another"}}), rita, victor).Status)
	for name, c := range map[string]struct{ request, volunteer, field string }{
		"a volunteer as the request": {victor, lyon, "body.request_id"},
		"a request as the volunteer": {rita, rose, "body.volunteer_id"},
		"another département":        {rita, lyon, "body.volunteer_id"},
		"nobody":                     {rita, "s-unknown", "body.volunteer_id"},
	} {
		r := propose(bo, c.request, c.volunteer)
		require.Equal(t, 422, r.Status, "%s: %s", name, r.Raw)
		require.Equal(t, c.field, field(r), "%s: %s", name, r.Raw)
	}
	require.Zero(t, countMatches(t, s, "main-2027", ""))

	// Rita and Victor for the first round, which both have: the back
	// office's own proposal goes to both at once.
	made := propose(bo, rita, victor)
	require.Equal(t, 201, made.Status, made.Raw)
	require.Equal(t, "awaiting_answer", made.Body["status"], made.Raw)
	require.Equal(t, []any{1.0}, made.Body["rounds"])
	require.Equal(t, "/v1/matches/"+made.Body["id"].(string), made.Header.Get("Location"))
	require.Contains(t, s.waitMails("rita@example.fr", 2)[1].Subject, "mise en relation")
	require.Contains(t, s.waitMails("victor@example.fr", 2)[1].Subject, "mise en relation")
	// Victor has no round left; Rita's second goes to Sacha.
	r := propose(bo, rose, victor)
	require.Equal(t, 422, r.Status, r.Raw)
	require.Equal(t, "body.volunteer_id", field(r))
	again := propose(bo, rita, second)
	require.Equal(t, 201, again.Status, again.Raw)
	require.Equal(t, []any{2.0}, again.Body["rounds"])

	// Rose and Rémi both for Vera, at the same moment: one match.
	results := make(chan response, 2)
	for _, who := range []string{rose, remi} {
		go func() { results <- propose(bo, who, last) }()
	}
	a, b := <-results, <-results
	if a.Status != 201 {
		a, b = b, a
	}
	require.Equal(t, 201, a.Status, "%s | %s", a.Raw, b.Raw)
	// Refused by the rules if it came second, by the database if at once.
	require.Contains(t, []int{409, 422}, b.Status, b.Raw)
	var slots int
	require.NoError(t, s.app.Pool.QueryRow(context.Background(), `SELECT count(*) FROM match_slots WHERE signup_id = $1 AND live`, last).Scan(&slots))
	require.Equal(t, 1, slots)
	var audited int
	require.NoError(t, s.app.Pool.QueryRow(context.Background(), `SELECT count(*) FROM audit_log WHERE action = 'matches.propose'`).Scan(&audited))
	require.Equal(t, 3, audited)
}

// A dossier that fails ends its match, tells both, and within the rematch
// delay the campaign matches the requester again, first in line, with
// another volunteer (the failed pair is not proposed again, although the
// same one is nearer): no back office, no schedule.
func TestRematchAfterAFailedDossier(t *testing.T) {
	s := newStack(t, "--rematch-delay=1s")
	s.loadVoters()
	require.Equal(t, 201, s.do("POST", "/v1/campaigns", s.support(), map[string]any{"id": "re-2027", "name": "Encore 2027",
		"election_id": "presidentielle-2027", "sender": "Encore <contact@encore.example>", "matching_every_minutes": 0}).Status)
	person := func(given, family, birth, email, nne, station string) map[string]any {
		return map[string]any{"given_names": given, "family_name": family, "birth_date": birth, "email": email, "nne": nne,
			"commune_code": "75056", "polling_station": station, "rounds": []int{1, 2}, "consent": true}
	}
	requestID := s.signUpConfirmed("re-2027", "requests", person("Marie Claire", "DUPONT", "1985-04-12", "marie@example.fr", marie, "75056_0001"))
	near := s.signUpConfirmed("re-2027", "volunteers", person("Jean", "MARTIN", "1979-11-03", "jean@example.fr", jean, "75056_0001"))
	next := s.signUpConfirmed("re-2027", "volunteers", person("Noé", "SUIVANT", "1970-03-03", "noe@example.fr", "", "75056_0042"))
	bo := s.token(auth.RoleBackOffice, "bo-re", map[string]any{"campaigns": []string{"re-2027"}})
	run := s.do("POST", "/v1/campaigns/re-2027/matching-runs", bo, map[string]any{"dry_run": false})
	require.Equal(t, 200, run.Status, run.Raw)
	first := run.Body["matches"].([]any)[0].(map[string]any)
	require.Equal(t, near, first["volunteer_id"])
	matchID := first["id"].(string)
	status := func(id string) func() string {
		return func() string {
			m, err := s.app.Store.Match(context.Background(), id)
			require.NoError(t, err)
			return string(m.Status)
		}
	}
	require.Eventually(t, func() bool { return status(matchID)() == "awaiting_answer" }, 30*time.Second, 100*time.Millisecond)
	for role, id := range map[string]string{auth.RoleRequester: requestID, auth.RoleVolunteer: near} {
		r := s.do("POST", "/v1/matches/"+matchID+"/answer", s.link(role, id, auth.PurposeAnswerOffer, matchID), map[string]any{"outcome": "accepted"})
		require.Equal(t, 200, r.Status, r.Raw)
	}
	ref := s.create(s.grantor("fc-marie", marie), marie, "75056", jean, "1979-11-03").Body["reference"].(string)
	linked := s.do("POST", "/v1/matches/"+matchID+"/procuration", s.link(auth.RoleRequester, requestID, auth.PurposeMatch, matchID),
		map[string]any{"reference": ref})
	require.Equal(t, 200, linked.Status, linked.Raw)

	// The officer refuses the dossier: the match learns it from the dossier.
	refused := s.do("POST", "/v1/procurations/"+ref+"/police-verification", s.police("opj-re"), map[string]any{"outcome": "refused",
		"id_document": map[string]any{"kind": "cni", "number": "880692310285"}, "reason": "pièce d'identité expirée"})
	require.Equal(t, 200, refused.Status, refused.Raw)
	require.Eventually(t, func() bool { return status(matchID)() == "cancelled" }, 30*time.Second, 100*time.Millisecond)
	for _, addr := range []string{"marie@example.fr", "jean@example.fr"} {
		mails := s.waitMails(addr, 4)
		require.Contains(t, mails[len(mails)-1].Subject, "mise en relation", addr)
	}

	// Within seconds, Marie has a new match, with the next volunteer, and
	// both are offered it by email.
	var again string
	require.Eventually(t, func() bool {
		return s.app.Pool.QueryRow(context.Background(), `SELECT id FROM matches WHERE request_id = $1 AND id <> $2 AND volunteer_id = $3`,
			requestID, matchID, next).Scan(&again) == nil
	}, 30*time.Second, 200*time.Millisecond, "rematched with someone else")
	require.Eventually(t, func() bool { return status(again)() == "awaiting_answer" }, 30*time.Second, 100*time.Millisecond)
	offer := s.waitMails("noe@example.fr", 2)[1]
	require.Contains(t, offer.Subject, "mise en relation")
	require.Contains(t, offer.Text, "Marie")
	v, err := s.app.Temporal.QueryWorkflow(context.Background(), campaign.OffersWorkflowID("re-2027"), "", campaign.QueryOffers)
	require.NoError(t, err)
	var p campaign.OffersProgress
	require.NoError(t, v.Get(&p))
	require.GreaterOrEqual(t, p.Rematches, 1)
	// The run on its own queue, the matches on the deployment's: a backlog
	// of first tasks never holds up the run's next batch.
	d, err := s.app.Temporal.DescribeWorkflowExecution(context.Background(), campaign.OffersWorkflowID("re-2027"), "")
	require.NoError(t, err)
	require.Equal(t, campaign.RunsTaskQueue(s.cfg.TaskQueue), d.GetWorkflowExecutionInfo().GetTaskQueue())
	d, err = s.app.Temporal.DescribeWorkflowExecution(context.Background(), match.WorkflowID(again), "")
	require.NoError(t, err)
	require.Equal(t, s.cfg.TaskQueue, d.GetWorkflowExecutionInfo().GetTaskQueue())
}

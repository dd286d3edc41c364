package faults

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/procurations/procuration/internal/auth"
	"github.com/procurations/procuration/internal/geo"
	"github.com/procurations/procuration/internal/smtptrap"
)

// Load is the run's dossiers and matches, each driven through every step
// by its own goroutine, as the people and agents involved would, with
// pauses between the steps so that all of them are in flight at once.
type Load struct {
	Client *Client
	Issuer *auth.Issuer
	SMTP   *smtptrap.Server
	// DB tells whether an action answered 409 after an unanswered attempt
	// had in fact been applied by that attempt.
	DB       *pgxpool.Pool
	Dossiers int
	Matches  int
	// Spread is how long the steps are spread over.
	Spread time.Duration
	// Deadline is when an action still not answered is given up.
	Deadline time.Time
	Progress io.Writer

	Campaign string
	base     int
	mail     *mailbox
	rnd      *rand.Rand
	rndMu    sync.Mutex

	mu       sync.Mutex
	Runs     []*DossierRun
	Pairs    []*PairRun
	signups  map[string]*Person
	expected []EmailKey

	inFlight     atomic.Int64
	MaxInFlight  atomic.Int64
	offered      atomic.Int64
	confirmed    atomic.Int64
	MatchingRuns atomic.Int64
}

// Person is a voter of the register the run imported.
type Person struct {
	NNE        string
	GivenNames string
	FamilyName string
	Email      string
	// SignupID is set once their confirmation email named it.
	SignupID string
}

// StepRun is one action as its client saw it.
type StepRun struct {
	Name     string
	Attempts int
	// Unanswered: an attempt got no final answer before the last one.
	Unanswered bool
	// Acked: the action got its success status.
	Acked bool
	// Earlier: it got 409 after an unanswered attempt, and its effect was
	// there: that attempt had been applied.
	Earlier bool
	Err     string
}

// Done reports whether the action took effect as far as its client knows.
func (s *StepRun) Done() bool { return s.Acked || s.Earlier }

// DossierRun is one dossier: create, police verification, town hall
// validation.
type DossierRun struct {
	Grantor, Proxy *Person
	Token          string
	Reference      string
	Steps          map[string]*StepRun
	// ForMatch is set for a requester's official dossier.
	ForMatch *PairRun
	// created, when set, is closed once the create has its answer.
	created chan struct{}
}

// PairRun is a requester and a volunteer who sign up, confirm, are matched,
// both accept; the requester files the official dossier and links it.
type PairRun struct {
	Requester, Volunteer *Person
	// MatchID is the requester's match, from their offer email.
	MatchID string
	// Partner is the volunteer the engine gave the requester.
	Partner *Person
	Steps   map[string]*StepRun
	Dossier *DossierRun
}

const (
	stepCreate   = "create"
	stepPolice   = "police verification"
	stepTownHall = "town hall decision"
	stepSignup   = "sign-up"
	stepConfirm  = "confirm email"
	stepAnswer   = "answer offer"
	stepLink     = "link dossier"
)

// Steps in the order the table shows them.
var Steps = []string{stepSignup, stepConfirm, stepAnswer, stepCreate, stepPolice, stepTownHall, stepLink}

func (l *Load) rand(max time.Duration) time.Duration {
	if max <= 0 {
		return 0
	}
	l.rndMu.Lock()
	defer l.rndMu.Unlock()
	return time.Duration(l.rnd.Int64N(int64(max)))
}

// Prepare imports the voters of the run and creates its campaign.
func (l *Load) Prepare(ctx context.Context) error {
	l.rnd = rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 2027))
	l.base = 300000000 + l.rnd.IntN(500000000)
	l.signups = map[string]*Person{}
	l.mail = &mailbox{src: l.SMTP, by: map[string][]smtptrap.Mail{}}
	voter := func(i int, role string) *Person {
		return &Person{NNE: fmt.Sprint(l.base + i), GivenNames: "Voter " + geo.LetterName(i), FamilyName: "FAUTES",
			Email: fmt.Sprintf("%s-%d@example.fr", role, l.base+i)}
	}
	var csv strings.Builder
	csv.WriteString("nne,family_name,given_names,sex,birth_date,commune_code,polling_station\n")
	n := 0
	add := func(role string) *Person {
		p := voter(n, role)
		fmt.Fprintf(&csv, "%s,%s,%s,F,1980-01-01,75056,75056_0001\n", p.NNE, p.FamilyName, p.GivenNames)
		n++
		return p
	}
	for range l.Dossiers {
		l.Runs = append(l.Runs, &DossierRun{Grantor: add("grantor"), Proxy: add("proxy"), Steps: map[string]*StepRun{}})
	}
	for range l.Matches {
		l.Pairs = append(l.Pairs, &PairRun{Requester: add("requester"), Volunteer: add("volunteer"), Steps: map[string]*StepRun{}})
	}
	support, err := l.Issuer.Mint(auth.RoleSupport, "faults-support", nil, 6*time.Hour)
	if err != nil {
		return err
	}
	deadline := time.Now().Add(5 * time.Minute)
	out, err := l.Client.Act(ctx, deadline, Request{Method: http.MethodPost, Path: "/v1/register/imports", Token: support, Body: []byte(csv.String())})
	if err != nil || out.Response.Status != http.StatusOK {
		return fmt.Errorf("register import: %v %d %s", err, out.Response.Status, truncate(out.Response.Body))
	}
	if l.Matches == 0 {
		return nil
	}
	l.Campaign = fmt.Sprintf("fautes-%d", l.base)
	out, err = l.Client.Act(ctx, deadline, Request{Method: http.MethodPost, Path: "/v1/campaigns", Token: support, Body: map[string]any{
		"id": l.Campaign, "name": "Fautes " + fmt.Sprint(l.base), "election_id": "presidentielle-2027",
		"sender": "Fautes <contact@fautes.example>", "back_office_approval": false, "matching_every_minutes": 0}})
	if err != nil || out.Response.Status != http.StatusCreated {
		return fmt.Errorf("campaign: %v %d %s", err, out.Response.Status, truncate(out.Response.Body))
	}
	return nil
}

// Run drives everything and returns when every dossier and pair has gone
// as far as it can.
func (l *Load) Run(ctx context.Context) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go l.mail.follow(ctx)
	var wg sync.WaitGroup
	for i, d := range l.Runs {
		wg.Go(func() { l.dossier(ctx, i, d, l.rand(l.Spread/8), l.Spread/2, l.Spread/3) })
	}
	for i, p := range l.Pairs {
		wg.Go(func() { l.pair(ctx, i, p) })
	}
	if len(l.Pairs) > 0 {
		go l.backOffice(ctx)
	}
	wg.Wait()
}

// began counts a dossier or a match in flight, from its creation until
// its client has nothing left to do; the caller defers the returned func.
func (l *Load) began() func() {
	n := l.inFlight.Add(1)
	for {
		max := l.MaxInFlight.Load()
		if n <= max || l.MaxInFlight.CompareAndSwap(max, n) {
			break
		}
	}
	return func() { l.inFlight.Add(-1) }
}

func (l *Load) sleep(ctx context.Context, d time.Duration) bool {
	select {
	case <-ctx.Done():
		return false
	case <-time.After(d):
		return true
	}
}

func (l *Load) token(role, sub string, claims map[string]any) string {
	t, err := l.Issuer.Mint(role, sub, claims, 6*time.Hour)
	if err != nil {
		panic(err) // the key is ours and loaded: minting cannot fail
	}
	return t
}

func (l *Load) grantorToken(p *Person) string {
	return l.token(auth.RoleGrantor, "faults-"+p.NNE, map[string]any{"given_name": p.GivenNames, "family_name": p.FamilyName,
		"birthdate": "1980-01-01", "email": p.Email})
}

// Agents read a bounded number of dossiers an hour: the run spreads the
// dossiers over many officers and town hall agents, five each, so that
// retries through the outages stay within the bound.
func (l *Load) police(i int) string {
	return l.token(auth.RolePolice, fmt.Sprintf("faults-opj-%d", i/5), map[string]any{"given_name": "Paul", "family_name": "FAUTES",
		"rank": "brigadier", "unit": "Commissariat des fautes"})
}

func (l *Load) townHall(i int) string {
	return l.token(auth.RoleTownHall, fmt.Sprintf("faults-mairie-%d", i/5), map[string]any{"given_name": "Inès", "family_name": "FAUTES",
		"communes": []string{"75056"}})
}

func (l *Load) expect(kind, recipient, object string) {
	l.mu.Lock()
	l.expected = append(l.expected, EmailKey{Kind: kind, Recipient: recipient, Object: object})
	l.mu.Unlock()
}

// Expected are the emails the run's dossiers and matches call for.
func (l *Load) Expected() []EmailKey {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]EmailKey(nil), l.expected...)
}

// act runs one action: want is its success status; applied, when set,
// says whether a 409 after an unanswered attempt means it was applied.
func (l *Load) act(ctx context.Context, steps map[string]*StepRun, name string, r Request, want int,
	applied func(context.Context) bool) (Response, bool) {
	st := &StepRun{Name: name}
	l.mu.Lock()
	steps[name] = st
	l.mu.Unlock()
	out, err := l.Client.Act(ctx, l.Deadline, r)
	l.mu.Lock()
	defer l.mu.Unlock()
	st.Attempts, st.Unanswered = out.Attempts, out.Unanswered
	switch {
	case err != nil:
		st.Err = err.Error()
	case out.Response.Status == want:
		st.Acked = true
	case out.Response.Status == http.StatusConflict && out.Unanswered && applied != nil:
		l.mu.Unlock()
		ok := applied(ctx)
		l.mu.Lock()
		if ok {
			st.Earlier = true
		} else {
			st.Err = fmt.Sprintf("%d %s", out.Response.Status, truncate(out.Response.Body))
		}
	default:
		st.Err = fmt.Sprintf("%d %s", out.Response.Status, truncate(out.Response.Body))
	}
	return out.Response, st.Done()
}

// dossier files a dossier, then after a while the police verify it, then
// the town hall validates it.
func (l *Load) dossier(ctx context.Context, i int, d *DossierRun, start, policeWithin, townHallWithin time.Duration) {
	if !l.sleep(ctx, start) {
		return
	}
	d.Token = l.grantorToken(d.Grantor)
	res, ok := l.act(ctx, d.Steps, stepCreate, Request{Method: http.MethodPost, Path: "/v1/procurations", Token: d.Token,
		IdempotencyKey: "faults-" + d.Grantor.NNE, Body: map[string]any{
			"grantor":  map[string]any{"nne": d.Grantor.NNE, "commune_code": "75056"},
			"proxy":    map[string]any{"nne": d.Proxy.NNE, "birth_date": "1980-01-01"},
			"validity": map[string]any{"election_id": "presidentielle-2027", "rounds": []int{1, 2}},
		}}, http.StatusCreated, nil)
	var created struct{ Reference string }
	if ok && res.Decode(&created) == nil {
		l.mu.Lock()
		d.Reference = created.Reference
		l.mu.Unlock()
	}
	if d.created != nil {
		close(d.created)
	}
	if d.Reference == "" {
		return
	}
	defer l.began()()
	for _, kind := range []string{"submission", "police_receipt", "validated"} {
		l.expect(kind, d.Grantor.Email, d.Reference)
	}
	reached := func(statuses ...string) func(context.Context) bool {
		return func(ctx context.Context) bool {
			out, err := l.Client.Act(ctx, l.Deadline, Request{Method: http.MethodGet, Path: "/v1/procurations/" + d.Reference, Token: d.Token})
			var got struct{ Status string }
			return err == nil && out.Response.Decode(&got) == nil && contains(statuses, got.Status)
		}
	}
	if !l.sleep(ctx, policeWithin/8+l.rand(policeWithin)) {
		return
	}
	if _, ok := l.act(ctx, d.Steps, stepPolice, Request{Method: http.MethodPost, Path: "/v1/procurations/" + d.Reference + "/police-verification",
		Token: l.police(i), Body: map[string]any{"outcome": "verified", "id_document": map[string]any{"kind": "cni", "number": "FAUTES" + d.Grantor.NNE}}},
		http.StatusOK, reached("awaiting_town_hall", "validated")); !ok {
		return
	}
	if !l.sleep(ctx, townHallWithin/8+l.rand(townHallWithin)) {
		return
	}
	l.act(ctx, d.Steps, stepTownHall, Request{Method: http.MethodPost, Path: "/v1/procurations/" + d.Reference + "/town-hall-decision",
		Token: l.townHall(i), Body: map[string]any{"outcome": "validated"}}, http.StatusOK, reached("validated"))
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

var (
	// The links of the campaign site's pages, and those of emails sent
	// before it.
	confirmLink = regexp.MustCompile(`/(?:liens/inscription|c/[a-z0-9-]+/confirmer)/([^?\s]+)\?token=([^\s&]+)`)
	acceptLink  = regexp.MustCompile(`/(?:liens/reponse|c/[a-z0-9-]+/offre)/([^?\s]+)\?token=([^\s&]+)&outcome=accepted`)
)

// pair signs both people up, confirms both from their emails, answers
// both offers from theirs, then the requester files the official dossier
// in favour of the volunteer the engine gave them, links it, and the
// police and the town hall do their part.
func (l *Load) pair(ctx context.Context, i int, p *PairRun) {
	if !l.sleep(ctx, l.rand(l.Spread/8)) {
		return
	}
	for _, who := range []struct {
		person *Person
		side   string
	}{{p.Requester, "requests"}, {p.Volunteer, "volunteers"}} {
		if _, ok := l.act(ctx, p.Steps, stepSignup+" "+who.side, Request{Method: http.MethodPost, Path: "/v1/campaigns/" + l.Campaign + "/" + who.side,
			Body: map[string]any{"given_names": who.person.GivenNames, "family_name": who.person.FamilyName, "birth_date": "1980-01-01",
				"email": who.person.Email, "nne": who.person.NNE, "commune_code": "75056", "polling_station": "75056_0001",
				"rounds": []int{1, 2}, "consent": true}}, http.StatusCreated, nil); !ok {
			return
		}
	}
	defer l.began()()
	for _, who := range []*Person{p.Requester, p.Volunteer} {
		m, err := l.mail.wait(ctx, l.Deadline, who.Email, "signup_confirmation")
		if err != nil {
			l.fail(p.Steps, stepConfirm, "no confirmation email: "+err.Error())
			return
		}
		link := confirmLink.FindStringSubmatch(m.Text)
		if link == nil {
			l.fail(p.Steps, stepConfirm, "no link in the confirmation email")
			return
		}
		token, _ := url.QueryUnescape(link[2])
		l.mu.Lock()
		who.SignupID = link[1]
		l.signups[link[1]] = who
		l.mu.Unlock()
		l.expect("signup_confirmation", who.Email, link[1])
		if _, ok := l.act(ctx, p.Steps, stepConfirm+" "+who.Email, Request{Method: http.MethodPost, Path: "/v1/signups/" + link[1] + "/confirm",
			Body: map[string]any{"token": token}}, http.StatusOK, nil); !ok {
			return
		}
		l.confirmed.Add(1)
	}
	// Each answers their own offer, whoever it pairs them with.
	for _, who := range []*Person{p.Requester, p.Volunteer} {
		m, err := l.mail.wait(ctx, l.Deadline, who.Email, "match_offer")
		if err != nil {
			l.fail(p.Steps, stepAnswer, "no offer email: "+err.Error())
			return
		}
		link := acceptLink.FindStringSubmatch(m.Text)
		if link == nil {
			l.fail(p.Steps, stepAnswer, "no accept link in the offer email")
			return
		}
		matchID, token := link[1], link[2]
		token, _ = url.QueryUnescape(token)
		if who == p.Requester {
			l.offered.Add(1)
			l.mu.Lock()
			p.MatchID = matchID
			l.mu.Unlock()
		}
		if !l.sleep(ctx, l.rand(l.Spread/10)) {
			return
		}
		party := "volunteer_answer"
		if who == p.Requester {
			party = "request_answer"
		}
		if _, ok := l.act(ctx, p.Steps, stepAnswer+" "+who.Email, Request{Method: http.MethodPost, Path: "/v1/matches/" + matchID + "/answer-link",
			Body: map[string]any{"token": token, "outcome": "accepted"}}, http.StatusOK, l.answered(matchID, party)); !ok {
			return
		}
	}
	l.requesterDossier(ctx, i, p)
}

func (l *Load) fail(steps map[string]*StepRun, name, why string) {
	l.mu.Lock()
	steps[name] = &StepRun{Name: name, Err: why}
	l.mu.Unlock()
}

// answered reads the match's record: whether the party's answer is in.
func (l *Load) answered(matchID, column string) func(context.Context) bool {
	return func(ctx context.Context) bool {
		var answer *string
		err := l.DB.QueryRow(ctx, `SELECT `+column+` FROM matches WHERE id = $1`, matchID).Scan(&answer)
		return err == nil && answer != nil && *answer == "accepted"
	}
}

// requesterDossier waits for the match to be accepted by both, then
// files, links and gets validated the requester's official dossier.
func (l *Load) requesterDossier(ctx context.Context, i int, p *PairRun) {
	token, err := l.Issuer.MintLink(auth.RoleRequester, p.Requester.SignupID, auth.PurposeMatch, p.MatchID, time.Now().Add(6*time.Hour))
	if err != nil {
		l.fail(p.Steps, stepLink, err.Error())
		return
	}
	var m struct {
		Status      string `json:"status"`
		VolunteerID string `json:"volunteer_id"`
	}
	for {
		out, err := l.Client.Act(ctx, l.Deadline, Request{Method: http.MethodGet, Path: "/v1/matches/" + p.MatchID, Token: token})
		if err == nil && out.Response.Status == http.StatusOK && out.Response.Decode(&m) == nil && m.Status != "awaiting_answer" {
			break
		}
		if time.Now().After(l.Deadline) || !l.sleep(ctx, 2*time.Second) {
			l.fail(p.Steps, stepLink, "the match never left awaiting_answer")
			return
		}
	}
	l.mu.Lock()
	partner := l.signups[m.VolunteerID]
	l.mu.Unlock()
	if m.Status != "accepted" || partner == nil {
		l.fail(p.Steps, stepLink, fmt.Sprintf("match %s is %s (volunteer %s known: %v)", p.MatchID, m.Status, m.VolunteerID, partner != nil))
		return
	}
	l.mu.Lock()
	p.Partner = partner
	l.mu.Unlock()
	for _, kind := range []string{"match_offer", "match_contacts", "match_completed"} {
		l.expect(kind, p.Requester.Email, p.MatchID)
		l.expect(kind, partner.Email, p.MatchID)
	}
	d := &DossierRun{Grantor: p.Requester, Proxy: partner, Steps: map[string]*StepRun{}, ForMatch: p, created: make(chan struct{})}
	l.mu.Lock()
	p.Dossier = d
	l.mu.Unlock()
	// The dossier is filed at once; linked, then verified and validated.
	done := make(chan struct{})
	go func() {
		defer close(done)
		l.dossier(ctx, l.Dossiers+i, d, 0, l.Spread/6, l.Spread/6)
	}()
	select {
	case <-d.created:
	case <-ctx.Done():
	}
	l.mu.Lock()
	ref := d.Reference
	l.mu.Unlock()
	if ref != "" {
		l.act(ctx, p.Steps, stepLink, Request{Method: http.MethodPost, Path: "/v1/matches/" + p.MatchID + "/procuration", Token: token,
			Body: map[string]any{"reference": ref}}, http.StatusOK, func(ctx context.Context) bool {
			var linked *string
			err := l.DB.QueryRow(ctx, `SELECT procuration_reference FROM matches WHERE id = $1`, p.MatchID).Scan(&linked)
			return err == nil && linked != nil && *linked == ref
		})
	}
	<-done
}

// backOffice runs the campaign's matching every ten seconds while some
// confirmed people have no offer yet, as its back office would.
func (l *Load) backOffice(ctx context.Context) {
	bo := l.token(auth.RoleBackOffice, "faults-bo", map[string]any{"campaigns": []string{l.Campaign}})
	for l.sleep(ctx, 10*time.Second) {
		if l.offered.Load() >= int64(len(l.Pairs)) {
			return
		}
		if l.confirmed.Load() < 2 {
			continue
		}
		res, err := l.Client.Do(ctx, Request{Method: http.MethodPost, Path: "/v1/campaigns/" + l.Campaign + "/matching-runs", Token: bo,
			Body: map[string]any{"dry_run": false}})
		if err == nil && res.Status == http.StatusOK {
			l.MatchingRuns.Add(1)
		}
	}
}

// mailbox indexes the SMTP server's messages by recipient, for the many
// people of the run waiting for theirs.
type mailbox struct {
	src  *smtptrap.Server
	mu   sync.Mutex
	seen int
	by   map[string][]smtptrap.Mail
}

func (m *mailbox) follow(ctx context.Context) {
	for {
		all := m.src.Received()
		m.mu.Lock()
		for _, msg := range all[m.seen:] {
			for _, to := range msg.To {
				to = strings.ToLower(to)
				m.by[to] = append(m.by[to], msg)
			}
		}
		m.seen = len(all)
		m.mu.Unlock()
		select {
		case <-ctx.Done():
			return
		case <-time.After(300 * time.Millisecond):
		}
	}
}

// wait returns the first email of that kind to addr.
func (m *mailbox) wait(ctx context.Context, deadline time.Time, addr, kind string) (smtptrap.Mail, error) {
	addr = strings.ToLower(addr)
	for {
		m.mu.Lock()
		for _, msg := range m.by[addr] {
			if k, _, ok := ParseMessageID(msg.MessageID); ok && k == kind {
				m.mu.Unlock()
				return msg, nil
			}
		}
		m.mu.Unlock()
		if time.Now().After(deadline) {
			return smtptrap.Mail{}, ErrDeadline
		}
		select {
		case <-ctx.Done():
			return smtptrap.Mail{}, ctx.Err()
		case <-time.After(500 * time.Millisecond):
		}
	}
}

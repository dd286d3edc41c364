package faults

import (
	"context"
	"fmt"
	"net/http"
	"sort"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/procurations/procuration/internal/auth"
)

// EntityCheck is one dossier's or match's final state, as the API and the
// database have it, against the state the run drove it to.
type EntityCheck struct {
	What     string
	ID       string
	Expected string
	API      string
	DB       string
	Why      string
}

// Right: both agree with what was expected.
func (c EntityCheck) Right() bool { return c.Why == "" && c.API == c.Expected && c.DB == c.Expected }

// Lost is an action whose effect is missing although it was taken.
type Lost struct {
	What, ID, Step, Why string
}

// Checks are the run's final checks.
type Checks struct {
	Dossiers      []EntityCheck
	MatchDossiers []EntityCheck
	Matches       []EntityCheck
	// Lost are acknowledged actions whose effect is not in the database.
	Lost []Lost
	// Failed are actions that never succeeded (deadline, unexpected answer).
	Failed []Lost
	// DuplicateDossiers counts grantors of the run with more than one
	// dossier; OtherMatches the campaign's matches beyond one per
	// requester, by status.
	DuplicateDossiers int
	OtherMatches      map[string]int
	Emails            EmailCount
}

type dbDossier struct {
	status, police, townHall string
}

// Check reads every final state through the API and in the database.
func (l *Load) Check(ctx context.Context, db *pgxpool.Pool, faults []Fault) (Checks, error) {
	var c Checks
	deadline := time.Now().Add(5 * time.Minute)
	dossiers := map[string]dbDossier{}
	perGrantor := map[string]int{}
	rows, err := db.Query(ctx, `SELECT reference, status, grantor_sub, coalesce(police_outcome, ''), coalesce(town_hall_outcome, '') FROM procurations
		WHERE grantor_sub LIKE $1`, "%faults-%")
	if err != nil {
		return c, err
	}
	for rows.Next() {
		var ref, sub string
		var d dbDossier
		if err := rows.Scan(&ref, &d.status, &sub, &d.police, &d.townHall); err != nil {
			return c, err
		}
		dossiers[ref] = d
		perGrantor[sub]++
	}
	if err := rows.Err(); err != nil {
		return c, err
	}
	for _, n := range perGrantor {
		if n > 1 {
			c.DuplicateDossiers++
		}
	}
	checkDossier := func(d *DossierRun) EntityCheck {
		e := EntityCheck{What: "dossier", ID: d.Reference, Expected: "validated"}
		if d.Reference == "" {
			e.ID, e.Why = "grantor "+d.Grantor.NNE, "never created"
			return e
		}
		out, err := l.Client.Act(ctx, deadline, Request{Method: http.MethodGet, Path: "/v1/procurations/" + d.Reference, Token: d.Token})
		var got struct{ Status string }
		if err != nil || out.Response.Status != http.StatusOK || out.Response.Decode(&got) != nil {
			e.API = fmt.Sprintf("HTTP %d", out.Response.Status)
		} else {
			e.API = got.Status
		}
		row, ok := dossiers[d.Reference]
		if !ok {
			e.DB = "absent"
		} else {
			e.DB = row.status
		}
		for name, st := range d.Steps {
			effect := map[string]bool{stepCreate: ok, stepPolice: row.police == "verified", stepTownHall: row.townHall == "validated"}[name]
			l.judge(&c, "dossier", d.Reference, st, effect)
		}
		return e
	}
	for _, d := range l.Runs {
		c.Dossiers = append(c.Dossiers, checkDossier(d))
	}

	type dbMatch struct {
		status, request, volunteer, ref, reqAnswer, volAnswer string
	}
	matches := map[string]dbMatch{}
	if l.Campaign != "" {
		rows, err := db.Query(ctx, `SELECT id, status, request_id, volunteer_id, coalesce(procuration_reference, ''),
			coalesce(request_answer, ''), coalesce(volunteer_answer, '') FROM matches WHERE campaign_id = $1`, l.Campaign)
		if err != nil {
			return c, err
		}
		for rows.Next() {
			var id string
			var m dbMatch
			if err := rows.Scan(&id, &m.status, &m.request, &m.volunteer, &m.ref, &m.reqAnswer, &m.volAnswer); err != nil {
				return c, err
			}
			matches[id] = m
		}
		if err := rows.Err(); err != nil {
			return c, err
		}
	}
	confirmed := map[string]string{}
	if l.Campaign != "" {
		rows, err := db.Query(ctx, `SELECT id, status FROM signups WHERE campaign_id = $1`, l.Campaign)
		if err != nil {
			return c, err
		}
		for rows.Next() {
			var id, status string
			if err := rows.Scan(&id, &status); err != nil {
				return c, err
			}
			confirmed[id] = status
		}
		if err := rows.Err(); err != nil {
			return c, err
		}
	}
	mine := map[string]bool{}
	for _, p := range l.Pairs {
		e := EntityCheck{What: "match", ID: p.MatchID, Expected: "completed"}
		m, ok := matches[p.MatchID]
		switch {
		case p.MatchID == "":
			e.ID, e.Why = "requester "+p.Requester.NNE, "never offered"
		case !ok:
			e.DB = "absent"
		default:
			mine[p.MatchID] = true
			e.DB = m.status
			if p.Dossier != nil && p.Dossier.Reference != "" && m.ref != p.Dossier.Reference {
				e.Why = fmt.Sprintf("linked to %q, the requester's dossier is %s", m.ref, p.Dossier.Reference)
			}
		}
		if p.MatchID != "" && p.Requester.SignupID != "" {
			token, err := l.Issuer.MintLink(auth.RoleRequester, p.Requester.SignupID, auth.PurposeMatch, p.MatchID, time.Now().Add(time.Hour))
			if err != nil {
				return c, err
			}
			out, err := l.Client.Act(ctx, deadline, Request{Method: http.MethodGet, Path: "/v1/matches/" + p.MatchID, Token: token})
			var got struct{ Status string }
			if err != nil || out.Response.Status != http.StatusOK || out.Response.Decode(&got) != nil {
				e.API = fmt.Sprintf("HTTP %d", out.Response.Status)
			} else {
				e.API = got.Status
			}
		}
		for name, st := range p.Steps {
			var effect bool
			switch {
			case strings.HasPrefix(name, stepSignup):
				who := p.Volunteer
				if strings.HasSuffix(name, "requests") {
					who = p.Requester
				}
				effect = who.SignupID != "" && confirmed[who.SignupID] != ""
			case strings.HasPrefix(name, stepConfirm):
				for _, who := range []*Person{p.Requester, p.Volunteer} {
					if strings.HasSuffix(name, who.Email) {
						effect = confirmed[who.SignupID] == "pool"
					}
				}
			case strings.HasPrefix(name, stepAnswer):
				// A requester's answer is on their match; a volunteer's on theirs,
				// which may be another pair's.
				for id, m := range matches {
					if (strings.HasSuffix(name, p.Requester.Email) && m.request == p.Requester.SignupID && id == p.MatchID && m.reqAnswer == "accepted") ||
						(strings.HasSuffix(name, p.Volunteer.Email) && m.volunteer == p.Volunteer.SignupID && m.volAnswer == "accepted") {
						effect = true
					}
				}
			case name == stepLink:
				effect = ok && p.Dossier != nil && m.ref == p.Dossier.Reference
			}
			l.judge(&c, "match", p.MatchID, st, effect)
		}
		c.Matches = append(c.Matches, e)
		if p.Dossier != nil {
			c.MatchDossiers = append(c.MatchDossiers, checkDossier(p.Dossier))
		} else {
			c.MatchDossiers = append(c.MatchDossiers, EntityCheck{What: "dossier", ID: "requester " + p.Requester.NNE, Expected: "validated",
				Why: "never filed"})
		}
	}
	c.OtherMatches = map[string]int{}
	for id, m := range matches {
		if !mine[id] {
			c.OtherMatches[m.status]++
		}
	}

	marks := map[string]*time.Time{}
	rows, err = db.Query(ctx, `SELECT message_id, sent_at FROM sent_emails`)
	if err != nil {
		return c, err
	}
	for rows.Next() {
		var id string
		var at *time.Time
		if err := rows.Scan(&id, &at); err != nil {
			return c, err
		}
		marks[id] = at
	}
	if err := rows.Err(); err != nil {
		return c, err
	}
	c.Emails = CountEmails(l.Expected(), l.SMTP.Received(), marks, faults)
	sort.Slice(c.Lost, func(i, j int) bool { return c.Lost[i].ID < c.Lost[j].ID })
	return c, nil
}

// judge files an action: lost when it was taken and its effect is absent,
// failed when it never succeeded.
func (l *Load) judge(c *Checks, what, id string, st *StepRun, effect bool) {
	switch {
	case st.Done() && !effect:
		c.Lost = append(c.Lost, Lost{What: what, ID: id, Step: st.Name, Why: "acknowledged, not in the database"})
	case !st.Done():
		c.Failed = append(c.Failed, Lost{What: what, ID: id, Step: st.Name, Why: st.Err})
	}
}

// Package matchrun runs the matching engine on a campaign's pool and turns
// its proposals into matches, each with its workflow. The API's on-demand
// runs and the per-campaign schedule both come here.
package matchrun

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"

	"github.com/procurations/procuration/internal/calendar"
	"github.com/procurations/procuration/internal/match"
	"github.com/procurations/procuration/internal/matching"
	"github.com/procurations/procuration/internal/store"
)

// Runner has what a run needs.
type Runner struct {
	Store     *store.Store
	Temporal  client.Client
	TaskQueue string
	// DossierCheckEvery overrides the default when set.
	DossierCheckEvery time.Duration
}

// Proposal is one match of a run.
type Proposal struct {
	ID          string
	RequestID   string
	VolunteerID string
	Tier        int
	Rounds      []int
}

// Result is what a run proposed and who is left.
type Result struct {
	Proposals []Proposal
	Unmatched int
}

// Run matches the campaign's pool. A dry run touches nothing.
func (r *Runner) Run(ctx context.Context, campaignID string, dryRun bool, now time.Time) (Result, error) {
	campaign, err := r.Store.Campaign(ctx, campaignID)
	if err != nil {
		return Result{}, err
	}
	election, err := r.Store.Election(ctx, campaign.ElectionID)
	if err != nil {
		return Result{}, err
	}
	members, err := r.Store.MatchingPool(ctx, campaignID)
	if err != nil {
		return Result{}, err
	}
	declined, err := r.Store.DeclinedPairs(ctx, campaignID)
	if err != nil {
		return Result{}, err
	}
	pool := matching.Pool{Declined: map[matching.Pair]bool{}}
	for _, d := range declined {
		pool.Declined[matching.Pair{Request: d[0], Volunteer: d[1]}] = true
	}
	for rank, m := range members {
		p := matching.Person{ID: m.ID, Rank: rank, Place: matching.Place{Station: m.PollingStation, Commune: m.CommuneCode,
			EPCI: m.EPCI, Arrondissement: m.Arrondissement, Departement: m.Departement}}
		for _, round := range m.Rounds {
			p.Rounds = append(p.Rounds, int(round))
		}
		if len(p.Rounds) == 0 {
			continue
		}
		if m.Side == store.SideRequest {
			pool.Requests = append(pool.Requests, p)
		} else {
			pool.Volunteers = append(pool.Volunteers, p)
		}
	}
	solved := matching.Solve(pool)
	res := Result{Unmatched: len(solved.Unmatched)}
	if dryRun {
		for _, m := range solved.Matches {
			res.Proposals = append(res.Proposals, Proposal{ID: "dry-" + m.Request + "-" + m.Volunteer, RequestID: m.Request,
				VolunteerID: m.Volunteer, Tier: m.Tier, Rounds: m.Rounds})
		}
		return res, nil
	}
	firstRound, electionEnd := Bounds(election)
	settings := match.DefaultSettings()
	settings.RequireApproval, settings.AnswerWindow = campaign.BackOfficeApproval, campaign.AnswerWindow
	settings.LinkReminders = nil
	for _, d := range campaign.LinkReminderDays {
		settings.LinkReminders = append(settings.LinkReminders, time.Duration(d)*24*time.Hour)
	}
	if r.DossierCheckEvery > 0 {
		settings.DossierCheckEvery = r.DossierCheckEvery
	}
	// Each proposal is its own transaction and workflow start; several at a
	// time, since a national run makes tens of thousands.
	var (
		mu       sync.Mutex
		firstErr error
		wg       sync.WaitGroup
		work     = make(chan matching.Match)
	)
	for range parallelStarts {
		wg.Go(func() {
			for m := range work {
				p, err := r.create(ctx, campaignID, m, now, match.Start{Campaign: campaignID, Rounds: m.Rounds, FirstRound: firstRound,
					ElectionEnd: electionEnd, Settings: settings})
				mu.Lock()
				if err != nil && firstErr == nil {
					firstErr = err
				}
				if err == nil && p != nil {
					res.Proposals = append(res.Proposals, *p)
				}
				mu.Unlock()
			}
		})
	}
	for _, m := range solved.Matches {
		work <- m
	}
	close(work)
	wg.Wait()
	slices.SortFunc(res.Proposals, func(a, b Proposal) int { return strings.Compare(a.RequestID, b.RequestID) })
	return res, firstErr
}

const parallelStarts = 16

// create stores one proposal and starts its workflow; nil when a concurrent
// run took one of its people first.
func (r *Runner) create(ctx context.Context, campaignID string, m matching.Match, now time.Time, start match.Start) (*Proposal, error) {
	p := Proposal{ID: newMatchID(), RequestID: m.Request, VolunteerID: m.Volunteer, Tier: m.Tier, Rounds: m.Rounds}
	rounds := make([]int16, len(m.Rounds))
	for i, round := range m.Rounds {
		rounds[i] = int16(round)
	}
	err := r.Store.CreateMatch(ctx, store.NewMatch{ID: p.ID, CampaignID: campaignID, RequestID: p.RequestID, VolunteerID: p.VolunteerID,
		Rounds: rounds, Tier: int16(p.Tier)}, now)
	if errors.Is(err, store.ErrExists) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	start.MatchID = p.ID
	if err := r.startWorkflow(ctx, start, p); err != nil {
		// No match without its workflow: free its people for the next run.
		_ = r.Store.RecordMatchStep(context.WithoutCancel(ctx), match.Step{MatchID: p.ID, Seq: 2, Status: match.Cancelled, At: now,
			Actor: match.System, Action: "start_failed", EndReason: "incident technique"})
		return nil, err
	}
	return &p, nil
}

func (r *Runner) startWorkflow(ctx context.Context, start match.Start, p Proposal) error {
	_, err := r.Temporal.ExecuteWorkflow(ctx, client.StartWorkflowOptions{
		ID: match.WorkflowID(p.ID), TaskQueue: r.TaskQueue,
		WorkflowIDConflictPolicy: enums.WORKFLOW_ID_CONFLICT_POLICY_USE_EXISTING,
		WorkflowIDReusePolicy:    enums.WORKFLOW_ID_REUSE_POLICY_REJECT_DUPLICATE,
		StaticSummary:            fmt.Sprintf("Match %s, campaign %s, tier %d", p.ID, start.Campaign, p.Tier),
		StaticDetails:            fmt.Sprintf("Requester %s, volunteer %s, rounds %v.", p.RequestID, p.VolunteerID, p.Rounds),
	}, match.WorkflowName, start)
	var started *serviceerror.WorkflowExecutionAlreadyStarted
	if errors.As(err, &started) {
		return nil
	}
	return err
}

// Bounds are the start of the first round's day and the end of the last's.
func Bounds(e store.Election) (time.Time, time.Time) {
	var first, last time.Time
	for _, r := range e.Rounds {
		d, err := time.Parse(time.DateOnly, r.Date)
		if err != nil {
			continue
		}
		if first.IsZero() || d.Before(first) {
			first = d
		}
		if d.After(last) {
			last = d
		}
	}
	return calendar.StartOfDay(first).UTC(), calendar.EndOfDay(last).UTC()
}

func newMatchID() string {
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	return "m-" + hex.EncodeToString(b)
}

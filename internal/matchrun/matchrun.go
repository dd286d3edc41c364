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
	"go.temporal.io/sdk/temporal"

	"github.com/procurations/procuration/internal/calendar"
	"github.com/procurations/procuration/internal/campaign"
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
	// RematchDelay is how long the offers workflow waits before matching
	// again those sent back to the head of the line.
	RematchDelay time.Duration
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

// Run matches the campaign's pool. A dry run touches nothing; a real one
// stores every proposal at once, their workflows left for StartOffers, so
// that the back office sees a whole run within seconds whatever its size.
// Runs of one campaign take turns: each reads the pool the previous left.
func (r *Runner) Run(ctx context.Context, campaignID string, dryRun bool, now time.Time) (Result, error) {
	if _, err := r.Store.Campaign(ctx, campaignID); err != nil {
		return Result{}, err
	}
	if dryRun {
		return r.propose(ctx, campaignID, true, now)
	}
	var res Result
	err := r.Store.WithCampaignLock(ctx, campaignID, func() (err error) {
		res, err = r.propose(ctx, campaignID, false, now)
		return err
	})
	if err != nil || len(res.Proposals) == 0 {
		return res, err
	}
	// Should this fail, the proposals wait for the campaign's next run or
	// rematch, which starts every proposal left.
	return res, r.RequestOffers(ctx, campaignID, campaign.More{Proposed: len(res.Proposals)})
}

// RequestOffers tells the campaign's offers workflow of new work, and
// starts it when none runs.
func (r *Runner) RequestOffers(ctx context.Context, campaignID string, more campaign.More) error {
	more.RematchDelay = r.RematchDelay
	_, err := r.Temporal.SignalWithStartWorkflow(ctx, campaign.OffersWorkflowID(campaignID), campaign.SignalMore, more,
		client.StartWorkflowOptions{TaskQueue: campaign.RunsTaskQueue(r.TaskQueue), StaticSummary: "Offres de la campagne " + campaignID,
			TypedSearchAttributes: temporal.NewSearchAttributes(campaign.Attribute.ValueSet(campaignID))},
		campaign.OffersWorkflowName, campaign.Offers{Campaign: campaignID, RematchDelay: r.RematchDelay})
	return err
}

func (r *Runner) propose(ctx context.Context, campaignID string, dryRun bool, now time.Time) (Result, error) {
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
	proposals := make([]store.NewMatch, 0, len(solved.Matches))
	for _, m := range solved.Matches {
		rounds := make([]int16, len(m.Rounds))
		for i, round := range m.Rounds {
			rounds[i] = int16(round)
		}
		proposals = append(proposals, store.NewMatch{ID: newMatchID(), CampaignID: campaignID, RequestID: m.Request, VolunteerID: m.Volunteer,
			Rounds: rounds, Tier: int16(m.Tier)})
	}
	stored, err := r.Store.CreateProposals(ctx, proposals, now)
	for _, m := range stored {
		res.Proposals = append(res.Proposals, Proposal{ID: m.ID, RequestID: m.RequestID, VolunteerID: m.VolunteerID, Tier: int(m.Tier),
			Rounds: ints(m.Rounds)})
	}
	slices.SortFunc(res.Proposals, func(a, b Proposal) int { return strings.Compare(a.RequestID, b.RequestID) })
	return res, err
}

func ints(rounds []int16) []int {
	out := make([]int, len(rounds))
	for i, r := range rounds {
		out[i] = int(r)
	}
	return out
}

// StartOffers starts the workflows of up to limit of the campaign's
// proposals, parallel at a time. Starting one twice is harmless (its id is
// the match's), so a retry after a crash only finishes the work.
func (r *Runner) StartOffers(ctx context.Context, campaignID string, limit, parallel int, heartbeat func(done int)) (campaign.OffersBatch, error) {
	todo, err := r.Store.ClaimOffersToStart(ctx, campaignID, limit, offerLease)
	if err != nil || len(todo) == 0 {
		left, cerr := r.Store.OffersToStart(ctx, campaignID)
		return campaign.OffersBatch{Left: left}, errors.Join(err, cerr)
	}
	start, err := r.startTemplate(ctx, campaignID)
	if err != nil {
		return campaign.OffersBatch{}, err
	}
	var (
		mu      sync.Mutex
		started []string
		errs    []error
		wg      sync.WaitGroup
		work    = make(chan store.OfferToStart)
	)
	for range max(parallel, 1) {
		wg.Go(func() {
			for o := range work {
				in := start
				in.MatchID, in.Rounds = o.ID, ints(o.Rounds)
				err := r.startWorkflow(ctx, in, Proposal{ID: o.ID, RequestID: o.RequestID, VolunteerID: o.VolunteerID, Tier: int(o.Tier),
					Rounds: in.Rounds})
				mu.Lock()
				if err != nil {
					errs = append(errs, err)
				} else {
					started = append(started, o.ID)
					if heartbeat != nil && len(started)%100 == 0 {
						heartbeat(len(started))
					}
				}
				mu.Unlock()
			}
		})
	}
	for _, o := range todo {
		work <- o
	}
	close(work)
	wg.Wait()
	// Those started are marked even when others failed: the next call
	// takes up only the rest.
	if err := r.Store.MarkOffersStarted(context.WithoutCancel(ctx), started); err != nil {
		return campaign.OffersBatch{Started: len(started)}, err
	}
	left, err := r.Store.OffersToStart(ctx, campaignID)
	if len(errs) > 0 {
		err = errors.Join(append(errs[:1], err)...)
	}
	return campaign.OffersBatch{Started: len(started), Left: left}, err
}

// StartOffer starts one proposal's workflow now, ahead of the background:
// the back office may act on a proposal the moment it is visible.
func (r *Runner) StartOffer(ctx context.Context, m store.Match) error {
	start, err := r.startTemplate(ctx, m.CampaignID)
	if err != nil {
		return err
	}
	start.MatchID, start.Rounds = m.ID, ints(m.Rounds)
	if err := r.startWorkflow(ctx, start, Proposal{ID: m.ID, RequestID: m.RequestID, VolunteerID: m.VolunteerID, Tier: int(m.Tier),
		Rounds: start.Rounds}); err != nil {
		return err
	}
	return r.Store.MarkOffersStarted(ctx, []string{m.ID})
}

// offerLease is how long a run keeps the proposals it is starting from
// the others; a batch takes seconds.
const offerLease = 5 * time.Minute

// startTemplate is the campaign's settings as every match of a run starts
// with.
func (r *Runner) startTemplate(ctx context.Context, campaignID string) (match.Start, error) {
	campaign, err := r.Store.Campaign(ctx, campaignID)
	if err != nil {
		return match.Start{}, err
	}
	election, err := r.Store.Election(ctx, campaign.ElectionID)
	if err != nil {
		return match.Start{}, err
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
	return match.Start{Campaign: campaignID, FirstRound: firstRound, ElectionEnd: electionEnd, Settings: settings}, nil
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

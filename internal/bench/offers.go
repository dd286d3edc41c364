package bench

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/procurations/procuration/internal/auth"
	"github.com/procurations/procuration/internal/campaign"
	"github.com/procurations/procuration/internal/match"
)

// Offers measures a real matching run on a running stack: how long until
// its proposals are visible (rows in PostgreSQL), then the rate at which
// the worker starts their workflows in the background, beside a bare loop
// of workflow starts on the same server, at the same parallelism, in the
// same run.
type Offers struct {
	APIURL   string
	Issuer   *auth.Issuer
	DB       *pgxpool.Pool
	Temporal client.Client
	// Pairs: as many requests as volunteers, all matchable.
	Pairs    int
	Parallel int
	// Approve then approves every proposal in one bulk job, as the back
	// office does, and measures the time until every offer email is sent.
	Approve bool
	Out     io.Writer
}

func (b *Offers) Run(ctx context.Context) error {
	l := &Lifecycle{APIURL: b.APIURL, Issuer: b.Issuer}
	support, err := b.Issuer.Mint(auth.RoleSupport, "bench-support", nil, time.Hour)
	if err != nil {
		return err
	}
	id := fmt.Sprintf("bench-offers-%d", time.Now().Unix())
	raw, _ := json.Marshal(map[string]any{"id": id, "name": "Banc d'essai " + id, "election_id": "presidentielle-2027",
		"sender": "Banc <banc@planprocu.example>", "matching_every_minutes": 0, "back_office_approval": true})
	if status, resp, err := l.call(ctx, "POST", "/v1/campaigns", support, "application/json", raw); err != nil || status != 201 {
		return fmt.Errorf("campaign: %d %s %v", status, resp, err)
	}
	// The pool goes straight into the table: sign-ups are measured elsewhere.
	if _, err := b.DB.Exec(ctx, `INSERT INTO signups (id, campaign_id, side, person_key, given_names, family_name, birth_date, email,
		commune_code, rounds, consent_at, status, confirmed_at)
		SELECT $1 || '-' || side || '-' || i, $1, side, $1 || side || i, 'Banc', 'BANC', '1980-01-01', 'banc-' || i || '@example.fr',
			'75056', '{1,2}', now(), 'pool', now()
		FROM generate_series(1, $2) i, unnest(ARRAY['request', 'volunteer']) side`, id, b.Pairs); err != nil {
		return err
	}
	fmt.Fprintf(b.Out, "offers: a run of %d pairs on campaign %s (back-office approval), starts %d at a time\n", b.Pairs, id, b.Parallel)

	// The server slows as its store fills, so the baseline brackets the
	// run: half of its starts before, half after, on the same server.
	bareBefore, err := b.bare(ctx, b.Pairs/2)
	if err != nil {
		return err
	}
	start := time.Now()
	status, resp, err := l.call(ctx, "POST", "/v1/campaigns/"+id+"/matching-runs", support, "application/json", []byte(`{"dry_run": false}`))
	if err != nil || status != 200 {
		return fmt.Errorf("run: %d %.300s %v", status, resp, err)
	}
	visible := time.Since(start)
	var run struct{ Proposed int }
	_ = json.Unmarshal(resp, &run)
	var rows int
	if err := b.DB.QueryRow(ctx, `SELECT count(*) FROM matches WHERE campaign_id = $1`, id).Scan(&rows); err != nil {
		return err
	}
	startsFrom := time.Now()
	for {
		var left int
		if err := b.DB.QueryRow(ctx, `SELECT count(*) FROM matches WHERE campaign_id = $1 AND NOT offer_started`, id).Scan(&left); err != nil {
			return err
		}
		if left == 0 {
			break
		}
		if time.Since(startsFrom) > 30*time.Minute {
			return fmt.Errorf("%d offers still not started after 30 minutes", left)
		}
		time.Sleep(100 * time.Millisecond)
	}
	startsTook := time.Since(startsFrom)
	ours := float64(rows) / startsTook.Seconds()
	bareAfter, err := b.bare(ctx, b.Pairs-b.Pairs/2)
	if err != nil {
		return err
	}
	bareRate := float64(b.Pairs) / (bareBefore + bareAfter).Seconds()
	fmt.Fprintf(b.Out, "\nproposals visible: %d rows in %s (the run's answer: %d proposed)\n", rows, visible.Round(time.Millisecond), run.Proposed)
	fmt.Fprintf(b.Out, "%-40s %10s\n", "", "starts/s")
	fmt.Fprintf(b.Out, "%-40s %10.0f  (%.0f before the run, %.0f after)\n", "bare start loop (one workflow task each)", bareRate,
		float64(b.Pairs/2)/bareBefore.Seconds(), float64(b.Pairs-b.Pairs/2)/bareAfter.Seconds())
	fmt.Fprintf(b.Out, "%-40s %10.0f  (%s for all)\n", "match workflows of the run", ours, startsTook.Round(time.Millisecond))
	fmt.Fprintf(b.Out, "ratio (ours / bare): %.2f   (target: 0.90 or more)\n", ours/bareRate)
	var rejected int
	if err := b.DB.QueryRow(ctx, `SELECT count(*) FROM matches WHERE campaign_id = $1 AND status = 'cancelled'`, id).Scan(&rejected); err != nil {
		return err
	}
	fmt.Fprintf(b.Out, "matches cancelled for want of their workflow: %d\n", rejected)
	p, err := b.progress(ctx, id)
	if err == nil {
		fmt.Fprintf(b.Out, "offers workflow %s: %d proposed, %d started, %d left\n", campaign.OffersWorkflowID(id), p.Proposed, p.Started, p.Left)
	}
	if b.Approve {
		if err := b.approveAll(ctx, l, support, id, rows, bareRate); err != nil {
			b.cleanUp(ctx, id)
			return err
		}
	}
	b.cleanUp(ctx, id)
	return nil
}

// bareStart is the baseline's workflow: its first task ends it. The server
// does for it what it does for a proposal's workflow, which waits for the
// back office after its first task: a start and a workflow task.
func bareStart(workflow.Context) error { return nil }

// bare starts n trivial workflows, run by a worker of this process, at the
// same parallelism, and says how long the server took.
func (b *Offers) bare(ctx context.Context, n int) (time.Duration, error) {
	queue := fmt.Sprintf("bench-bare-starts-%d", rand.IntN(1<<30))
	w := worker.New(b.Temporal, queue, worker.Options{})
	w.RegisterWorkflowWithOptions(bareStart, workflow.RegisterOptions{Name: "BareStart"})
	if err := w.Start(); err != nil {
		return 0, err
	}
	defer w.Stop()
	var next atomic.Int64
	var wg sync.WaitGroup
	var firstErr error
	var mu sync.Mutex
	ids := make([]string, n)
	start := time.Now()
	for range b.Parallel {
		wg.Go(func() {
			for {
				i := int(next.Add(1)) - 1
				if i >= n {
					return
				}
				ids[i] = fmt.Sprintf("%s-%d", queue, i)
				var err error
				// A start the server took too long to answer is tried
				// again, as the worker's are; the id makes it one.
				for range 3 {
					_, err = b.Temporal.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: ids[i], TaskQueue: queue,
						WorkflowExecutionTimeout: 2 * time.Minute, WorkflowIDConflictPolicy: enums.WORKFLOW_ID_CONFLICT_POLICY_USE_EXISTING},
						"BareStart")
					if err == nil || !errors.Is(err, context.DeadlineExceeded) {
						break
					}
				}
				if err != nil {
					mu.Lock()
					firstErr = err
					mu.Unlock()
					return
				}
			}
		})
	}
	wg.Wait()
	return time.Since(start), firstErr
}

func (b *Offers) progress(ctx context.Context, id string) (campaign.OffersProgress, error) {
	var p campaign.OffersProgress
	v, err := b.Temporal.QueryWorkflow(ctx, campaign.OffersWorkflowID(id), "", campaign.QueryOffers)
	if err == nil {
		err = v.Get(&p)
	}
	return p, err
}

// cleanUp ends the run's match workflows, which would wait for the back
// office until the election.
func (b *Offers) cleanUp(ctx context.Context, id string) {
	rows, err := b.DB.Query(ctx, `SELECT id FROM matches WHERE campaign_id = $1`, id)
	if err != nil {
		return
	}
	var ids []string
	for rows.Next() {
		var m string
		if rows.Scan(&m) == nil {
			ids = append(ids, m)
		}
	}
	rows.Close()
	fmt.Fprintf(b.Out, "terminating the run's %d match workflows...\n", len(ids))
	var wg sync.WaitGroup
	work := make(chan string)
	for range 16 {
		wg.Go(func() {
			for m := range work {
				_ = b.Temporal.TerminateWorkflow(ctx, match.WorkflowID(m), "", "benchmark done")
			}
		})
	}
	for _, m := range ids {
		work <- m
	}
	close(work)
	wg.Wait()
}

// approveAll approves every proposal of the run in one bulk job through the
// API and waits until both offer emails of every match are sent.
func (b *Offers) approveAll(ctx context.Context, l *Lifecycle, token, id string, matches int, bareRate float64) error {
	start := time.Now()
	status, resp, err := l.call(ctx, "POST", "/v1/campaigns/"+id+"/matches/approvals", token, "application/json",
		[]byte(`{"all": true, "outcome": "approved"}`))
	if err != nil || status != 202 {
		return fmt.Errorf("bulk approval: %d %.300s %v", status, resp, err)
	}
	answered := time.Since(start)
	var job struct{ Job string }
	_ = json.Unmarshal(resp, &job)
	var approvedAt time.Duration
	for {
		if approvedAt == 0 {
			status, resp, err := l.call(ctx, "GET", "/v1/campaigns/"+id+"/matches/approvals/"+job.Job, token, "", nil)
			var p struct {
				Finished          bool
				Succeeded, Failed int
			}
			if err == nil && status == 200 && json.Unmarshal(resp, &p) == nil && p.Finished {
				approvedAt = time.Since(start)
				fmt.Fprintf(b.Out, "bulk job %s: %d approved, %d failed, in %s\n", job.Job, p.Succeeded, p.Failed, approvedAt.Round(time.Millisecond))
			}
		}
		var sent int
		if err := b.DB.QueryRow(ctx, `SELECT count(*) FROM matches m JOIN sent_emails e
			ON e.key IN ('match/' || m.id || '/match_offer/requester', 'match/' || m.id || '/match_offer/volunteer')
			WHERE m.campaign_id = $1 AND e.sent_at IS NOT NULL`, id).Scan(&sent); err != nil {
			return err
		}
		if sent == 2*matches && approvedAt > 0 {
			break
		}
		if time.Since(start) > 30*time.Minute {
			return fmt.Errorf("%d of %d offer emails sent after 30 minutes", sent, 2*matches)
		}
		time.Sleep(200 * time.Millisecond)
	}
	took := time.Since(start)
	rate := float64(matches) / took.Seconds()
	fmt.Fprintf(b.Out, "\nbulk approval of %d proposals: answered in %s (202 and a job), all %d offer emails sent after %s\n",
		matches, answered.Round(time.Millisecond), 2*matches, took.Round(time.Millisecond))
	fmt.Fprintf(b.Out, "%-40s %10.0f  per second\n", "approved and both offers sent", rate)
	fmt.Fprintf(b.Out, "ratio (approvals / bare starts): %.2f\n", rate/bareRate)
	return nil
}

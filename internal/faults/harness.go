// Package faults is the project's own fault harness: it brings up a whole
// stack on free ports, drives dossiers and matches through every step,
// and meanwhile kills the worker, the API and the Temporal server with
// SIGKILL and stops PostgreSQL and the SMTP server, restarting each. At the
// end it checks every final state through the API and in the database,
// counts the emails the SMTP server took per (kind, recipient, dossier),
// the 5xx answers and the lost updates, and prints a table.
package faults

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"
)

// Harness is one run.
type Harness struct {
	Stack    StackOptions
	Dossiers int
	Matches  int
	// Spread is how long the load's steps are spread over.
	Spread time.Duration
	// Cycles is how many whole cycles of faults run at least.
	Cycles int
	// Parallel bounds the requests under way at once.
	Parallel int
	// Plan is one cycle of faults, CycleLength long (DefaultPlan when nil).
	Plan  []PlannedFault
	Cycle time.Duration
	Out   io.Writer
}

// Run runs it, prints the table, and fails when anything was wrong.
func (h *Harness) Run(ctx context.Context) error {
	started := time.Now()
	if h.Plan == nil {
		h.Plan, h.Cycle = DefaultPlan(), CycleLength
	}
	fmt.Fprintf(h.Out, "starting the stack (Temporal dev server, PostgreSQL, SMTP, api and worker processes)...\n")
	stack, err := StartStack(ctx, h.Stack)
	if err != nil {
		return err
	}
	defer stack.Close()
	fmt.Fprintf(h.Out, "stack up in %s: API %s, data and logs in %s\n", time.Since(started).Round(time.Second), stack.APIURL, stack.Dir)

	client := NewClient(stack.APIURL, h.Parallel)
	load := &Load{Client: client, Issuer: stack.Issuer, SMTP: stack.SMTP, DB: stack.DB, Dossiers: h.Dossiers, Matches: h.Matches,
		Spread: h.Spread, Progress: h.Out}
	if err := load.Prepare(ctx); err != nil {
		return err
	}
	// Actions give up after the faults and a generous recovery.
	load.Deadline = time.Now().Add(max(h.Spread, time.Duration(h.Cycles)*h.Cycle) + 10*time.Minute)

	injector := &Injector{Plan: h.Plan, Cycle: h.Cycle, Breaker: stack, Log: h.Out}
	loadDone := make(chan struct{})
	injected := make(chan struct{})
	go func() {
		defer close(injected)
		injector.Run(ctx, h.Cycles, func() bool {
			select {
			case <-loadDone:
				return false
			default:
				return true
			}
		})
	}()
	loadStart := time.Now()
	stop := make(chan struct{})
	go h.progress(load, client, loadStart, stop)
	load.Run(ctx)
	close(loadDone)
	fmt.Fprintf(h.Out, "%s  load done in %s; waiting for the current cycle of faults to end\n", time.Now().Format(time.TimeOnly),
		time.Since(loadStart).Round(time.Second))
	<-injected
	close(stop)
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := stack.WaitReady(ctx, 2*time.Minute); err != nil {
		return err
	}
	h.settle(ctx, load, stack)
	checks, err := load.Check(ctx, stack.DB, injector.Faults())
	if err != nil {
		return fmt.Errorf("final checks: %w", err)
	}
	r := Report{Harness: h, Load: load, Stack: stack, Checks: checks, Faults: injector.Faults(), FaultErrors: injector.Errors(),
		HTTP: client.Figures(), Elapsed: time.Since(started)}
	r.Print(h.Out)
	if !r.OK() {
		return errors.New("the run found faults the system did not survive (see the table)")
	}
	return nil
}

// settle waits until every expected email arrived and every match is
// completed, or until nothing has moved for three minutes; then a little
// more, so that a late copy of an email is counted.
func (h *Harness) settle(ctx context.Context, load *Load, stack *Stack) {
	fmt.Fprintf(h.Out, "%s  waiting for the last emails and matches\n", time.Now().Format(time.TimeOnly))
	last, lastChange := -1, time.Now()
	for time.Since(lastChange) < 3*time.Minute {
		missing := len(CountEmails(load.Expected(), stack.SMTP.Received(), nil, nil).Missing)
		var open int
		if load.Campaign != "" {
			_ = stack.DB.QueryRow(ctx, `SELECT count(*) FROM matches WHERE campaign_id = $1 AND status NOT IN
				('completed', 'declined', 'expired', 'rejected', 'cancelled')`, load.Campaign).Scan(&open)
		}
		if missing+open == 0 {
			break
		}
		if missing+open != last {
			last, lastChange = missing+open, time.Now()
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(2 * time.Second):
		}
	}
	time.Sleep(15 * time.Second)
}

// progress prints a line every 30 s.
func (h *Harness) progress(load *Load, client *Client, start time.Time, stop chan struct{}) {
	for {
		select {
		case <-stop:
			return
		case <-time.After(30 * time.Second):
		}
		f := client.Figures()
		unavailable, other := f.ServerErrors()
		n := 0
		for _, v := range other {
			n += v
		}
		fmt.Fprintf(h.Out, "%s  +%s  in flight %d (max %d), requests %d, 503 %d, other 5xx %d, no answer %d, emails %d\n",
			time.Now().Format(time.TimeOnly), time.Since(start).Round(time.Second), load.inFlight.Load(), load.MaxInFlight.Load(),
			f.Requests, unavailable, n, f.Unanswered, len(load.SMTP.Received()))
	}
}

package faults

import (
	"context"
	"fmt"
	"io"
	"sync"
	"time"
)

// PlannedFault is one fault of a cycle: After the cycle's start, for Down.
type PlannedFault struct {
	After time.Duration
	Kind  string
	Down  time.Duration
}

// DefaultPlan is one cycle: each process killed and restarted, the
// database and the mail server stopped (20 s and 45 s) and started again,
// far enough apart for the system to recover in between.
func DefaultPlan() []PlannedFault {
	return []PlannedFault{
		{After: 20 * time.Second, Kind: KillWorker, Down: 3 * time.Second},
		{After: 50 * time.Second, Kind: KillAPI, Down: 2 * time.Second},
		{After: 80 * time.Second, Kind: KillTemporal, Down: 3 * time.Second},
		{After: 115 * time.Second, Kind: StopPostgres, Down: 20 * time.Second},
		{After: 165 * time.Second, Kind: StopSMTP, Down: 45 * time.Second},
	}
}

// CycleLength is how long one cycle of DefaultPlan takes, recovery included.
const CycleLength = 240 * time.Second

// Breaker causes the faults and undoes them.
type Breaker interface {
	Break(kind string) error
	Repair(kind string) error
}

// Injector runs cycles of a plan while the load runs.
type Injector struct {
	Plan    []PlannedFault
	Cycle   time.Duration
	Breaker Breaker
	Log     io.Writer

	mu     sync.Mutex
	faults []Fault
	errs   []error
}

// Run goes through whole cycles, at least min of them, and more while
// busy() holds. A fault under way when it stops is always repaired.
func (in *Injector) Run(ctx context.Context, min int, busy func() bool) {
	start := time.Now()
	for cycle := 0; cycle < min || busy(); cycle++ {
		for _, f := range in.Plan {
			at := start.Add(time.Duration(cycle)*in.Cycle + f.After)
			select {
			case <-ctx.Done():
				return
			case <-time.After(time.Until(at)):
			}
			in.one(f)
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(time.Until(start.Add(time.Duration(cycle+1) * in.Cycle))):
		}
	}
}

func (in *Injector) one(f PlannedFault) {
	from := time.Now()
	if in.Log != nil {
		fmt.Fprintf(in.Log, "%s  fault: %s for %s\n", from.Format(time.TimeOnly), f.Kind, f.Down)
	}
	if err := in.Breaker.Break(f.Kind); err != nil {
		in.fail(fmt.Errorf("%s: %w", f.Kind, err))
		return
	}
	time.Sleep(f.Down)
	// Repair whatever happens: a stack left broken would fail every check.
	var err error
	for attempt := range 5 {
		if err = in.Breaker.Repair(f.Kind); err == nil {
			break
		}
		time.Sleep(time.Duration(attempt+1) * time.Second)
	}
	if err != nil {
		in.fail(fmt.Errorf("repairing %s: %w", f.Kind, err))
	}
	in.mu.Lock()
	in.faults = append(in.faults, Fault{Kind: f.Kind, From: from, To: time.Now()})
	in.mu.Unlock()
}

func (in *Injector) fail(err error) {
	in.mu.Lock()
	in.errs = append(in.errs, err)
	in.mu.Unlock()
	if in.Log != nil {
		fmt.Fprintln(in.Log, "fault injection:", err)
	}
}

// Faults are those caused so far; Errors what went wrong causing them.
func (in *Injector) Faults() []Fault {
	in.mu.Lock()
	defer in.mu.Unlock()
	return append([]Fault(nil), in.faults...)
}

func (in *Injector) Errors() []error {
	in.mu.Lock()
	defer in.mu.Unlock()
	return append([]error(nil), in.errs...)
}

// Break and Repair make the stack a Breaker.
func (s *Stack) Break(kind string) error {
	switch kind {
	case KillWorker:
		return s.Worker.Kill()
	case KillAPI:
		return s.API.Kill()
	case KillTemporal:
		return s.Temporal.Kill()
	case StopPostgres:
		return s.Postgres.Stop()
	case StopSMTP:
		// A relay stopped by its operator: transactions under way end first.
		s.SMTP.Shutdown(5 * time.Second)
		return nil
	}
	return fmt.Errorf("unknown fault %q", kind)
}

func (s *Stack) Repair(kind string) error {
	switch kind {
	case KillWorker:
		return s.Worker.Start()
	case KillAPI:
		return s.API.Start()
	case KillTemporal:
		return s.Temporal.Start()
	case StopPostgres:
		return s.Postgres.Start()
	case StopSMTP:
		return s.SMTP.Start()
	}
	return fmt.Errorf("unknown fault %q", kind)
}

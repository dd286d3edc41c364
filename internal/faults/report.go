package faults

import (
	"fmt"
	"io"
	"sort"
	"strings"
	"text/tabwriter"
	"time"
)

// Report is what a run prints.
type Report struct {
	Harness     *Harness
	Load        *Load
	Stack       *Stack
	Checks      Checks
	Faults      []Fault
	FaultErrors []error
	HTTP        HTTPFigures
	Elapsed     time.Duration
}

func wrong(list []EntityCheck) (right int, bad []EntityCheck) {
	for _, e := range list {
		if e.Right() {
			right++
		} else {
			bad = append(bad, e)
		}
	}
	return right, bad
}

// OK: every dossier and match right, nothing lost or failed, no
// duplicate email outside the window, no missing email, no 5xx but 503.
func (r Report) OK() bool {
	c := r.Checks
	_, d := wrong(c.Dossiers)
	_, md := wrong(c.MatchDossiers)
	_, m := wrong(c.Matches)
	_, other := r.HTTP.ServerErrors()
	return len(d)+len(md)+len(m)+len(c.Lost)+len(c.Failed)+c.DuplicateDossiers == 0 && len(c.Emails.Outside) == 0 &&
		len(c.Emails.Missing) == 0 && len(other) == 0 && len(r.FaultErrors) == 0
}

// Print writes the table.
func (r Report) Print(out io.Writer) {
	c := r.Checks
	h := r.Harness
	fmt.Fprintf(out, "\n== procuration bench faults: %d dossiers, %d matches (each with its own dossier); at most %d in flight at once; %s in all\n",
		h.Dossiers, h.Matches, r.Load.MaxInFlight.Load(), r.Elapsed.Round(time.Second))
	w := tabwriter.NewWriter(out, 0, 0, 2, ' ', tabwriter.AlignRight)
	line := func(cells ...any) {
		for _, x := range cells {
			fmt.Fprintf(w, "%v\t", x)
		}
		fmt.Fprintln(w)
	}

	fmt.Fprintln(out, "\nfaults (times from the first)")
	var first time.Time
	if len(r.Faults) > 0 {
		first = r.Faults[0].From
	}
	line("fault", "at", "down", "")
	for _, f := range r.Faults {
		line(f.Kind, "+"+f.From.Sub(first).Round(time.Second).String(), f.To.Sub(f.From).Round(100*time.Millisecond).String(), "")
	}
	w.Flush()
	for _, err := range r.FaultErrors {
		fmt.Fprintln(out, "  fault injection error:", err)
	}
	for _, p := range []*Process{r.Stack.Worker, r.Stack.API, r.Stack.Temporal} {
		fmt.Fprintf(out, "  %s: started %d times, %d of them by the supervisor after an exit of its own\n", p.Name, p.Starts(), p.Crashes())
	}

	fmt.Fprintln(out, "\nfinal states (API = database = expected)")
	line("what", "expected", "total", "right", "wrong", "")
	var bad []EntityCheck
	for _, x := range []struct {
		name, want string
		list       []EntityCheck
	}{{"dossiers", "validated", c.Dossiers}, {"match dossiers", "validated", c.MatchDossiers}, {"matches", "completed", c.Matches}} {
		right, b := wrong(x.list)
		bad = append(bad, b...)
		line(x.name, x.want, len(x.list), right, len(b), "")
	}
	line("grantors with 2+ dossiers", "0", "", "", c.DuplicateDossiers, "")
	w.Flush()
	for i, e := range bad {
		if i == 20 {
			fmt.Fprintf(out, "  ... and %d more\n", len(bad)-20)
			break
		}
		fmt.Fprintf(out, "  wrong: %s %s: expected %s, API %q, database %q %s\n", e.What, e.ID, e.Expected, e.API, e.DB, e.Why)
	}
	if len(c.OtherMatches) > 0 {
		fmt.Fprintf(out, "  other matches of the campaign (a run's start that failed frees its people for the next run): %v\n", c.OtherMatches)
	}

	fmt.Fprintln(out, "\nactions (acknowledged: got its 2xx; earlier: 409 after an unanswered attempt that had been applied)")
	line("action", "total", "acknowledged", "earlier", "retried", "lost", "never succeeded", "")
	type counts struct{ total, acked, earlier, retried, lost, failed int }
	by := map[string]*counts{}
	add := func(steps map[string]*StepRun) {
		for name, st := range steps {
			k := stepKind(name)
			if by[k] == nil {
				by[k] = &counts{}
			}
			x := by[k]
			x.total++
			if st.Acked {
				x.acked++
			}
			if st.Earlier {
				x.earlier++
			}
			if st.Attempts > 1 {
				x.retried++
			}
		}
	}
	for _, d := range r.Load.Runs {
		add(d.Steps)
	}
	for _, p := range r.Load.Pairs {
		add(p.Steps)
		if p.Dossier != nil {
			add(p.Dossier.Steps)
		}
	}
	for _, l := range c.Lost {
		if x := by[stepKind(l.Step)]; x != nil {
			x.lost++
		}
	}
	for _, l := range c.Failed {
		if x := by[stepKind(l.Step)]; x != nil {
			x.failed++
		}
	}
	var total counts
	for _, name := range Steps {
		if x := by[name]; x != nil {
			line(name, x.total, x.acked, x.earlier, x.retried, x.lost, x.failed, "")
			total.total, total.acked, total.earlier, total.retried = total.total+x.total, total.acked+x.acked, total.earlier+x.earlier, total.retried+x.retried
			total.lost, total.failed = total.lost+x.lost, total.failed+x.failed
		}
	}
	line("all", total.total, total.acked, total.earlier, total.retried, total.lost, total.failed, "")
	w.Flush()
	for i, l := range append(append([]Lost(nil), c.Lost...), c.Failed...) {
		if i == 20 {
			fmt.Fprintln(out, "  ...")
			break
		}
		fmt.Fprintf(out, "  %s %s, %s: %s\n", l.What, l.ID, l.Step, l.Why)
	}

	e := c.Emails
	fmt.Fprintln(out, "\nemails, per (kind, recipient, dossier or match or sign-up), as the SMTP server took them")
	line("expected", "delivered", "missing", "dup. in window", "dup. outside", "unexpected keys", "")
	unexpected := 0
	for _, n := range e.Unexpected {
		unexpected += n
	}
	line(e.Expected, e.Delivered, len(e.Missing), len(e.InWindow), len(e.Outside), unexpected, "")
	w.Flush()
	if unexpected > 0 {
		fmt.Fprintf(out, "  unexpected keys by kind: %v\n", e.Unexpected)
	}
	for i, m := range e.Missing {
		if i == 10 {
			fmt.Fprintln(out, "  ...")
			break
		}
		fmt.Fprintf(out, "  missing: %s to %s for %s\n", m.Kind, m.Recipient, m.Object)
	}
	for _, d := range e.InWindow {
		fmt.Fprintf(out, "  in the window: %s to %s for %s, copies %s apart, during %s\n", d.Key.Kind, d.Key.Recipient, d.Key.Object,
			d.At.Sub(d.Previous).Round(time.Millisecond), strings.Join(d.Faults, ", "))
	}
	for _, d := range e.Outside {
		fmt.Fprintf(out, "  DUPLICATE outside the window: %s to %s for %s, copies %s apart (faults between: %v)\n", d.Key.Kind, d.Key.Recipient,
			d.Key.Object, d.At.Sub(d.Previous).Round(time.Millisecond), d.Faults)
	}

	fmt.Fprintln(out, "\nHTTP")
	unavailable, other := r.HTTP.ServerErrors()
	var statuses []string
	for _, s := range r.HTTP.Statuses() {
		statuses = append(statuses, fmt.Sprintf("%d: %d", s, r.HTTP.ByStatus[s]))
	}
	fmt.Fprintf(out, "  requests %d; no answer (connection refused or cut) %d; answers by status: %s\n", r.HTTP.Requests, r.HTTP.Unanswered,
		strings.Join(statuses, ", "))
	otherTotal := 0
	for _, n := range other {
		otherTotal += n
	}
	fmt.Fprintf(out, "  503: %d; 5xx other than 503: %d %v\n", unavailable, otherTotal, sortedCounts(other))
	fmt.Fprintf(out, "  matching runs answered 200: %d\n", r.Load.MatchingRuns.Load())

	verdict := "OK: every dossier and match right, 0 lost, 0 duplicate emails outside the window, 0 5xx other than 503"
	if !r.OK() {
		verdict = "FAILED: see above"
	}
	fmt.Fprintf(out, "\n%s (%d duplicate(s) in the window)\n", verdict, len(e.InWindow))
}

// stepKind is the action an individual step name belongs to.
func stepKind(name string) string {
	for _, s := range Steps {
		if strings.HasPrefix(name, s) {
			return s
		}
	}
	return name
}

func sortedCounts(m map[int]int) string {
	var keys []int
	for k := range m {
		keys = append(keys, k)
	}
	sort.Ints(keys)
	var parts []string
	for _, k := range keys {
		parts = append(parts, fmt.Sprintf("%d: %d", k, m[k]))
	}
	return "{" + strings.Join(parts, ", ") + "}"
}

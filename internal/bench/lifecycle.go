// Package bench measures the system against a running stack. Figures are
// reported against a baseline measured in the same run, never asserted.
package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/procurations/procuration/internal/dossier"
	"github.com/procurations/procuration/internal/geo"

	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/procurations/procuration/internal/auth"
)

// Lifecycle drives dossiers through create, police verification and town
// hall validation over HTTP, then, in the same run, the same number of
// bare workflows with the same updates and activities straight on the SDK.
type Lifecycle struct {
	APIURL      string
	Temporal    client.Client
	Issuer      *auth.Issuer
	Dossiers    int
	Concurrency int
	Out         io.Writer
}

type phase struct {
	name      string
	elapsed   time.Duration
	done      int
	failed    int
	latencies map[string][]time.Duration
	events    float64
}

func (p *phase) rate() float64 { return float64(p.done) / p.elapsed.Seconds() }

func (l *Lifecycle) Run(ctx context.Context) error {
	if l.Concurrency <= 0 {
		l.Concurrency = 16
	}
	http.DefaultTransport.(*http.Transport).MaxIdleConnsPerHost = l.Concurrency * 2
	voters, err := l.importVoters(ctx)
	if err != nil {
		return err
	}
	fmt.Fprintf(l.Out, "lifecycle: %d dossiers, %d at a time\n", l.Dossiers, l.Concurrency)

	ours, refs, grantors, err := l.runOurs(ctx, voters)
	if err != nil {
		return err
	}
	bare, ids, err := l.runBare(ctx)
	if err != nil {
		return err
	}
	ours.events = l.meanHistoryLength(ctx, refs, dossier.WorkflowID)
	bare.events = l.meanHistoryLength(ctx, ids, func(id string) string { return id })
	l.report(ours, bare)
	fmt.Fprintln(l.Out, "cancelling the benchmark's dossiers...")
	l.cleanUp(ctx, refs, grantors, ids)
	return nil
}

// importVoters adds a fresh pair of voters per dossier, so every run has
// proxies with a free cap slot.
func (l *Lifecycle) importVoters(ctx context.Context) (int, error) {
	base := 300000000 + rand.IntN(500000000)
	var csv strings.Builder
	csv.WriteString("nne,family_name,given_names,sex,birth_date,commune_code,polling_station\n")
	for i := range 2 * l.Dossiers {
		fmt.Fprintf(&csv, "%d,BENCH,%s,F,1980-01-01,75056,75056_0001\n", base+i, benchGivenName(i))
	}
	support, err := l.Issuer.Mint(auth.RoleSupport, "bench", nil, time.Hour)
	if err != nil {
		return 0, err
	}
	status, body, err := l.call(ctx, "POST", "/v1/register/imports", support, "text/csv", []byte(csv.String()))
	if err != nil {
		return 0, err
	}
	var res struct {
		Imported int `json:"imported"`
	}
	if status != 200 || json.Unmarshal(body, &res) != nil || res.Imported != 2*l.Dossiers {
		return 0, fmt.Errorf("register import: %d %s", status, body)
	}
	return base, nil
}

// benchGivenName is the i-th benchmark voter's given name: letters only,
// as the register accepts them ("Voter Bc").
func benchGivenName(i int) string { return "Voter " + geo.LetterName(i) }

func (l *Lifecycle) runOurs(ctx context.Context, base int) (*phase, []string, []string, error) {
	p := &phase{name: "procuration over HTTP", latencies: map[string][]time.Duration{}}
	refs, grantors := make([]string, l.Dossiers), make([]string, l.Dossiers)
	var mu sync.Mutex
	err := l.parallel(p, func(i int) error {
		grantorNNE, proxyNNE := base+2*i, base+2*i+1
		grantor, err := l.Issuer.Mint(auth.RoleGrantor, fmt.Sprintf("bench-%d", grantorNNE), map[string]any{
			"given_name": benchGivenName(2 * i), "family_name": "BENCH", "birthdate": "1980-01-01",
			"email": fmt.Sprintf("bench-%d@example.fr", grantorNNE)}, time.Hour)
		if err != nil {
			return err
		}
		police, townHall, err := l.agents(i)
		if err != nil {
			return err
		}
		var created struct{ Reference string }
		if err := l.step(ctx, p, "create", "POST", "/v1/procurations", grantor, map[string]any{
			"grantor":  map[string]any{"nne": fmt.Sprint(grantorNNE), "commune_code": "75056"},
			"proxy":    map[string]any{"nne": fmt.Sprint(proxyNNE), "birth_date": "1980-01-01"},
			"validity": map[string]any{"from": time.Now().Format(time.DateOnly), "until": time.Now().AddDate(0, 1, 0).Format(time.DateOnly)},
		}, 201, &created); err != nil {
			return err
		}
		mu.Lock()
		refs[i], grantors[i] = created.Reference, grantor
		mu.Unlock()
		if err := l.step(ctx, p, "police-verification", "POST", "/v1/procurations/"+created.Reference+"/police-verification", police,
			map[string]any{"outcome": "verified", "id_document": map[string]any{"kind": "cni", "number": "BENCH"}}, 200, nil); err != nil {
			return err
		}
		return l.step(ctx, p, "town-hall-decision", "POST", "/v1/procurations/"+created.Reference+"/town-hall-decision", townHall,
			map[string]any{"outcome": "validated"}, 200, nil)
	})
	return p, refs, grantors, err
}

// dossiersPerAgent keeps each benchmark officer and town hall agent under
// the API's hourly bound on an agent's dossier reads, as a police force
// shares its dossiers among many officers.
const dossiersPerAgent = 50

// agents mints the police officer's and the town hall agent's tokens for
// the i-th dossier.
func (l *Lifecycle) agents(i int) (police, townHall string, err error) {
	n := i / dossiersPerAgent
	police, err = l.Issuer.Mint(auth.RolePolice, fmt.Sprintf("bench-opj-%d", n), map[string]any{"given_name": "Bench", "family_name": "OFFICER",
		"rank": "brigadier", "unit": "Bench"}, time.Hour)
	if err != nil {
		return "", "", err
	}
	townHall, err = l.Issuer.Mint(auth.RoleTownHall, fmt.Sprintf("bench-mairie-%d", n), map[string]any{"communes": []string{"75056"}}, time.Hour)
	return police, townHall, err
}

func (l *Lifecycle) step(ctx context.Context, p *phase, name, method, path, token string, body any, want int, out any) error {
	raw, err := json.Marshal(body)
	if err != nil {
		return err
	}
	start := time.Now()
	status, resp, err := l.call(ctx, method, path, token, "application/json", raw)
	if err != nil {
		return err
	}
	if status != want {
		return fmt.Errorf("%s: %d %s", name, status, resp)
	}
	p.record(name, time.Since(start))
	if out != nil {
		return json.Unmarshal(resp, out)
	}
	return nil
}

var recordMu sync.Mutex

func (p *phase) record(name string, d time.Duration) {
	recordMu.Lock()
	p.latencies[name] = append(p.latencies[name], d)
	recordMu.Unlock()
}

func (l *Lifecycle) call(ctx context.Context, method, path, token, contentType string, body []byte) (int, []byte, error) {
	req, err := http.NewRequestWithContext(ctx, method, l.APIURL+path, bytes.NewReader(body))
	if err != nil {
		return 0, nil, err
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", contentType)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer res.Body.Close()
	raw, err := io.ReadAll(res.Body)
	return res.StatusCode, raw, err
}

// parallel runs n jobs, Concurrency at a time, and times the whole.
func (l *Lifecycle) parallel(p *phase, job func(i int) error) error {
	var (
		next     atomic.Int64
		wg       sync.WaitGroup
		firstErr error
		errMu    sync.Mutex
		done     atomic.Int64
	)
	start := time.Now()
	for range l.Concurrency {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1)) - 1
				if i >= l.Dossiers {
					return
				}
				if err := job(i); err != nil {
					errMu.Lock()
					if firstErr == nil {
						firstErr = err
					}
					p.failed++
					errMu.Unlock()
					continue
				}
				done.Add(1)
			}
		}()
	}
	wg.Wait()
	p.elapsed = time.Since(start)
	p.done = int(done.Load())
	return firstErr
}

// The bare workflow: a start, two updates, six activities in the same order
// as a dossier's (mail; record, mail; reserve, record, mail), no I/O.
const bareWorkflow = "BareLifecycle"

func bareLifecycle(ctx workflow.Context) error {
	run := func(ctx workflow.Context, n int) error {
		ctx = workflow.WithActivityOptions(ctx, workflow.ActivityOptions{StartToCloseTimeout: 10 * time.Second})
		for range n {
			if err := workflow.ExecuteActivity(ctx, bareActivity).Get(ctx, nil); err != nil {
				return err
			}
		}
		return nil
	}
	step, mails := 0, 1
	for i, update := range []struct {
		name       string
		activities int
	}{{"police-verification", 1}, {"town-hall-decision", 2}} {
		if err := workflow.SetUpdateHandlerWithOptions(ctx, update.name, func(ctx workflow.Context) (string, error) {
			if err := run(ctx, update.activities); err != nil {
				return "", err
			}
			step, mails = step+1, mails+1
			return "ok", nil
		}, workflow.UpdateHandlerOptions{Validator: func() error {
			if step != i {
				return fmt.Errorf("wrong state")
			}
			return nil
		}}); err != nil {
			return err
		}
	}
	for {
		if err := workflow.Await(ctx, func() bool { return mails > 0 }); err != nil {
			return err
		}
		if err := run(ctx, 1); err != nil {
			return err
		}
		mails--
	}
}

func bareActivity(context.Context) error { return nil }

func (l *Lifecycle) runBare(ctx context.Context) (*phase, []string, error) {
	queue := fmt.Sprintf("bench-bare-%d", rand.IntN(1<<30))
	w := worker.New(l.Temporal, queue, worker.Options{})
	w.RegisterWorkflowWithOptions(bareLifecycle, workflow.RegisterOptions{Name: bareWorkflow})
	w.RegisterActivity(bareActivity)
	if err := w.Start(); err != nil {
		return nil, nil, err
	}
	defer w.Stop()
	p := &phase{name: "bare workflow on the SDK", latencies: map[string][]time.Duration{}}
	ids := make([]string, l.Dossiers)
	err := l.parallel(p, func(i int) error {
		id := fmt.Sprintf("%s-%d", queue, i)
		ids[i] = id
		start := time.Now()
		if _, err := l.Temporal.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: id, TaskQueue: queue}, bareWorkflow); err != nil {
			return err
		}
		p.record("create", time.Since(start))
		for _, name := range []string{"police-verification", "town-hall-decision"} {
			start := time.Now()
			h, err := l.Temporal.UpdateWorkflow(ctx, client.UpdateWorkflowOptions{WorkflowID: id, UpdateName: name,
				WaitForStage: client.WorkflowUpdateStageCompleted})
			if err == nil {
				err = h.Get(ctx, nil)
			}
			if err != nil {
				return err
			}
			p.record(name, time.Since(start))
		}
		return nil
	})
	return p, ids, err
}

// meanHistoryLength samples the dossiers' histories once their emails are out.
func (l *Lifecycle) meanHistoryLength(ctx context.Context, ids []string, workflowID func(string) string) float64 {
	time.Sleep(2 * time.Second) // let the last emails go out
	sample := ids
	if len(sample) > 50 {
		sample = sample[:50]
	}
	total, n := 0, 0
	for _, id := range sample {
		if id == "" {
			continue
		}
		resp, err := l.Temporal.DescribeWorkflowExecution(ctx, workflowID(id), "")
		if err != nil {
			continue
		}
		total += int(resp.WorkflowExecutionInfo.HistoryLength)
		n++
	}
	if n == 0 {
		return 0
	}
	return float64(total) / float64(n)
}

func percentile(ds []time.Duration, q float64) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	i := int(q * float64(len(s)-1))
	return s[i]
}

func (l *Lifecycle) report(ours, bare *phase) {
	fmt.Fprintf(l.Out, "\n%-28s %10s %8s %14s\n", "", "dossiers/s", "failed", "events/dossier")
	for _, p := range []*phase{ours, bare} {
		fmt.Fprintf(l.Out, "%-28s %10.1f %8d %14.1f\n", p.name, p.rate(), p.failed, p.events)
	}
	fmt.Fprintf(l.Out, "ratio (ours / bare): %.2f   (aim: 0.80 or more)\n\n", ours.rate()/bare.rate())
	fmt.Fprintf(l.Out, "%-22s %-28s %8s %8s\n", "action", "", "p50", "p99")
	for _, action := range []string{"create", "police-verification", "town-hall-decision"} {
		for _, p := range []*phase{ours, bare} {
			fmt.Fprintf(l.Out, "%-22s %-28s %8s %8s\n", action, p.name, percentile(p.latencies[action], 0.5).Round(100*time.Microsecond),
				percentile(p.latencies[action], 0.99).Round(100*time.Microsecond))
		}
	}
}

// cleanUp ends what the run started: the bare workflows are terminated,
// the dossiers cancelled through the API like any other, which releases
// their proxies' cap slots.
func (l *Lifecycle) cleanUp(ctx context.Context, refs, grantors []string, ids []string) {
	for _, id := range ids {
		_ = l.Temporal.TerminateWorkflow(ctx, id, "", "benchmark done")
	}
	for i, ref := range refs {
		if ref != "" {
			_, _, _ = l.call(ctx, "POST", "/v1/procurations/"+ref+"/cancel", grantors[i], "application/json", nil)
		}
	}
}

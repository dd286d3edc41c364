package workflows_test

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.temporal.io/api/enums/v1"
	historypb "go.temporal.io/api/history/v1"
	"go.temporal.io/api/temporalproto"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/log"
	"go.temporal.io/sdk/worker"
	"golang.org/x/sync/errgroup"

	"github.com/procurations/procuration/internal/calendar"
	"github.com/procurations/procuration/internal/campaign"
	"github.com/procurations/procuration/internal/config"
	"github.com/procurations/procuration/internal/dossier"
	"github.com/procurations/procuration/internal/match"
	"github.com/procurations/procuration/internal/outbox"
	"github.com/procurations/procuration/internal/signup"
	"github.com/procurations/procuration/internal/testenv"
	"github.com/procurations/procuration/workers"
)

// TestRecordHistories runs the main paths of every workflow on a dev server
// and saves their histories for the replay test of the next release:
//
//	go test ./workflows -run TestRecordHistories -record testdata/histories/<release>
//
// The workflows are today's; the activities answer as the database and the
// mail server would, so that a few seconds of policy stand for the days
// between reminders. The worker is a versioned one, as in production.
func TestRecordHistories(t *testing.T) {
	if *record == "" {
		t.Skip("records only with -record DIR")
	}
	if err := os.MkdirAll(*record, 0o755); err != nil {
		t.Fatal(err)
	}
	quiet := log.NewStructuredLogger(slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})))
	// A fixed identity: the default names the recording machine.
	c, err := client.Dial(client.Options{HostPort: testenv.Temporal(t), Logger: quiet, Identity: "record-histories"})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	const queue = "record-histories"
	versioning := config.Versioning{Enabled: true, Deployment: "procuration", BuildID: "recording", Promote: "always"}
	w := worker.New(c, queue, worker.Options{DeploymentOptions: workers.DeploymentOptions(versioning)})
	workers.RegisterWorkflows(w, dossier.DefaultPolicy())
	acts := newStubs()
	w.RegisterActivity(acts)
	if err := w.Start(); err != nil {
		t.Fatal(err)
	}
	defer w.Stop()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if _, err := workers.Promote(ctx, c, versioning); err != nil {
		t.Fatal(err)
	}
	r := &recorder{t: t, c: c, queue: queue, stubs: acts}
	var g errgroup.Group
	for name, scenario := range r.scenarios() {
		g.Go(func() error {
			run, err := scenario(ctx)
			if err != nil {
				return fmt.Errorf("%s: %w", name, err)
			}
			return r.save(ctx, name, run)
		})
	}
	if err := g.Wait(); err != nil {
		t.Fatal(err)
	}
}

type recorder struct {
	t     *testing.T
	c     client.Client
	queue string
	stubs *stubs
}

// run names one execution.
type run struct{ id, runID string }

func (r *recorder) save(ctx context.Context, name string, e run) error {
	it := r.c.GetWorkflowHistory(ctx, e.id, e.runID, false, enums.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	var h historypb.History
	for it.HasNext() {
		ev, err := it.Next()
		if err != nil {
			return err
		}
		h.Events = append(h.Events, ev)
	}
	data, err := temporalproto.CustomJSONMarshalOptions{}.Marshal(&h)
	if err != nil {
		return err
	}
	return writeHistory(*record, name, data)
}

func (r *recorder) start(ctx context.Context, id, workflow string, attrs *client.StartWorkflowOptions, args ...any) (client.WorkflowRun, error) {
	opts := client.StartWorkflowOptions{ID: id, TaskQueue: r.queue}
	if attrs != nil {
		opts.TypedSearchAttributes = attrs.TypedSearchAttributes
	}
	return r.c.ExecuteWorkflow(ctx, opts, workflow, args...)
}

func (r *recorder) update(ctx context.Context, id, name string, arg any) error {
	h, err := r.c.UpdateWorkflow(ctx, client.UpdateWorkflowOptions{WorkflowID: id, UpdateName: name, Args: []any{arg},
		WaitForStage: client.WorkflowUpdateStageCompleted})
	if err != nil {
		return err
	}
	return h.Get(ctx, nil)
}

// finish waits for the execution's end; the error of a cancelled one is
// its outcome, not a failure of the recording.
func finish(ctx context.Context, wr client.WorkflowRun, cancelled bool) (run, error) {
	err := wr.Get(ctx, nil)
	if cancelled {
		err = nil
	}
	return run{wr.GetID(), wr.GetRunID()}, err
}

// Policy of the recorded dossiers: seconds for days.
var quick = dossier.Policy{Review: dossier.ReviewManual, PoliceFirstReminder: time.Second, PoliceReminderEvery: time.Hour,
	BeforeRoundReminder: 2 * time.Second, TownHallFirstReminder: time.Second, TownHallReminderEvery: time.Hour}

var (
	officer = dossier.Actor{Sub: "opj-paris-11", Role: "police"}
	agent   = dossier.Actor{Sub: "mairie-75056-elections", Role: "town_hall"}
	grantor = dossier.Actor{Sub: "fc-3f9a1c27e5b04d6a", Role: "grantor"}
)

func verification(outcome string) dossier.PoliceVerification {
	v := dossier.PoliceVerification{Actor: officer, Outcome: outcome, Rank: "brigadier-chef", Unit: "Commissariat central du 11e arrondissement",
		IDDocumentKind: "cni", IDDocumentFingerprint: "9c1e4f0b7a2d63e8c5b1f9a0d4e7c2b6a3f8e1d0c9b7a6f5e4d3c2b1a0f9e8d7"}
	if outcome == dossier.PoliceRefused {
		v.ReasonNote = "note-1"
	}
	return v
}

func (r *recorder) scenarios() map[string]func(context.Context) (run, error) {
	dossierStart := func(ref string, validFor time.Duration, change func(*dossier.Start)) (dossier.Start, *client.StartWorkflowOptions) {
		in := dossier.Start{Reference: ref, CommuneCode: "75056", CommuneName: "Paris", ValidUntil: time.Now().Add(validFor), Policy: quick}
		if change != nil {
			change(&in)
		}
		return in, &client.StartWorkflowOptions{TypedSearchAttributes: dossier.StartAttributes(in.CommuneCode, in.ValidUntil)}
	}
	procuration := func(ref string, validFor time.Duration, change func(*dossier.Start), drive func(ctx context.Context, id string) error,
		cancelled bool) func(context.Context) (run, error) {
		return func(ctx context.Context) (run, error) {
			in, attrs := dossierStart(ref, validFor, change)
			id := dossier.WorkflowID(ref)
			wr, err := r.start(ctx, id, dossier.WorkflowName, attrs, in)
			if err != nil {
				return run{}, err
			}
			if drive != nil {
				if err := drive(ctx, id); err != nil {
					return run{}, err
				}
			}
			return finish(ctx, wr, cancelled)
		}
	}
	mail := func(key string) func(ctx context.Context, _ string) error {
		return func(ctx context.Context, _ string) error { return r.stubs.waitMail(ctx, key) }
	}
	steps := func(fs ...func(ctx context.Context, id string) error) func(ctx context.Context, id string) error {
		return func(ctx context.Context, id string) error {
			for _, f := range fs {
				if err := f(ctx, id); err != nil {
					return err
				}
			}
			return nil
		}
	}
	upd := func(name string, arg any) func(ctx context.Context, id string) error {
		return func(ctx context.Context, id string) error { return r.update(ctx, id, name, arg) }
	}
	cancelWorkflow := func(ctx context.Context, id string) error { return r.c.CancelWorkflow(ctx, id, "") }
	verified, refused := upd(dossier.UpdatePoliceVerification, verification(dossier.PoliceVerified)), upd(dossier.UpdatePoliceVerification, verification(dossier.PoliceRefused))
	validated := upd(dossier.UpdateTownHallDecision, dossier.TownHallDecision{Actor: agent, Outcome: dossier.TownHallValidated})
	invalidated := upd(dossier.UpdateTownHallDecision, dossier.TownHallDecision{Actor: agent, Outcome: dossier.TownHallInvalidated, ReasonNote: "note-2"})
	cancel := upd(dossier.UpdateCancel, dossier.Cancellation{Actor: grantor})
	automatic := func(in *dossier.Start) { in.Policy.Review = dossier.ReviewAutomatic; in.DigitalIdentity = true }

	matchStart := func(id string, electionIn time.Duration, change func(*match.Start)) match.Start {
		in := match.Start{MatchID: id, Campaign: "campagne-test", Rounds: []int{1}, ElectionEnd: time.Now().Add(electionIn),
			Settings: match.Settings{AnswerWindow: 4 * time.Second, LinkReminders: []time.Duration{time.Second}, DossierCheckEvery: time.Second}}
		if change != nil {
			change(&in)
		}
		return in
	}
	matchRun := func(mid string, electionIn time.Duration, change func(*match.Start), drive func(ctx context.Context, id string) error,
		cancelled bool) func(context.Context) (run, error) {
		return func(ctx context.Context) (run, error) {
			id := match.WorkflowID(mid)
			wr, err := r.start(ctx, id, match.WorkflowName, nil, matchStart(mid, electionIn, change))
			if err != nil {
				return run{}, err
			}
			if drive != nil {
				if err := drive(ctx, id); err != nil {
					return run{}, err
				}
			}
			return finish(ctx, wr, cancelled)
		}
	}
	// The offer goes out in the workflow's first task; an answer before it is refused.
	offered := func(ctx context.Context, id string) error {
		return r.stubs.waitMail(ctx, strings.TrimPrefix(id, "match-")+"/match_offer/volunteer")
	}
	answer := func(party, outcome string) func(ctx context.Context, id string) error {
		return upd(match.UpdateAnswer, match.Answer{Actor: match.Actor{Sub: "signup-" + party, Role: party}, Party: party, Outcome: outcome})
	}
	link := func(ref string) func(ctx context.Context, id string) error {
		return upd(match.UpdateLink, match.Link{Actor: match.Actor{Sub: "signup-requester", Role: "requester"}, Reference: ref})
	}
	approval := func(outcome string) func(ctx context.Context, id string) error {
		return upd(match.UpdateApproval, match.Approval{Actor: match.Actor{Sub: "benevole-admin-1", Role: "campaign_admin"}, Outcome: outcome})
	}
	needsApproval := func(in *match.Start) { in.Settings.RequireApproval = true }
	signal := func(ctx context.Context, id string) error {
		return r.c.SignalWorkflow(ctx, id, "", match.SignalDossierChanged, "invalidated")
	}
	r.stubs.dossierStatus("RC5TQ2", "awaiting_town_hall", "validated")
	r.stubs.dossierStatus("RC5TQ3", "awaiting_police", "invalidated")
	r.stubs.refuseSlot("RC4CAP")

	return map[string]func(context.Context) (run, error){
		// The official dossier.
		"procuration-reminders-verified-validated-expired": procuration("RC2VAL", 12*time.Second, nil,
			steps(mail("RC2VAL/police_reminder/1"), verified, mail("RC2VAL/town_hall_reminder/1"), validated), false),
		"procuration-before-round-reminder-expired": procuration("RC2EXP", 5*time.Second, func(in *dossier.Start) {
			in.FirstRound = time.Now().Add(4 * time.Second)
			in.Policy.PoliceFirstReminder = time.Hour
		}, nil, false),
		"procuration-police-refused":         procuration("RC2REF", time.Hour, nil, refused, false),
		"procuration-town-hall-invalidated":  procuration("RC2INV", time.Hour, nil, steps(verified, invalidated), false),
		"procuration-validated-cancelled":    procuration("RC2CAN", time.Hour, nil, steps(verified, validated, cancel), false),
		"procuration-cancelled-from-web-ui":  procuration("RC2WEB", time.Hour, nil, steps(mail("RC2WEB/submission"), cancelWorkflow), true),
		"procuration-digital-automatic":      procuration("RC3AUT", time.Hour, automatic, steps(mail("RC3AUT/validated"), cancel), false),
		"procuration-automatic-cap-reached":  procuration("RC4CAP", time.Hour, automatic, nil, false),
		"procuration-unverified-cancelled":   procuration("RC2UNV", time.Hour, nil, cancel, false),
		"procuration-awaiting-town-hall-exp": procuration("RC2ETH", 4*time.Second, nil, verified, false),

		// Matching platforms.
		"match-accepted-linked-completed": matchRun("m-completed", time.Minute, nil,
			steps(offered, answer(match.Requester, "accepted"), answer(match.Volunteer, "accepted"), mail("m-completed/match_link_reminder/requester/1"), link("RC5TQ2")), false),
		"match-linked-dossier-failed": matchRun("m-failed", time.Minute, func(in *match.Start) { in.Settings.DossierCheckEvery = time.Hour },
			steps(offered, answer(match.Volunteer, "accepted"), answer(match.Requester, "accepted"), link("RC5TQ3"), mail("read/RC5TQ3/1"), signal), false),
		"match-declined":          matchRun("m-declined", time.Minute, nil, steps(offered, answer(match.Volunteer, "declined")), false),
		"match-answer-timeout":    matchRun("m-timeout", time.Minute, nil, nil, false),
		"match-approval-rejected": matchRun("m-rejected", time.Minute, needsApproval, approval("rejected"), false),
		"match-approved-declined": matchRun("m-approved", time.Minute, needsApproval, steps(approval("approved"), answer(match.Requester, "declined")), false),
		"match-accepted-election-end": matchRun("m-election", 3*time.Second, func(in *match.Start) { in.Settings.LinkReminders = nil },
			steps(offered, answer(match.Requester, "accepted"), answer(match.Volunteer, "accepted")), false),
		"match-cancelled-from-web-ui": matchRun("m-support", time.Minute, nil, steps(offered, cancelWorkflow), true),

		"signup-confirmation-sent": func(ctx context.Context) (run, error) {
			wr, err := r.start(ctx, signup.WorkflowID("s-sent"), signup.WorkflowName, nil, "s-sent")
			if err != nil {
				return run{}, err
			}
			return finish(ctx, wr, false)
		},
		"signup-confirmation-unmarked-then-marked": func(ctx context.Context) (run, error) {
			wr, err := r.start(ctx, signup.WorkflowID("s-unmarked"), signup.WorkflowName, nil, "s-unmarked")
			if err != nil {
				return run{}, err
			}
			return finish(ctx, wr, false)
		},
		"signup-confirmation-refused": func(ctx context.Context) (run, error) {
			wr, err := r.start(ctx, signup.WorkflowID("s-refused"), signup.WorkflowName, nil, "s-refused")
			if err != nil {
				return run{}, err
			}
			return finish(ctx, wr, false)
		},
		// The sender's first pass, which ends by starting afresh.
		"signup-confirmations-pass": func(ctx context.Context) (run, error) {
			wr, err := r.start(ctx, signup.SenderWorkflowID, signup.SenderWorkflowName, nil)
			if err != nil {
				return run{}, err
			}
			first := run{wr.GetID(), wr.GetRunID()}
			if err := r.stubs.waitMail(ctx, "pending/2"); err != nil {
				return run{}, err
			}
			return first, r.c.TerminateWorkflow(ctx, wr.GetID(), "", "recorded")
		},
		"campaign-life-closed-purged": func(ctx context.Context) (run, error) {
			wr, err := r.start(ctx, "campaign-campagne-test", campaign.LifeWorkflowName, nil,
				campaign.Life{Campaign: "campagne-test", ElectionEnd: time.Now().Add(time.Second), Retention: time.Second})
			if err != nil {
				return run{}, err
			}
			return finish(ctx, wr, false)
		},
		// A past round gets no notice; the next one's is due a second
		// after the start.
		"campaign-life-unmatched-notices": func(ctx context.Context) (run, error) {
			today := time.Now().In(calendar.Paris)
			tomorrow := calendar.StartOfDay(today.AddDate(0, 0, 1))
			wr, err := r.start(ctx, "campaign-campagne-notices", campaign.LifeWorkflowName, nil,
				campaign.Life{Campaign: "campagne-notices", ElectionEnd: time.Now().Add(3 * time.Second), Retention: time.Second,
					Rounds: []campaign.Round{{Number: 1, Date: today.AddDate(0, 0, -1).Format(time.DateOnly)},
						{Number: 2, Date: tomorrow.Format(time.DateOnly)}},
					UnmatchedNotice: time.Until(tomorrow) - time.Second})
			if err != nil {
				return run{}, err
			}
			return finish(ctx, wr, false)
		},
		"matching-run": func(ctx context.Context) (run, error) {
			wr, err := r.start(ctx, "matching-run-campagne-test", campaign.RunWorkflowName, nil, "campagne-test")
			if err != nil {
				return run{}, err
			}
			return finish(ctx, wr, false)
		},
		// A run's 503 proposals started in two batches, then a rematch
		// asked by a failed dossier.
		"matching-offers-with-rematch": func(ctx context.Context) (run, error) {
			wr, err := r.c.SignalWithStartWorkflow(ctx, campaign.OffersWorkflowID("campagne-test"), campaign.SignalMore,
				campaign.More{Proposed: 503, Rematch: true, RematchDelay: time.Second},
				client.StartWorkflowOptions{TaskQueue: r.queue}, campaign.OffersWorkflowName, campaign.Offers{Campaign: "campagne-test"})
			if err != nil {
				return run{}, err
			}
			return finish(ctx, wr, false)
		},
		"bulk-approval-with-failures": func(ctx context.Context) (run, error) {
			in := campaign.Bulk{Campaign: "campagne-test", Outcome: "approved",
				Actor: campaign.BulkActor{Issuer: "https://proconnect.example", Subject: "benevole-admin-1", Role: "campaign_admin", Campaigns: []string{"campagne-test"}}}
			for i := range 130 {
				in.IDs = append(in.IDs, fmt.Sprintf("m-%03d", i))
			}
			wr, err := r.start(ctx, "bulk-campagne-test", campaign.BulkWorkflowName, nil, in)
			if err != nil {
				return run{}, err
			}
			return finish(ctx, wr, false)
		},
	}
}

// stubs answer for the database and the mail server under the activities'
// names, and note which emails went out (by key) and which dossiers were
// read, for the scenarios to wait on.
type stubs struct {
	mu       sync.Mutex
	sent     map[string]bool
	changed  chan struct{}
	statuses map[string][]string
	refused  map[string]bool
	reads    map[string]int
	passes   atomic.Int32
	// offerBatches counts StartOffers calls.
	offerBatches int
}

func newStubs() *stubs {
	return &stubs{sent: map[string]bool{}, changed: make(chan struct{}), statuses: map[string][]string{}, refused: map[string]bool{}, reads: map[string]int{}}
}

func (s *stubs) dossierStatus(ref string, statuses ...string) { s.statuses[ref] = statuses }
func (s *stubs) refuseSlot(ref string)                        { s.refused[ref] = true }

func (s *stubs) note(key string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.sent[key] = true
	close(s.changed)
	s.changed = make(chan struct{})
}

func (s *stubs) waitMail(ctx context.Context, key string) error {
	for {
		s.mu.Lock()
		done, changed := s.sent[key], s.changed
		s.mu.Unlock()
		if done {
			return nil
		}
		select {
		case <-changed:
		case <-ctx.Done():
			return fmt.Errorf("waiting for the email %s: %w", key, ctx.Err())
		}
	}
}

func (s *stubs) RecordStep(context.Context, dossier.Step) error { return nil }
func (s *stubs) ReserveProxySlot(_ context.Context, ref string) (dossier.SlotOutcome, error) {
	if s.refused[ref] {
		return dossier.SlotOutcome{Reason: "le mandataire détient déjà une procuration"}, nil
	}
	return dossier.SlotOutcome{Reserved: true}, nil
}
func (s *stubs) ReleaseProxySlot(context.Context, string) error { return nil }
func (s *stubs) SendMail(_ context.Context, m dossier.Mail) (outbox.Receipt, error) {
	key := m.Reference + "/" + string(m.Kind)
	if m.Count > 0 {
		key += fmt.Sprintf("/%d", m.Count)
	}
	s.note(key)
	return outbox.Receipt{}, nil
}
func (s *stubs) MarkMailSent(context.Context, string) error        { return nil }
func (s *stubs) RecordMatchStep(context.Context, match.Step) error { return nil }
func (s *stubs) DossierStatus(_ context.Context, ref string) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.reads[ref]++
	s.sent[fmt.Sprintf("read/%s/%d", ref, s.reads[ref])] = true
	close(s.changed)
	s.changed = make(chan struct{})
	statuses := s.statuses[ref]
	if len(statuses) == 0 {
		return "awaiting_police", nil
	}
	status := statuses[0]
	if len(statuses) > 1 {
		s.statuses[ref] = statuses[1:]
	}
	return status, nil
}
func (s *stubs) SendMatchMail(_ context.Context, m match.Mail) (outbox.Receipt, error) {
	key := m.MatchID + "/" + string(m.Kind) + "/" + m.Party
	if m.Count > 0 {
		key += fmt.Sprintf("/%d", m.Count)
	}
	s.note(key)
	return outbox.Receipt{}, nil
}
func (s *stubs) RunMatching(context.Context, string) (int, error) { return 3, nil }
func (s *stubs) RequestRematch(context.Context, string) error     { return nil }

// StartOffers starts a batch of 500, then the 3 left.
func (s *stubs) StartOffers(context.Context, string) (campaign.OffersBatch, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.offerBatches++
	if s.offerBatches == 1 {
		return campaign.OffersBatch{Started: 500, Left: 3}, nil
	}
	return campaign.OffersBatch{Started: 3}, nil
}
func (s *stubs) NotifyUnmatched(_ context.Context, n campaign.Notice) (campaign.NoticeReport, error) {
	s.note(fmt.Sprintf("notice/%s/%d", n.Campaign, n.Round))
	return campaign.NoticeReport{Told: 3}, nil
}
func (s *stubs) CloseCampaign(context.Context, string) error        { return nil }
func (s *stubs) PurgeCampaign(context.Context, string) (int, error) { return 42, nil }

// SendPendingConfirmations ends its first pass at once and holds the next.
func (s *stubs) SendPendingConfirmations(ctx context.Context, _ time.Duration) error {
	s.note(fmt.Sprintf("pending/%d", s.passes.Add(1)))
	if s.passes.Load() > 1 {
		<-ctx.Done()
	}
	return nil
}
func (s *stubs) SendConfirmation(_ context.Context, id string) (outbox.Receipt, error) {
	switch id {
	case "s-unmarked":
		return outbox.Receipt{Unmarked: true}, nil
	case "s-refused":
		return outbox.Receipt{Refused: "550 5.1.1 mailbox unavailable"}, nil
	}
	return outbox.Receipt{}, nil
}
func (s *stubs) ApproveBatch(_ context.Context, b campaign.BulkBatch) ([]campaign.BulkItem, error) {
	var items []campaign.BulkItem
	for i, id := range b.IDs {
		item := campaign.BulkItem{ID: id, Status: "awaiting_answer"}
		if i == 0 {
			item = campaign.BulkItem{ID: id, Status: "proposed", Error: "la mise en relation a déjà reçu une réponse"}
		}
		items = append(items, item)
	}
	return items, nil
}

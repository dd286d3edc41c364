package workflows

import (
	"context"
	"errors"
	"log/slog"
	"os"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/mock"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/log"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/workflow"

	"github.com/procurations/procuration/activities"
	"github.com/procurations/procuration/internal/dossier"
	"github.com/procurations/procuration/internal/outbox"
)

var t0 = time.Date(2027, 3, 1, 9, 0, 0, 0, time.UTC)

const day = 24 * time.Hour

// harness runs one dossier in the time-skipping test environment with
// activities that record what they were asked to do.
type harness struct {
	t        *testing.T
	env      *testsuite.TestWorkflowEnvironment
	in       dossier.Start
	mails    []sentMail
	steps    []dossier.Step
	reserve  dossier.SlotOutcome
	reserved int
	released int
	// policy is the worker's setting the dossier copies.
	policy dossier.Policy
	// receipt and refuse, when set, say what the mail server and the
	// database answer.
	receipt func(dossier.Mail) outbox.Receipt
	refuse  func(dossier.Step) error
	// versions pins changes to a version, as for a dossier started before.
	versions map[string]workflow.Version
}

type sentMail struct {
	at   time.Duration // since t0
	kind dossier.MailKind
	key  string
}

func newEnv() *testsuite.TestWorkflowEnvironment {
	var suite testsuite.WorkflowTestSuite
	suite.SetLogger(log.NewStructuredLogger(slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelError + 1}))))
	return suite.NewTestWorkflowEnvironment()
}

func newHarness(t *testing.T) *harness {
	env := newEnv()
	env.SetStartTime(t0)
	h := &harness{t: t, env: env, reserve: dossier.SlotOutcome{Reserved: true}, policy: dossier.DefaultPolicy(), in: dossier.Start{
		Reference:   "K7M2QX",
		CommuneCode: "75056",
		CommuneName: "Paris",
		ValidUntil:  t0.Add(60 * day),
	}}
	registerActivities(env)
	env.OnActivity(dossier.ActivitySendMail, mock.Anything, mock.Anything).Return(func(_ context.Context, m dossier.Mail) (outbox.Receipt, error) {
		h.mails = append(h.mails, sentMail{at: env.Now().Sub(t0), kind: m.Kind, key: m.Key})
		if h.receipt != nil {
			return h.receipt(m), nil
		}
		return outbox.Receipt{}, nil
	})
	env.OnActivity(dossier.ActivityRecordStep, mock.Anything, mock.Anything).Return(func(_ context.Context, s dossier.Step) error {
		if h.refuse != nil {
			if err := h.refuse(s); err != nil {
				return err
			}
		}
		h.steps = append(h.steps, s)
		return nil
	})
	env.OnActivity(dossier.ActivityReserveSlot, mock.Anything, mock.Anything).Return(func(context.Context, string) (dossier.SlotOutcome, error) {
		if h.reserve.Reserved {
			h.reserved++
		}
		return h.reserve, nil
	})
	env.OnActivity(dossier.ActivityReleaseSlot, mock.Anything, mock.Anything).Return(func(context.Context, string) error {
		h.released++
		return nil
	})
	return h
}

// at schedules a portal action after d and checks whether it was accepted.
func (h *harness) at(d time.Duration, update string, arg any, wantErr string) {
	updateAt(h.t, h.env, d, update, arg, wantErr)
}

// updateAt sends an update after d; wantErr empty means it must succeed,
// otherwise be rejected or fail with that text.
func updateAt(t *testing.T, env *testsuite.TestWorkflowEnvironment, d time.Duration, update string, arg any, wantErr string) {
	env.RegisterDelayedCallback(func() {
		env.UpdateWorkflow(update, "", &testsuite.TestUpdateCallback{
			OnAccept: func() {},
			OnReject: func(err error) {
				if wantErr == "" {
					t.Errorf("%s at %s rejected: %v", update, d, err)
				} else {
					require.ErrorContains(t, err, wantErr)
				}
			},
			OnComplete: func(_ any, err error) {
				if wantErr == "" {
					require.NoError(t, err, "%s at %s", update, d)
				} else {
					require.ErrorContains(t, err, wantErr)
				}
			},
		}, arg)
	}, d)
}

// registerActivities gives the test environment every activity by its name.
func registerActivities(env *testsuite.TestWorkflowEnvironment) {
	env.RegisterActivity(&activities.Outbox{})
	env.RegisterActivity(&activities.Procurations{})
	env.RegisterActivity(&activities.Matches{})
	env.RegisterActivity(&activities.Campaigns{})
	env.RegisterActivity(&activities.Signups{})
}

func workflowName(name string) workflow.RegisterOptions { return workflow.RegisterOptions{Name: name} }

func (h *harness) run() dossier.Status {
	h.env.RegisterWorkflowWithOptions((&Procurations{Policy: h.policy}).Procuration, workflowName(dossier.WorkflowName))
	for change, v := range h.versions {
		h.env.OnGetVersion(change, workflow.DefaultVersion, 1).Return(v)
	}
	h.env.ExecuteWorkflow(dossier.WorkflowName, h.in)
	require.True(h.t, h.env.IsWorkflowCompleted())
	require.NoError(h.t, h.env.GetWorkflowError())
	var status dossier.Status
	require.NoError(h.t, h.env.GetWorkflowResult(&status))
	return status
}

func (h *harness) kinds() []dossier.MailKind {
	var out []dossier.MailKind
	for _, m := range h.mails {
		out = append(out, m.kind)
	}
	return out
}

func (h *harness) statuses() []dossier.Status {
	var out []dossier.Status
	for _, s := range h.steps {
		out = append(out, s.Status)
	}
	return out
}

var (
	officer  = dossier.Actor{Sub: "opj-1", Role: "police"}
	townHall = dossier.Actor{Sub: "mairie-1", Role: "town_hall"}
	grantor  = dossier.Actor{Sub: "fc-1", Role: "grantor"}
	verified = dossier.PoliceVerification{Actor: officer, Outcome: dossier.PoliceVerified, Rank: "brigadier", Unit: "Commissariat du 11e", IDDocumentKind: "cni"}
	validate = dossier.TownHallDecision{Actor: townHall, Outcome: dossier.TownHallValidated}
)

func TestValidatedThenExpiresAndReleasesSlot(t *testing.T) {
	h := newHarness(t)
	h.at(time.Hour, dossier.UpdatePoliceVerification, verified, "")
	h.at(3*time.Hour, dossier.UpdateTownHallDecision, validate, "")
	require.Equal(t, dossier.Expired, h.run())
	require.Equal(t, []dossier.MailKind{dossier.MailSubmission, dossier.MailPoliceReceipt, dossier.MailValidated, dossier.MailHolderInformed,
		dossier.MailExpired}, h.kinds())
	require.Equal(t, []dossier.Status{dossier.AwaitingTownHall, dossier.Validated, dossier.Expired}, h.statuses())
	require.Equal(t, 60*day, h.mails[4].at, "expires when validity ends")
	require.Equal(t, 1, h.reserved)
	require.Equal(t, 1, h.released)
	require.Equal(t, []int{2, 3, 4}, []int{h.steps[0].Seq, h.steps[1].Seq, h.steps[2].Seq})
	require.Equal(t, "opj-1", h.steps[0].Police.AgentSub)
}

func TestPoliceRemindersThenExpiry(t *testing.T) {
	h := newHarness(t)
	h.in.ValidUntil = t0.Add(20 * day)
	h.in.FirstRound = t0.Add(14 * day)
	require.Equal(t, dossier.Expired, h.run())
	var got []time.Duration
	for _, m := range h.mails {
		got = append(got, m.at)
	}
	// 2 days, then every 5 days; 3 days before the round (day 11), from which
	// the rhythm resumes (day 16); expiry at day 20.
	require.Equal(t, []time.Duration{0, 2 * day, 7 * day, 11 * day, 16 * day, 20 * day}, got)
	require.Equal(t, []dossier.MailKind{dossier.MailSubmission, dossier.MailPoliceReminder, dossier.MailPoliceReminder,
		dossier.MailBeforeRoundReminder, dossier.MailPoliceReminder, dossier.MailExpired}, h.kinds())
	require.Equal(t, "K7M2QX/police_reminder/1", h.mails[1].key)
	require.Equal(t, "K7M2QX/before_round_reminder/3", h.mails[3].key)
	require.Zero(t, h.released, "nothing was reserved")
}

func TestNoBeforeRoundReminderWhenSubmittedLate(t *testing.T) {
	h := newHarness(t)
	h.in.FirstRound = t0.Add(2 * day)
	h.in.ValidUntil = t0.Add(3 * day)
	require.Equal(t, dossier.Expired, h.run())
	require.Equal(t, []dossier.MailKind{dossier.MailSubmission, dossier.MailPoliceReminder, dossier.MailExpired}, h.kinds())
}

func TestRemindersAreConfigurable(t *testing.T) {
	h := newHarness(t)
	h.policy.PoliceFirstReminder = 6 * time.Hour
	h.policy.PoliceReminderEvery = day
	h.in.ValidUntil = t0.Add(2 * day)
	h.run()
	var got []time.Duration
	for _, m := range h.mails {
		got = append(got, m.at)
	}
	require.Equal(t, []time.Duration{0, 6 * time.Hour, 30 * time.Hour, 2 * day}, got)
}

func TestTownHallReminders(t *testing.T) {
	h := newHarness(t)
	h.in.ValidUntil = t0.Add(4 * day)
	h.at(time.Hour, dossier.UpdatePoliceVerification, verified, "")
	require.Equal(t, dossier.Expired, h.run())
	var reminders []time.Duration
	for _, m := range h.mails {
		if m.kind == dossier.MailTownHallReminder {
			reminders = append(reminders, m.at)
		}
	}
	// 24 hours after transmission, then daily, until the validity ends.
	require.Equal(t, []time.Duration{25 * time.Hour, 49 * time.Hour, 73 * time.Hour}, reminders)
	require.Equal(t, "K7M2QX/town_hall_reminder/3", h.mails[len(h.mails)-2].key)
}

func TestPoliceRefusal(t *testing.T) {
	h := newHarness(t)
	h.at(day, dossier.UpdatePoliceVerification, dossier.PoliceVerification{Actor: officer, Outcome: dossier.PoliceRefused, ReasonNote: "note-1"}, "")
	require.Equal(t, dossier.Refused, h.run())
	require.Equal(t, []dossier.MailKind{dossier.MailSubmission, dossier.MailPoliceRefused}, h.kinds())
}

func TestInvalidation(t *testing.T) {
	h := newHarness(t)
	h.at(time.Hour, dossier.UpdatePoliceVerification, verified, "")
	h.at(2*time.Hour, dossier.UpdateTownHallDecision, dossier.TownHallDecision{Actor: townHall, Outcome: dossier.TownHallInvalidated, ReasonNote: "note-2"}, "")
	require.Equal(t, dossier.Invalidated, h.run())
	require.Equal(t, "note-2", h.steps[1].TownHall.ReasonNote)
	require.Zero(t, h.reserved)
}

func TestCancellationAtEachStep(t *testing.T) {
	cancel := dossier.Cancellation{Actor: grantor}
	for name, tc := range map[string]struct {
		steps    func(h *harness)
		released int
		mails    []dossier.MailKind
	}{
		"awaiting police": {func(h *harness) {}, 0, []dossier.MailKind{dossier.MailSubmission, dossier.MailCancelled}},
		"awaiting town hall": {func(h *harness) {
			h.at(time.Hour, dossier.UpdatePoliceVerification, verified, "")
		}, 1, []dossier.MailKind{dossier.MailSubmission, dossier.MailPoliceReceipt, dossier.MailCancelled}},
		"validated": {func(h *harness) {
			h.at(time.Hour, dossier.UpdatePoliceVerification, verified, "")
			h.at(2*time.Hour, dossier.UpdateTownHallDecision, validate, "")
		}, 1, []dossier.MailKind{dossier.MailSubmission, dossier.MailPoliceReceipt, dossier.MailValidated, dossier.MailHolderInformed, dossier.MailCancelled,
			dossier.MailHolderCancelled}},
	} {
		t.Run(name, func(t *testing.T) {
			h := newHarness(t)
			tc.steps(h)
			h.at(20*time.Hour, dossier.UpdateCancel, cancel, "")
			h.at(21*time.Hour, dossier.UpdateCancel, cancel, "cancelled")
			require.Equal(t, dossier.Cancelled, h.run())
			require.Equal(t, tc.mails, h.kinds())
			require.Equal(t, tc.released, h.released)
			require.Equal(t, 20*time.Hour, h.mails[len(h.mails)-1].at)
			require.Equal(t, name == "validated", slices.Contains(h.kinds(), dossier.MailHolderCancelled), "the holder only of a validated one")
		})
	}
}

func TestRejectedActionsChangeNothing(t *testing.T) {
	h := newHarness(t)
	h.at(time.Hour, dossier.UpdateTownHallDecision, validate, "awaiting_police")
	h.at(2*time.Hour, dossier.UpdatePoliceVerification, dossier.PoliceVerification{Actor: officer, Outcome: "maybe"}, "outcome")
	h.at(3*time.Hour, dossier.UpdatePoliceVerification, verified, "")
	h.at(4*time.Hour, dossier.UpdatePoliceVerification, verified, "awaiting_town_hall")
	h.at(5*time.Hour, dossier.UpdateTownHallDecision, dossier.TownHallDecision{Actor: townHall, Outcome: "perhaps"}, "outcome")
	h.at(6*time.Hour, dossier.UpdateCancel, dossier.Cancellation{Actor: grantor}, "")
	require.Equal(t, dossier.Cancelled, h.run())
	require.Equal(t, []dossier.Status{dossier.AwaitingTownHall, dossier.Cancelled}, h.statuses())
}

func TestCapReachedLeavesDossierWaiting(t *testing.T) {
	h := newHarness(t)
	h.reserve = dossier.SlotOutcome{Reason: "le mandataire détient déjà le nombre maximal de procurations"}
	h.in.ValidUntil = t0.Add(2 * day)
	h.at(time.Hour, dossier.UpdatePoliceVerification, verified, "")
	h.at(2*time.Hour, dossier.UpdateTownHallDecision, validate, "nombre maximal")
	h.env.RegisterDelayedCallback(func() {
		v, err := h.env.QueryWorkflow(dossier.QueryStatus)
		require.NoError(t, err)
		var st dossier.State
		require.NoError(t, v.Get(&st))
		require.Equal(t, dossier.AwaitingTownHall, st.Status)
	}, 3*time.Hour)
	require.Equal(t, dossier.Expired, h.run())
	require.Equal(t, []dossier.Status{dossier.AwaitingTownHall, dossier.Expired}, h.statuses())
}

func TestAutomaticReview(t *testing.T) {
	for name, tc := range map[string]struct {
		slot  dossier.SlotOutcome
		final dossier.Status
		mail  dossier.MailKind
	}{
		"within cap":  {dossier.SlotOutcome{Reserved: true}, dossier.Expired, dossier.MailValidated},
		"cap reached": {dossier.SlotOutcome{Reason: "le mandataire détient déjà le nombre maximal de procurations"}, dossier.Invalidated, dossier.MailInvalidated},
	} {
		t.Run(name, func(t *testing.T) {
			h := newHarness(t)
			h.policy.Review = dossier.ReviewAutomatic
			h.reserve = tc.slot
			h.at(time.Hour, dossier.UpdatePoliceVerification, verified, "")
			h.at(2*time.Hour, dossier.UpdateTownHallDecision, validate, "automatic")
			require.Equal(t, tc.final, h.run())
			require.Equal(t, tc.mail, h.mails[2].kind)
			require.Equal(t, time.Hour, h.mails[2].at, "decided at once")
			require.Equal(t, tc.final == dossier.Expired, slices.Contains(h.kinds(), dossier.MailHolderInformed), "the holder only of a validation")
			require.True(t, h.steps[1].TownHall.Automatic)
			require.Equal(t, "system", h.steps[1].Actor.Role)
		})
	}
}

// A validation, by the town hall or by the register's checks, asks for the
// holder's email right after the grantor's, under its once-only key; an
// invalidation does not, nor does a dossier running the code from before
// the change (the version marker's default).
func TestValidationAsksForTheHolderEmail(t *testing.T) {
	for name, tc := range map[string]struct {
		review  dossier.ReviewMode
		version workflow.Version
		outcome dossier.TownHallDecision
		want    []dossier.MailKind
	}{
		"town hall": {dossier.ReviewManual, 1, validate,
			[]dossier.MailKind{dossier.MailSubmission, dossier.MailPoliceReceipt, dossier.MailValidated, dossier.MailHolderInformed, dossier.MailCancelled,
				dossier.MailHolderCancelled}},
		"automatic": {dossier.ReviewAutomatic, 1, validate,
			[]dossier.MailKind{dossier.MailSubmission, dossier.MailPoliceReceipt, dossier.MailValidated, dossier.MailHolderInformed, dossier.MailCancelled,
				dossier.MailHolderCancelled}},
		"invalidated": {dossier.ReviewManual, 1, dossier.TownHallDecision{Actor: townHall, Outcome: dossier.TownHallInvalidated, ReasonNote: "n"},
			[]dossier.MailKind{dossier.MailSubmission, dossier.MailPoliceReceipt, dossier.MailInvalidated}},
		"validated before the change": {dossier.ReviewManual, workflow.DefaultVersion, validate,
			[]dossier.MailKind{dossier.MailSubmission, dossier.MailPoliceReceipt, dossier.MailValidated, dossier.MailCancelled}},
	} {
		t.Run(name, func(t *testing.T) {
			h := newHarness(t)
			h.policy.Review = tc.review
			h.versions = map[string]workflow.Version{holderInformedChange: tc.version, holderCancelledChange: tc.version}
			h.at(time.Hour, dossier.UpdatePoliceVerification, verified, "")
			if tc.review == dossier.ReviewManual {
				h.at(2*time.Hour, dossier.UpdateTownHallDecision, tc.outcome, "")
			}
			h.at(5*time.Hour, dossier.UpdateCancel, dossier.Cancellation{Actor: grantor}, "")
			h.run()
			require.Equal(t, tc.want, h.kinds())
			if i := slices.Index(h.kinds(), dossier.MailHolderInformed); i >= 0 {
				require.Equal(t, "K7M2QX/holder_informed", h.mails[i].key)
				require.Equal(t, h.mails[i-1].at, h.mails[i].at, "sent with the validation")
			}
		})
	}
}

func TestFranceIdentiteSkipsPolice(t *testing.T) {
	h := newHarness(t)
	h.in.DigitalIdentity = true
	h.at(time.Hour, dossier.UpdatePoliceVerification, verified, "awaiting_town_hall")
	h.at(2*time.Hour, dossier.UpdateTownHallDecision, validate, "")
	require.Equal(t, dossier.Expired, h.run())
	require.Equal(t, []dossier.MailKind{dossier.MailSubmission, dossier.MailDigitalIdentity, dossier.MailValidated, dossier.MailHolderInformed,
		dossier.MailExpired}, h.kinds())
	require.True(t, h.steps[0].Police.DigitalIdentity)
	require.Equal(t, dossier.AwaitingTownHall, h.steps[0].Status)
}

func TestFailingMailIsRetriedNotLost(t *testing.T) {
	env := newEnv()
	env.SetStartTime(t0)
	registerActivities(env)
	attempts := 0
	env.OnActivity(dossier.ActivitySendMail, mock.Anything, mock.Anything).Return(func(context.Context, dossier.Mail) (outbox.Receipt, error) {
		attempts++
		if attempts < 4 {
			return outbox.Receipt{}, errors.New("421 service not available")
		}
		return outbox.Receipt{}, nil
	})
	env.OnActivity(dossier.ActivityRecordStep, mock.Anything, mock.Anything).Return(nil)
	env.OnActivity(dossier.ActivityReleaseSlot, mock.Anything, mock.Anything).Return(nil)
	env.RegisterDelayedCallback(func() {
		env.UpdateWorkflow(dossier.UpdateCancel, "", &testsuite.TestUpdateCallback{OnAccept: func() {}, OnReject: func(error) {}, OnComplete: func(any, error) {}},
			dossier.Cancellation{Actor: grantor})
	}, day)
	env.RegisterWorkflowWithOptions((&Procurations{Policy: dossier.DefaultPolicy()}).Procuration, workflow.RegisterOptions{Name: dossier.WorkflowName})
	env.ExecuteWorkflow(dossier.WorkflowName, dossier.Start{Reference: "K7M2QX", CommuneCode: "75056", ValidUntil: t0.Add(30 * day)})
	require.NoError(t, env.GetWorkflowError())
	require.Equal(t, 5, attempts, "3 failures, then the submission and the cancellation")
}

func TestDetailsSayWhereTheDossierStandsInFrench(t *testing.T) {
	p := &procuration{flow: &flow{since: t0, last: "identité vérifiée par la police ou la gendarmerie (agent opj-1)"},
		in:     dossier.Start{Reference: "K7M2QX", CommuneCode: "75056", CommuneName: "Paris", ValidUntil: t0.Add(60 * day)},
		policy: dossier.DefaultPolicy(), status: dossier.AwaitingTownHall, remindersSent: 2, next: t0.Add(3 * day)}
	got := p.details()
	for _, want := range []string{"**K7M2QX** — mandant inscrit à Paris (75056)", "en attente de décision de la mairie, depuis le lundi 1er mars 2027 à 10 h 00",
		"la décision de la mairie de Paris (75056)", "au plus tard le vendredi 30 avril 2027 à 11 h 00", "Relances envoyées** dans ce statut : 2",
		"prochaine le jeudi 4 mars 2027 à 10 h 00", "identité vérifiée par la police"} {
		require.Contains(t, got, want)
	}
	for _, english := range []string{"waiting", "reminder", "UTC", "commune 75056"} {
		require.NotContains(t, got, english)
	}
}

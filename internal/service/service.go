// Package service is the use cases: one method per action a person takes
// (request a procuration, verify, decide, cancel, sign up, answer,
// approve...). The JSON API and the portal pages are two transports over
// these methods: authorisation and business rules live here or below,
// never in a handler. Failures are errs.Error values, with French messages.
package service

import (
	"context"
	"errors"
	"time"

	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"
	"go.uber.org/zap"

	"github.com/procurations/procuration/internal/auth"
	"github.com/procurations/procuration/internal/campaign"
	"github.com/procurations/procuration/internal/errs"
	"github.com/procurations/procuration/internal/logging"
	"github.com/procurations/procuration/internal/ratelimit"
	"github.com/procurations/procuration/internal/store"
)

// Service holds what the use cases need.
type Service struct {
	Store     *store.Store
	Temporal  client.Client
	Namespace string
	TaskQueue string
	// FingerprintKey keys the hash kept of identity document numbers.
	FingerprintKey []byte
	// MatchDossierCheck is how often a match reads its linked dossier.
	MatchDossierCheck time.Duration
	// RematchDelay gathers requesters back at the head of the line into one run.
	RematchDelay time.Duration
	// UnmatchedNotice is how long before each round a campaign tells its
	// requesters still without a volunteer; 0: campaign.DefaultUnmatchedNotice.
	UnmatchedNotice time.Duration
	// SignupsPerAddress and SignupsPerEmail bound sign-up attempts per hour.
	SignupsPerAddress, SignupsPerEmail int
	Log                                *zap.Logger
	Now                                func() time.Time

	// Limits are the rate limits every replica shares.
	Limits *ratelimit.Limiter
	limits *ratelimit.Limiter

	communes  *communeIndex
	elections *electionCache
}

// New fills the defaults.
func New(s Service) *Service {
	if s.Now == nil {
		s.Now = time.Now
	}
	if s.Log == nil {
		s.Log = zap.NewNop()
	}
	if s.UnmatchedNotice <= 0 {
		s.UnmatchedNotice = campaign.DefaultUnmatchedNotice
	}
	s.communes, s.elections = &communeIndex{}, &electionCache{}
	s.limits = s.Limits
	if s.limits == nil {
		s.limits = ratelimit.New(s.Store.Pool())
	}
	return &s
}

// updateTimeout bounds a portal action waiting for a worker: without one the
// caller gets 503 rather than a hung request, and a retry meets the
// workflow's validator, never a double step.
const updateTimeout = 30 * time.Second

// infra turns what the store or Temporal said into a use case failure:
// unavailable when a dependency is away, internal otherwise.
func (s *Service) infra(ctx context.Context, err error) error {
	if err == nil {
		return nil
	}
	if _, ok := errs.As(err); ok {
		return err
	}
	if errs.Unreachable(err) {
		return errs.ServiceUnavailable(err)
	}
	logging.Ctx(ctx, s.Log).Error("use case failed", zap.Error(err))
	return &errs.Error{Kind: errs.KindInternal, Message: "Erreur interne.", Err: err}
}

// notFoundOr maps the store's not-found to the given answer.
func (s *Service) notFoundOr(ctx context.Context, err error, answer *errs.Error) error {
	if errors.Is(err, store.ErrNotFound) {
		return answer
	}
	return s.infra(ctx, err)
}

// requireRole refuses anyone without one of the roles.
func requireRole(who auth.Claims, roles ...string) error {
	if who.Identity() == "" {
		return errs.Unauthenticated("Authentification requise.")
	}
	for _, r := range roles {
		if who.Role == r {
			return nil
		}
	}
	return errs.Forbidden("Votre rôle ne permet pas cette action.")
}

func (s *Service) audit(ctx context.Context, a store.Audit) error {
	return s.infra(ctx, s.Store.Audit(ctx, a))
}

// Health says whether the dependencies answer.
type Health struct {
	Postgres bool
	Temporal bool
	// Pollers is how many workers poll the task queue for workflow tasks
	// and for activity tasks; -1 when unknown.
	WorkflowPollers, ActivityPollers int
}

// Ready reports whether the API can serve and workers run the dossiers.
func (h Health) Ready() bool {
	return h.Postgres && h.Temporal && h.WorkflowPollers > 0 && h.ActivityPollers > 0
}

// runUpdate sends a portal action to a workflow and waits for its result.
// When the server gives up waiting or aborts the update (a worker died and
// its replacement is taking over), the same update is sent again under the
// same id, so that it runs once, until ctx's deadline.
func (s *Service) runUpdate(ctx context.Context, workflowID, name string, arg, result any) error {
	id := "u-" + newID("x")[2:]
	for {
		handle, err := s.Temporal.UpdateWorkflow(ctx, client.UpdateWorkflowOptions{WorkflowID: workflowID, UpdateName: name, UpdateID: id,
			Args: []any{arg}, WaitForStage: client.WorkflowUpdateStageCompleted})
		if err == nil {
			err = handle.Get(ctx, result)
		}
		if !updateInterrupted(err) || ctx.Err() != nil {
			return err
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// updateInterrupted recognises an update the server did not see through
// but that a retry under the same id completes: the wait timed out, or the
// server aborted it while the workflow changed workers.
func updateInterrupted(err error) bool {
	var (
		waiting     *client.WorkflowUpdateServiceTimeoutOrCanceledError
		unavailable *serviceerror.Unavailable
		aborted     *serviceerror.Aborted
		exhausted   *serviceerror.ResourceExhausted
		deadline    *serviceerror.DeadlineExceeded
	)
	return errors.As(err, &waiting) || errors.As(err, &unavailable) || errors.As(err, &aborted) ||
		errors.As(err, &exhausted) || errors.As(err, &deadline)
}

type clientKey struct{}

// WithClient records the caller's network address, as the transport found
// it behind the trusted proxies, for the rate limits of the use cases.
func WithClient(ctx context.Context, addr string) context.Context {
	return context.WithValue(ctx, clientKey{}, addr)
}

// Client is the caller's network address WithClient recorded.
func Client(ctx context.Context) string {
	addr, _ := ctx.Value(clientKey{}).(string)
	return addr
}

package service

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/converter"

	"github.com/procurations/procuration/internal/dossier"
	"github.com/procurations/procuration/internal/match"
	"github.com/procurations/procuration/internal/store"
)

// Disagreement is a dossier or a match whose read model and workflow do
// not tell the same story, and what reconciling did about it.
type Disagreement struct {
	Kind     string // dossier or match
	ID       string
	Read     string // the read model's status
	Workflow string // the workflow's execution status, or "missing"
	Repair   string // what was done, or would be done on a dry run
	Err      error
}

func (d Disagreement) String() string {
	s := fmt.Sprintf("%s %s: read model %s, workflow %s: %s", d.Kind, d.ID, d.Read, d.Workflow, d.Repair)
	if d.Err != nil {
		s += fmt.Sprintf(" (failed: %v)", d.Err)
	}
	return s
}

// Reconciliation counts what was read and found.
type Reconciliation struct {
	Dossiers, Matches, Disagreements, Repaired, Failed int
}

// Reconcile compares every live dossier and match of the read model with
// its workflow, after a termination or a crash between a create and its
// workflow's start, and repairs them unless dryRun: a dossier whose
// workflow is missing or was stopped gets a new run that resumes where the
// read model stands; a match whose workflow was stopped ends, freeing its
// people. report receives each disagreement.
func (s *Service) Reconcile(ctx context.Context, dryRun bool, report func(Disagreement)) (Reconciliation, error) {
	var r Reconciliation
	note := func(d Disagreement) {
		r.Disagreements++
		switch {
		case d.Err != nil:
			r.Failed++
		case !strings.HasPrefix(d.Repair, "none"):
			r.Repaired++
		}
		report(d)
	}
	for after := ""; ; {
		batch, err := s.Store.LiveProcurations(ctx, after, 200)
		if err != nil {
			return r, err
		}
		if len(batch) == 0 {
			break
		}
		for _, p := range batch {
			r.Dossiers++
			if d, ok := s.reconcileDossier(ctx, p, dryRun); ok {
				note(d)
			}
		}
		after = batch[len(batch)-1].Reference
	}
	for after := ""; ; {
		batch, err := s.Store.LiveMatches(ctx, after, 200)
		if err != nil {
			return r, err
		}
		if len(batch) == 0 {
			break
		}
		for _, m := range batch {
			r.Matches++
			if d, ok := s.reconcileMatch(ctx, m, dryRun); ok {
				note(d)
			}
		}
		after = batch[len(batch)-1].ID
	}
	return r, nil
}

// execution describes a workflow: its status ("missing" when the server
// knows none) and, when running, the status it last published.
func (s *Service) execution(ctx context.Context, id string, key string) (status enums.WorkflowExecutionStatus, published string, err error) {
	d, err := s.Temporal.DescribeWorkflowExecution(ctx, id, "")
	var notFound *serviceerror.NotFound
	if errors.As(err, &notFound) {
		return enums.WORKFLOW_EXECUTION_STATUS_UNSPECIFIED, "", nil
	}
	if err != nil {
		return 0, "", err
	}
	info := d.GetWorkflowExecutionInfo()
	if p := info.GetSearchAttributes().GetIndexedFields()[key]; p != nil {
		_ = converter.GetDefaultDataConverter().FromPayload(p, &published)
	}
	return info.GetStatus(), published, nil
}

func workflowState(st enums.WorkflowExecutionStatus) string {
	if st == enums.WORKFLOW_EXECUTION_STATUS_UNSPECIFIED {
		return "missing"
	}
	return st.String()
}

func (s *Service) reconcileDossier(ctx context.Context, p store.Procuration, dryRun bool) (Disagreement, bool) {
	id := dossier.WorkflowID(p.Reference)
	st, published, err := s.execution(ctx, id, dossier.StatusAttribute.GetName())
	d := Disagreement{Kind: "dossier", ID: p.Reference, Read: string(p.Status), Workflow: workflowState(st), Err: err}
	switch {
	case err != nil:
		return d, true
	case st == enums.WORKFLOW_EXECUTION_STATUS_RUNNING:
		if published == "" || published == string(p.Status) {
			return d, false
		}
		// A step in flight: the workflow records before it publishes.
		d.Workflow += " (" + published + ")"
		d.Repair = "none: a step is being recorded; run again later"
		return d, true
	case st == enums.WORKFLOW_EXECUTION_STATUS_COMPLETED && p.Status.Final():
		return d, false
	}
	d.Repair = "workflow started again, resuming at " + string(p.Status)
	if dryRun {
		return d, true
	}
	var resume *dossier.Resume
	if p.LastSeq > 1 || st != enums.WORKFLOW_EXECUTION_STATUS_UNSPECIFIED {
		resume = &dossier.Resume{Status: p.Status, Seq: p.LastSeq, WaitingSince: p.UpdatedAt}
	}
	sc, err := s.scopeOf(ctx, p)
	if err == nil {
		var c store.Commune
		if c, err = s.Store.Commune(ctx, p.GrantorCommuneCode); err == nil {
			err = s.StartProcuration(ctx, p, sc.firstRound, c.Name, resume)
		}
	}
	if err == nil {
		err = s.Store.Audit(ctx, store.Audit{ActorSub: "reconcile", ActorRole: "support", Action: "reconcile.restart", Reference: p.Reference,
			Details: map[string]any{"workflow": d.Workflow, "status": p.Status}})
	}
	d.Err = err
	return d, true
}

func (s *Service) reconcileMatch(ctx context.Context, m store.Match, dryRun bool) (Disagreement, bool) {
	st, published, err := s.execution(ctx, match.WorkflowID(m.ID), match.StatusAttribute.GetName())
	d := Disagreement{Kind: "match", ID: m.ID, Read: string(m.Status), Workflow: workflowState(st), Err: err}
	switch {
	case err != nil:
		return d, true
	case st == enums.WORKFLOW_EXECUTION_STATUS_RUNNING:
		if published == "" || published == string(m.Status) {
			return d, false
		}
		d.Workflow += " (" + published + ")"
		d.Repair = "none: a step is being recorded; run again later"
		return d, true
	}
	d.Repair = "match ended (cancelled), its people free for the next run"
	if dryRun {
		return d, true
	}
	d.Err = s.Store.RecordMatchStep(ctx, match.Step{MatchID: m.ID, Seq: m.LastSeq + 1, Status: match.Cancelled, At: s.Now().UTC(),
		Actor: match.Actor{Sub: "reconcile", Role: "support"}, Action: "reconcile.end",
		EndReason: "incident technique : la mise en relation a été interrompue", FirstInLine: true})
	return d, true
}

// Orphans lists running dossier workflows the read model does not know.
func (s *Service) Orphans(ctx context.Context, report func(Disagreement)) (int, error) {
	n := 0
	var token []byte
	for {
		res, err := s.Temporal.ListWorkflow(ctx, &workflowservice.ListWorkflowExecutionsRequest{
			Namespace: s.Namespace, PageSize: 500, NextPageToken: token,
			Query: fmt.Sprintf("WorkflowType = '%s' AND ExecutionStatus = 'Running'", dossier.WorkflowName),
		})
		if err != nil {
			return n, err
		}
		for _, e := range res.GetExecutions() {
			id := e.GetExecution().GetWorkflowId()
			ref := id[len("procuration-"):]
			if _, err := s.Store.ProcurationStatus(ctx, ref); errors.Is(err, store.ErrNotFound) {
				n++
				report(Disagreement{Kind: "dossier", ID: ref, Read: "missing", Workflow: "RUNNING", Repair: "none: terminate it from the Web UI if it is not wanted"})
			}
		}
		if token = res.GetNextPageToken(); len(token) == 0 {
			return n, nil
		}
	}
}

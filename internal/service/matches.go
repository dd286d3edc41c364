package service

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"go.temporal.io/api/serviceerror"

	"github.com/procurations/procuration/internal/auth"
	"github.com/procurations/procuration/internal/errs"
	"github.com/procurations/procuration/internal/identity"
	"github.com/procurations/procuration/internal/match"
	"github.com/procurations/procuration/internal/matchrun"
	"github.com/procurations/procuration/internal/reference"
	"github.com/procurations/procuration/internal/store"
)

var errNoMatch = errs.NotFound("Mise en relation introuvable.")

// RunMatching computes the matches of a campaign's confirmed pool; a dry
// run touches nothing.
func (s *Service) RunMatching(ctx context.Context, who auth.Claims, campaignID string, dryRun bool) (matchrun.Result, error) {
	if _, err := s.campaignAgent(ctx, who, campaignID); err != nil {
		return matchrun.Result{}, err
	}
	res, err := s.Runner().Run(ctx, campaignID, dryRun, s.Now())
	if err != nil {
		return res, s.infra(ctx, err)
	}
	if !dryRun {
		err = s.audit(ctx, store.Audit{ActorSub: who.Identity(), ActorRole: who.Role, Action: "matching.run",
			Details: map[string]any{"campaign": campaignID, "proposed": len(res.Proposals)}})
	}
	return res, err
}

// Runner runs the campaigns' matching, for the API and the worker alike.
func (s *Service) Runner() *matchrun.Runner {
	return &matchrun.Runner{Store: s.Store, Temporal: s.Temporal, TaskQueue: s.TaskQueue, DossierCheckEvery: s.MatchDossierCheck,
		RematchDelay: s.RematchDelay}
}

// Matches pages through a campaign's matches (back office).
func (s *Service) Matches(ctx context.Context, who auth.Claims, campaignID string, f store.MatchFilter) ([]store.Match, string, error) {
	if _, err := s.campaignAgent(ctx, who, campaignID); err != nil {
		return nil, "", err
	}
	items, next, err := s.Store.Matches(ctx, campaignID, f)
	if errors.Is(err, store.ErrBadCursor) {
		return nil, "", errs.InvalidField("query.cursor", "curseur invalide")
	}
	return items, next, s.infra(ctx, err)
}

// Figures are a campaign's counts (back office).
func (s *Service) Figures(ctx context.Context, who auth.Claims, campaignID string) (store.Figures, error) {
	if _, err := s.campaignAgent(ctx, who, campaignID); err != nil {
		return store.Figures{}, err
	}
	f, err := s.Store.Figures(ctx, campaignID)
	return f, s.infra(ctx, err)
}

// loadMatch reads a match the caller may see: its two parties, the
// campaign's back office, support. Anyone else gets 404.
func (s *Service) loadMatch(ctx context.Context, who auth.Claims, id string) (store.Match, string, error) {
	if who.Identity() == "" {
		return store.Match{}, "", errs.Unauthenticated("Authentification requise.")
	}
	if !strings.HasPrefix(id, "m-") || len(id) > 40 {
		return store.Match{}, "", errNoMatch
	}
	m, err := s.Store.Match(ctx, id)
	if err != nil {
		return m, "", s.notFoundOr(ctx, err, errNoMatch)
	}
	party := ""
	switch {
	case who.Role == auth.RoleRequester && who.Subject == m.RequestID:
		party = match.Requester
	case who.Role == auth.RoleVolunteer && who.Subject == m.VolunteerID:
		party = match.Volunteer
	}
	if party != "" {
		// A link opens one match: the offer's, or the match page's.
		if !who.Allows(auth.PurposeAnswerOffer, m.ID) && !who.Allows(auth.PurposeMatch, m.ID) {
			return m, "", errs.Forbidden("Ce lien ne concerne pas cette mise en relation.")
		}
		return m, party, nil
	}
	switch {
	case who.Role == auth.RoleBackOffice && who.RunsCampaign(m.CampaignID), who.Role == auth.RoleSupport:
		return m, "", nil
	}
	return m, "", errNoMatch
}

// Match is a match as either party, its back office or support read it.
func (s *Service) Match(ctx context.Context, who auth.Claims, id string) (store.Match, error) {
	m, _, err := s.loadMatch(ctx, who, id)
	return m, err
}

// ApproveMatch is the back office's approval or rejection of a proposal.
func (s *Service) ApproveMatch(ctx context.Context, who auth.Claims, id, outcome string) (store.Match, error) {
	if err := requireRole(who, auth.RoleBackOffice, auth.RoleSupport); err != nil {
		return store.Match{}, err
	}
	if outcome != "approved" && outcome != "rejected" {
		return store.Match{}, errs.InvalidField("outcome", "approved ou rejected attendu")
	}
	m, _, err := s.loadMatch(ctx, who, id)
	if err != nil {
		return m, err
	}
	return s.updateMatch(ctx, m, match.UpdateApproval, match.Approval{Actor: matchActor(who), Outcome: outcome})
}

// BulkResult is one match of a bulk approval.
type BulkResult struct {
	ID     string
	Status match.Status
	Error  string
}

// ApproveMatches approves or rejects several of a campaign's proposals.
func (s *Service) ApproveMatches(ctx context.Context, who auth.Claims, campaignID string, ids []string, outcome string) ([]BulkResult, error) {
	if _, err := s.campaignAgent(ctx, who, campaignID); err != nil {
		return nil, err
	}
	if outcome != "approved" && outcome != "rejected" {
		return nil, errs.InvalidField("outcome", "approved ou rejected attendu")
	}
	var out []BulkResult
	for _, id := range ids {
		r := BulkResult{ID: id}
		m, _, err := s.loadMatch(ctx, who, id)
		if err == nil && m.CampaignID != campaignID {
			err = errNoMatch
		}
		if err == nil {
			m, err = s.updateMatch(ctx, m, match.UpdateApproval, match.Approval{Actor: matchActor(who), Outcome: outcome})
			r.Status = m.Status
		}
		if e, ok := errs.As(err); ok {
			r.Error = e.Message
		} else if err != nil {
			r.Error = "Erreur interne."
		}
		out = append(out, r)
	}
	return out, nil
}

// AnswerMatch is a party's acceptance or refusal of an offer.
func (s *Service) AnswerMatch(ctx context.Context, who auth.Claims, id, outcome string) (store.Match, error) {
	if who.Role != auth.RoleRequester && who.Role != auth.RoleVolunteer {
		return store.Match{}, errs.Forbidden("Seules les deux personnes mises en relation répondent.")
	}
	if outcome != "accepted" && outcome != "declined" {
		return store.Match{}, errs.InvalidField("outcome", "accepted ou declined attendu")
	}
	m, party, err := s.loadMatch(ctx, who, id)
	if err != nil {
		return m, err
	}
	return s.updateMatch(ctx, m, match.UpdateAnswer, match.Answer{Actor: matchActor(who), Party: party, Outcome: outcome})
}

// LinkDossier is the requester's link from the match to their official dossier.
func (s *Service) LinkDossier(ctx context.Context, who auth.Claims, id, ref string) (store.Match, error) {
	if err := requireRole(who, auth.RoleRequester); err != nil {
		return store.Match{}, err
	}
	m, _, err := s.loadMatch(ctx, who, id)
	if err != nil {
		return m, err
	}
	if !who.Allows(auth.PurposeMatch, m.ID) {
		return m, errs.Forbidden("Ce lien ne permet pas d'indiquer la procuration ; utilisez celui de la page de votre mise en relation.")
	}
	ref = reference.Normalize(ref)
	if !reference.Valid(ref) {
		return m, errs.InvalidField("reference", "référence de dossier attendue : 6 caractères")
	}
	if err := s.dossierOfTheMatch(ctx, m, ref); err != nil {
		return m, err
	}
	return s.updateMatch(ctx, m, match.UpdateLink, match.Link{Actor: matchActor(who), Reference: ref})
}

// dossierOfTheMatch refuses a dossier that does not give this requester's
// vote to this volunteer: a stranger's dossier would complete the match.
// The answer is the same whether the dossier exists or not, and says
// nothing of its status.
func (s *Service) dossierOfTheMatch(ctx context.Context, m store.Match, ref string) error {
	refused := errs.InvalidField("reference", "cette procuration ne donne pas le vote du demandeur à la personne de cette mise en relation")
	p, err := s.Store.Procuration(ctx, ref)
	if errors.Is(err, store.ErrNotFound) {
		return refused
	}
	if err != nil {
		return s.infra(ctx, err)
	}
	requester, err := s.Store.Signup(ctx, m.RequestID)
	if err != nil {
		return s.infra(ctx, err)
	}
	volunteer, err := s.Store.Signup(ctx, m.VolunteerID)
	if err != nil {
		return s.infra(ctx, err)
	}
	grantorBirth := ""
	if p.GrantorBirthDate != nil {
		grantorBirth = p.GrantorBirthDate.Format(time.DateOnly)
	}
	if !samePerson(requester, p.GrantorNNE, p.GrantorFamilyName, p.GrantorGivenNames, grantorBirth) ||
		!samePerson(volunteer, p.ProxyNNE, p.ProxyFamilyName, p.ProxyGivenNames, p.ProxyBirthDate.Format(time.DateOnly)) {
		return refused
	}
	return nil
}

// samePerson compares a sign-up with a party of a dossier: by voter number
// when the sign-up has one, by names and birth date otherwise.
func samePerson(su store.Signup, nne, family, given, birth string) bool {
	if su.NNE != "" {
		return su.NNE == nne
	}
	return identity.Mismatch(identity.Person{FamilyName: su.FamilyName, GivenNames: su.GivenNames, BirthDate: su.BirthDate.Format(time.DateOnly)},
		identity.Person{FamilyName: family, GivenNames: given, BirthDate: birth}) == ""
}

func (s *Service) updateMatch(ctx context.Context, m store.Match, name string, arg any) (store.Match, error) {
	if m.Status.Final() {
		return m, matchWrongState(m.Status)
	}
	ctx, cancel := context.WithTimeout(ctx, updateTimeout)
	defer cancel()
	var err error
	if !m.OfferStarted {
		err = s.Runner().StartOffer(ctx, m)
	}
	if err == nil {
		err = s.runUpdate(ctx, match.WorkflowID(m.ID), name, arg, nil)
	}
	var notFound *serviceerror.NotFound
	if _, wrong := match.IsWrongState(err); wrong || errors.As(err, &notFound) {
		if fresh, ferr := s.Store.Match(context.WithoutCancel(ctx), m.ID); ferr == nil {
			m = fresh
		}
		return m, matchWrongState(m.Status)
	}
	if errors.Is(err, context.DeadlineExceeded) || errs.Unreachable(err) {
		return m, errs.ServiceUnavailable(err)
	}
	if err != nil {
		return m, s.infra(ctx, err)
	}
	fresh, err := s.Store.Match(context.WithoutCancel(ctx), m.ID)
	return fresh, s.infra(ctx, err)
}

func matchWrongState(st match.Status) error {
	return errs.ConflictIn(fmt.Sprintf("Action impossible : la mise en relation est %s.", st.French()), string(st))
}

func matchActor(c auth.Claims) match.Actor { return match.Actor{Sub: c.Identity(), Role: c.Role} }

package api

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/danielgtaylor/huma/v2"
	"go.temporal.io/sdk/client"

	"github.com/procurations/procuration/internal/auth"
	"github.com/procurations/procuration/internal/match"
	"github.com/procurations/procuration/internal/reference"
	"github.com/procurations/procuration/internal/store"
)

// MatchView is the contract's Match.
type MatchView struct {
	ID                   string        `json:"id"`
	Campaign             string        `json:"campaign"`
	Status               string        `json:"status" enum:"proposed,awaiting_answer,accepted,procuration_linked,completed,declined,expired,rejected,cancelled"`
	RequestID            string        `json:"request_id"`
	VolunteerID          string        `json:"volunteer_id"`
	Tier                 int           `json:"tier"`
	Rounds               []int         `json:"rounds"`
	OfferedAt            *time.Time    `json:"offered_at,omitempty"`
	AnswerDeadline       *time.Time    `json:"answer_deadline,omitempty"`
	ProcurationReference *string       `json:"procuration_reference,omitempty"`
	EndReason            *string       `json:"end_reason,omitempty"`
	History              []HistoryView `json:"history"`
}

func matchView(m store.Match) MatchView {
	v := MatchView{ID: m.ID, Campaign: m.CampaignID, Status: string(m.Status), RequestID: m.RequestID, VolunteerID: m.VolunteerID,
		Tier: int(m.Tier), OfferedAt: m.OfferedAt, AnswerDeadline: m.AnswerDeadline, ProcurationReference: m.ProcurationReference,
		EndReason: m.EndReason, History: []HistoryView{}}
	for _, r := range m.Rounds {
		v.Rounds = append(v.Rounds, int(r))
	}
	for _, h := range m.History {
		v.History = append(v.History, HistoryView{At: h.At, Status: string(h.Status), Actor: h.Actor})
	}
	return v
}

type matchOutput struct{ Body MatchView }

type matchPath struct {
	ID string `path:"id"`
}

type matchListInput struct {
	Campaign    string `path:"campaign"`
	Status      string `query:"status" enum:"proposed,awaiting_answer,accepted,procuration_linked,completed,declined,expired,rejected,cancelled" required:"false"`
	Commune     string `query:"commune" doc:"the requester's commune (INSEE code)"`
	Departement string `query:"departement"`
	Limit       int    `query:"limit" minimum:"1" maximum:"1000" default:"200"`
}

type matchListOutput struct {
	Body struct {
		Items []MatchView `json:"items"`
	}
}

type figuresOutput struct{ Body store.Figures }

type approvalInput struct {
	ID   string `path:"id"`
	Body struct {
		Outcome string `json:"outcome" enum:"approved,rejected"`
	}
}

type bulkApprovalInput struct {
	Campaign string `path:"campaign"`
	Body     struct {
		IDs     []string `json:"ids" minItems:"1" maxItems:"1000"`
		Outcome string   `json:"outcome" enum:"approved,rejected"`
	}
}

type bulkResult struct {
	ID     string `json:"id"`
	Status string `json:"status,omitempty"`
	Error  string `json:"error,omitempty"`
}

type bulkApprovalOutput struct {
	Body struct {
		Results []bulkResult `json:"results"`
	}
}

type answerInput struct {
	ID   string `path:"id"`
	Body struct {
		Outcome string `json:"outcome" enum:"accepted,declined"`
	}
}

type answerLinkInput struct {
	ID      string `path:"id"`
	Token   string `query:"token"`
	Outcome string `query:"outcome" enum:"accepted,declined"`
}

type linkInput struct {
	ID   string `path:"id"`
	Body struct {
		Reference string `json:"reference" doc:"the official dossier's 6-character reference"`
	}
}

func (h *handlers) registerMatches(api huma.API) {
	tags := []string{"Matching"}
	huma.Register(api, huma.Operation{OperationID: "list-matches", Method: http.MethodGet, Path: "/v1/campaigns/{campaign}/matches",
		Tags: tags, Summary: "A campaign's matches, by status, commune, département (back office)", Security: secured}, h.listMatches)
	huma.Register(api, huma.Operation{OperationID: "campaign-figures", Method: http.MethodGet, Path: "/v1/campaigns/{campaign}/figures",
		Tags: tags, Summary: "Sign-ups and matches by status and département (back office)", Security: secured}, h.figures)
	huma.Register(api, huma.Operation{OperationID: "approve-matches", Method: http.MethodPost, Path: "/v1/campaigns/{campaign}/matches/approvals",
		Tags: tags, Summary: "Approve or reject matches in bulk (back office)", Security: secured}, h.bulkApprove)
	huma.Register(api, huma.Operation{OperationID: "get-match", Method: http.MethodGet, Path: "/v1/matches/{id}",
		Tags: tags, Summary: "A match (either party, back office)", Security: secured, Errors: []int{401, 403, 404}}, h.getMatch)
	huma.Register(api, huma.Operation{OperationID: "approve-match", Method: http.MethodPost, Path: "/v1/matches/{id}/approval",
		Tags: tags, Summary: "Approve or reject a match (back office)", Security: secured, Errors: []int{401, 403, 404, 409}}, h.approve)
	huma.Register(api, huma.Operation{OperationID: "answer-match", Method: http.MethodPost, Path: "/v1/matches/{id}/answer",
		Tags: tags, Summary: "Accept or decline (the requester or the volunteer)", Security: secured, Errors: []int{401, 403, 404, 409}}, h.answer)
	huma.Register(api, huma.Operation{OperationID: "answer-match-link", Method: http.MethodPost, Path: "/v1/matches/{id}/answer-link",
		Tags: tags, Summary: "Accept or decline with the token of the offer email's link (no header)", Errors: []int{401, 404, 409}}, h.answerLink)
	huma.Register(api, huma.Operation{OperationID: "link-procuration", Method: http.MethodPost, Path: "/v1/matches/{id}/procuration",
		Tags: tags, Summary: "Link the official dossier (the requester)", Security: secured, Errors: []int{401, 403, 404, 409, 422}}, h.linkProcuration)
}

func (h *handlers) listMatches(ctx context.Context, in *matchListInput) (*matchListOutput, error) {
	if _, err := h.campaignAgent(ctx, in.Campaign); err != nil {
		return nil, err
	}
	items, err := h.Store.Matches(ctx, in.Campaign, store.MatchFilter{Status: in.Status, Commune: in.Commune, Departement: in.Departement, Limit: in.Limit})
	if err != nil {
		return nil, h.mapError(ctx, err, "")
	}
	out := &matchListOutput{}
	out.Body.Items = []MatchView{}
	for _, m := range items {
		out.Body.Items = append(out.Body.Items, matchView(m))
	}
	return out, nil
}

func (h *handlers) figures(ctx context.Context, in *struct {
	Campaign string `path:"campaign"`
}) (*figuresOutput, error) {
	if _, err := h.campaignAgent(ctx, in.Campaign); err != nil {
		return nil, err
	}
	f, err := h.Store.Figures(ctx, in.Campaign)
	if err != nil {
		return nil, h.mapError(ctx, err, "")
	}
	return &figuresOutput{Body: f}, nil
}

// loadMatch reads a match the caller may see: its two parties, the
// campaign's back office, support. Anyone else gets 404.
func (h *handlers) loadMatch(ctx context.Context, c auth.Claims, id string) (store.Match, string, error) {
	m, err := h.Store.Match(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return m, "", huma.Error404NotFound("Mise en relation introuvable.")
	}
	if err != nil {
		return m, "", h.mapError(ctx, err, "")
	}
	switch {
	case c.Role == auth.RoleRequester && c.Subject == m.RequestID:
		return m, match.Requester, nil
	case c.Role == auth.RoleVolunteer && c.Subject == m.VolunteerID:
		return m, match.Volunteer, nil
	case c.Role == auth.RoleBackOffice && c.RunsCampaign(m.CampaignID), c.Role == auth.RoleSupport:
		return m, "", nil
	}
	return m, "", huma.Error404NotFound("Mise en relation introuvable.")
}

func (h *handlers) getMatch(ctx context.Context, in *matchPath) (*matchOutput, error) {
	m, _, err := h.loadMatch(ctx, claimsFrom(ctx), in.ID)
	if err != nil {
		return nil, err
	}
	return &matchOutput{Body: matchView(m)}, nil
}

func (h *handlers) approve(ctx context.Context, in *approvalInput) (*matchOutput, error) {
	c, err := requireRole(ctx, auth.RoleBackOffice, auth.RoleSupport)
	if err != nil {
		return nil, err
	}
	m, _, err := h.loadMatch(ctx, c, in.ID)
	if err != nil {
		return nil, err
	}
	return h.updateMatch(ctx, m, match.UpdateApproval, match.Approval{Actor: match.Actor{Sub: c.Subject, Role: c.Role}, Outcome: in.Body.Outcome})
}

func (h *handlers) bulkApprove(ctx context.Context, in *bulkApprovalInput) (*bulkApprovalOutput, error) {
	c, err := h.campaignAgent(ctx, in.Campaign)
	if err != nil {
		return nil, err
	}
	out := &bulkApprovalOutput{}
	for _, id := range in.Body.IDs {
		r := bulkResult{ID: id}
		m, _, err := h.loadMatch(ctx, c, id)
		if err == nil && m.CampaignID != in.Campaign {
			err = huma.Error404NotFound("Mise en relation introuvable.")
		}
		if err == nil {
			var res *matchOutput
			res, err = h.updateMatch(ctx, m, match.UpdateApproval, match.Approval{Actor: match.Actor{Sub: c.Subject, Role: c.Role}, Outcome: in.Body.Outcome})
			if err == nil {
				r.Status = res.Body.Status
			}
		}
		if err != nil {
			var se huma.StatusError
			if errors.As(err, &se) {
				r.Error = se.Error()
			} else {
				r.Error = "erreur interne"
			}
		}
		out.Body.Results = append(out.Body.Results, r)
	}
	return out, nil
}

func (h *handlers) answer(ctx context.Context, in *answerInput) (*matchOutput, error) {
	return h.answerAs(ctx, claimsFrom(ctx), in.ID, in.Body.Outcome)
}

// answerLink is the offer email's link: the token in the query is checked
// exactly as a bearer token would be.
func (h *handlers) answerLink(ctx context.Context, in *answerLinkInput) (*matchOutput, error) {
	c, err := h.Verifier.Verify(ctx, in.Token)
	if err != nil {
		return nil, huma.Error401Unauthorized("Lien invalide ou expiré.")
	}
	return h.answerAs(ctx, c, in.ID, in.Outcome)
}

func (h *handlers) answerAs(ctx context.Context, c auth.Claims, id, outcome string) (*matchOutput, error) {
	if c.Role != auth.RoleRequester && c.Role != auth.RoleVolunteer {
		return nil, huma.Error403Forbidden("Seules les deux personnes mises en relation répondent.")
	}
	m, party, err := h.loadMatch(ctx, c, id)
	if err != nil {
		return nil, err
	}
	return h.updateMatch(ctx, m, match.UpdateAnswer, match.Answer{Actor: match.Actor{Sub: c.Subject, Role: c.Role}, Party: party, Outcome: outcome})
}

func (h *handlers) linkProcuration(ctx context.Context, in *linkInput) (*matchOutput, error) {
	c, err := requireRole(ctx, auth.RoleRequester)
	if err != nil {
		return nil, err
	}
	m, _, err := h.loadMatch(ctx, c, in.ID)
	if err != nil {
		return nil, err
	}
	ref := reference.Normalize(in.Body.Reference)
	if !reference.Valid(ref) {
		var fe fieldErrors
		fe.add("body.reference", "référence de dossier attendue : 6 caractères", in.Body.Reference)
		return nil, fe.err()
	}
	return h.updateMatch(ctx, m, match.UpdateLink, match.Link{Actor: match.Actor{Sub: c.Subject, Role: c.Role}, Reference: ref})
}

func (h *handlers) updateMatch(ctx context.Context, m store.Match, name string, arg any) (*matchOutput, error) {
	if m.Status.Final() {
		return nil, matchWrongStateError(m.Status)
	}
	ctx, cancel := context.WithTimeout(ctx, updateTimeout)
	defer cancel()
	handle, err := h.Temporal.UpdateWorkflow(ctx, client.UpdateWorkflowOptions{WorkflowID: match.WorkflowID(m.ID), UpdateName: name,
		Args: []any{arg}, WaitForStage: client.WorkflowUpdateStageCompleted})
	if err == nil {
		err = handle.Get(ctx, nil)
	}
	if err != nil {
		if _, ok := match.IsWrongState(err); ok {
			fresh, ferr := h.Store.Match(ctx, m.ID)
			if ferr == nil {
				m = fresh
			}
			return nil, matchWrongStateError(m.Status)
		}
		return nil, h.mapError(ctx, err, "")
	}
	fresh, err := h.Store.Match(ctx, m.ID)
	if err != nil {
		return nil, h.mapError(ctx, err, "")
	}
	return &matchOutput{Body: matchView(fresh)}, nil
}

func matchWrongStateError(s match.Status) error {
	return huma.Error409Conflict("Action impossible : la mise en relation est au statut " + string(s) + ".")
}

// SignupView is a sign-up as the back office sees it.
type SignupView struct {
	ID             string    `json:"id"`
	Status         string    `json:"status"`
	GivenNames     string    `json:"given_names"`
	FamilyName     string    `json:"family_name"`
	BirthDate      string    `json:"birth_date" format:"date"`
	Email          string    `json:"email"`
	Phone          string    `json:"phone,omitempty"`
	NNE            string    `json:"nne,omitempty"`
	CommuneCode    string    `json:"commune_code"`
	PollingStation string    `json:"polling_station,omitempty"`
	Rounds         []int     `json:"rounds"`
	CreatedAt      time.Time `json:"created_at"`
}

type signupListInput struct {
	Campaign    string `path:"campaign"`
	Status      string `query:"status" enum:"unconfirmed,pool,withdrawn,deleted" required:"false"`
	Commune     string `query:"commune"`
	Departement string `query:"departement"`
	Limit       int    `query:"limit" minimum:"1" maximum:"1000" default:"200"`
}

type signupListOutput struct {
	Body struct {
		Items []SignupView `json:"items"`
	}
}

func (h *handlers) registerSignupLists(api huma.API) {
	for _, side := range []string{store.SideRequest, store.SideVolunteer} {
		huma.Register(api, huma.Operation{OperationID: "list-" + side + "s", Method: http.MethodGet,
			Path: "/v1/campaigns/{campaign}/" + side + "s", Tags: []string{"Matching"}, Security: secured,
			Summary: "A campaign's " + side + "s, by status, commune, département (back office)"},
			func(ctx context.Context, in *signupListInput) (*signupListOutput, error) {
				if _, err := h.campaignAgent(ctx, in.Campaign); err != nil {
					return nil, err
				}
				items, err := h.Store.Signups(ctx, in.Campaign, store.SignupFilter{Side: side, Status: in.Status, Commune: in.Commune,
					Departement: in.Departement, Limit: in.Limit})
				if err != nil {
					return nil, h.mapError(ctx, err, "")
				}
				out := &signupListOutput{}
				out.Body.Items = []SignupView{}
				for _, su := range items {
					v := SignupView{ID: su.ID, Status: su.Status, GivenNames: su.GivenNames, FamilyName: su.FamilyName,
						BirthDate: su.BirthDate.Format(time.DateOnly), Email: su.Email, Phone: su.Phone, NNE: su.NNE,
						CommuneCode: su.CommuneCode, PollingStation: su.PollingStation, CreatedAt: su.CreatedAt}
					for _, r := range su.Rounds {
						v.Rounds = append(v.Rounds, int(r))
					}
					out.Body.Items = append(out.Body.Items, v)
				}
				return out, nil
			})
	}
}

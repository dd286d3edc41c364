package api

import (
	"context"
	"net/http"
	"net/url"
	"time"

	"github.com/danielgtaylor/huma/v2"

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
	return MatchView{ID: m.ID, Campaign: m.CampaignID, Status: string(m.Status), RequestID: m.RequestID, VolunteerID: m.VolunteerID,
		Tier: int(m.Tier), Rounds: ints(m.Rounds), OfferedAt: m.OfferedAt, AnswerDeadline: m.AnswerDeadline,
		ProcurationReference: m.ProcurationReference, EndReason: m.EndReason, History: history(m.History)}
}

type matchOutput struct{ Body MatchView }

type matchPath struct {
	ID string `path:"id" maxLength:"40"`
}

type matchListInput struct {
	Campaign    string `path:"campaign" maxLength:"63"`
	Status      string `query:"status" enum:"proposed,awaiting_answer,accepted,procuration_linked,completed,declined,expired,rejected,cancelled" required:"false"`
	Commune     string `query:"commune" maxLength:"5" doc:"the requester's commune (INSEE code)"`
	Departement string `query:"departement" maxLength:"3"`
	Cursor      string `query:"cursor" maxLength:"200" doc:"next_cursor of the previous page"`
	Limit       int    `query:"limit" minimum:"1" maximum:"1000" default:"200"`
}

type matchListOutput struct {
	Body struct {
		Items      []MatchView `json:"items"`
		NextCursor string      `json:"next_cursor,omitempty" doc:"pass it back as cursor for the next page"`
	}
}

type approvalInput struct {
	ID   string `path:"id" maxLength:"40"`
	Body struct {
		Outcome string `json:"outcome" enum:"approved,rejected"`
	}
}

type bulkApprovalInput struct {
	Campaign string `path:"campaign" maxLength:"63"`
	Body     struct {
		IDs     []string `json:"ids,omitempty" maxItems:"5000" doc:"the proposals to approve or reject; leave out with all"`
		All     bool     `json:"all,omitempty" doc:"every proposal of the campaign still waiting for the back office"`
		Outcome string   `json:"outcome" enum:"approved,rejected"`
	}
}

type proposeInput struct {
	Campaign string `path:"campaign" maxLength:"63"`
	Body     struct {
		RequestID   string `json:"request_id" maxLength:"40" doc:"a confirmed request with rounds still to match"`
		VolunteerID string `json:"volunteer_id" maxLength:"40" doc:"a confirmed volunteer in reach, free for one of those rounds"`
	}
}

type createdMatchOutput struct {
	Location string `header:"Location"`
	Body     MatchView
}

type bulkJobOutput struct {
	Location string `header:"Location"`
	Body     struct {
		Job string `json:"job" doc:"the background job's id, to read its progress"`
	}
}

type bulkJobInput struct {
	Campaign string `path:"campaign" maxLength:"63"`
	Job      string `path:"job" maxLength:"16"`
}

type bulkFailure struct {
	ID    string `json:"id"`
	Error string `json:"error"`
}

type bulkProgressOutput struct {
	Body struct {
		Outcome   string        `json:"outcome" enum:"approved,rejected"`
		Total     int           `json:"total"`
		Done      int           `json:"done"`
		Succeeded int           `json:"succeeded"`
		Failed    int           `json:"failed"`
		Failures  []bulkFailure `json:"failures" doc:"the first failures, with why"`
		Finished  bool          `json:"finished"`
	}
}

type answerInput struct {
	ID   string `path:"id" maxLength:"40"`
	Body struct {
		Outcome string `json:"outcome" enum:"accepted,declined"`
	}
}

type answerLinkInput struct {
	ID   string `path:"id" maxLength:"40"`
	Body struct {
		Token   string `json:"token" maxLength:"4096" doc:"the token of the offer email's link"`
		Outcome string `json:"outcome" enum:"accepted,declined"`
	}
}

type linkInput struct {
	ID   string `path:"id" maxLength:"40"`
	Body struct {
		Reference string `json:"reference" maxLength:"12" doc:"the official dossier's 6-character reference"`
	}
}

func (h *handlers) registerMatches(api huma.API) {
	tags := []string{"Matching"}
	huma.Register(api, huma.Operation{OperationID: "list-matches", Method: http.MethodGet, Path: "/v1/campaigns/{campaign}/matches",
		Tags: tags, Summary: "A campaign's matches, by status, commune, département, oldest first (back office)", Security: secured,
		Errors: errorsOf(secured, 404)},
		func(ctx context.Context, in *matchListInput) (*matchListOutput, error) {
			items, next, err := h.svc.Matches(ctx, claimsFrom(ctx), in.Campaign, store.MatchFilter{Status: in.Status, Commune: in.Commune,
				Departement: in.Departement, Cursor: in.Cursor, Limit: in.Limit})
			if err != nil {
				return nil, h.fail(ctx, err)
			}
			out := &matchListOutput{}
			out.Body.Items, out.Body.NextCursor = make([]MatchView, 0, len(items)), next
			for _, m := range items {
				out.Body.Items = append(out.Body.Items, matchView(m))
			}
			return out, nil
		})
	huma.Register(api, huma.Operation{OperationID: "propose-match", Method: http.MethodPost, Path: "/v1/campaigns/{campaign}/matches",
		Tags: tags, Summary: "Pair a requester and a volunteer by hand; its offers go at once (back office)", DefaultStatus: http.StatusCreated,
		Security: secured, Errors: errorsOf(secured, 404, 409)},
		func(ctx context.Context, in *proposeInput) (*createdMatchOutput, error) {
			m, err := h.svc.ProposeMatch(ctx, claimsFrom(ctx), in.Campaign, in.Body.RequestID, in.Body.VolunteerID)
			if err != nil {
				return nil, h.fail(ctx, err)
			}
			return &createdMatchOutput{Location: "/v1/matches/" + m.ID, Body: matchView(m)}, nil
		})
	// Thousands of workflow updates are a background job, never one request.
	huma.Register(api, huma.Operation{OperationID: "approve-matches", Method: http.MethodPost, Path: "/v1/campaigns/{campaign}/matches/approvals",
		Tags: tags, Summary: "Approve or reject matches in bulk, in the background (back office)", DefaultStatus: http.StatusAccepted,
		Security: secured, Errors: errorsOf(secured, 404)},
		func(ctx context.Context, in *bulkApprovalInput) (*bulkJobOutput, error) {
			job, err := h.svc.StartBulkApproval(ctx, claimsFrom(ctx), in.Campaign, in.Body.IDs, in.Body.All, in.Body.Outcome)
			if err != nil {
				return nil, h.fail(ctx, err)
			}
			out := &bulkJobOutput{Location: "/v1/campaigns/" + url.PathEscape(in.Campaign) + "/matches/approvals/" + job}
			out.Body.Job = job
			return out, nil
		})
	huma.Register(api, huma.Operation{OperationID: "get-match-approvals", Method: http.MethodGet, Path: "/v1/campaigns/{campaign}/matches/approvals/{job}",
		Tags: tags, Summary: "A bulk approval's progress (back office)", Security: secured, Errors: errorsOf(secured, 404)},
		func(ctx context.Context, in *bulkJobInput) (*bulkProgressOutput, error) {
			p, err := h.svc.BulkApproval(ctx, claimsFrom(ctx), in.Campaign, in.Job)
			if err != nil {
				return nil, h.fail(ctx, err)
			}
			out := &bulkProgressOutput{}
			out.Body.Outcome, out.Body.Total, out.Body.Done, out.Body.Succeeded, out.Body.Failed, out.Body.Finished =
				p.Outcome, p.Total, p.Done, p.Succeeded, p.Failed, p.Finished
			out.Body.Failures = make([]bulkFailure, 0, len(p.Failures))
			for _, f := range p.Failures {
				out.Body.Failures = append(out.Body.Failures, bulkFailure{ID: f.ID, Error: f.Error})
			}
			return out, nil
		})
	huma.Register(api, huma.Operation{OperationID: "get-match", Method: http.MethodGet, Path: "/v1/matches/{id}",
		Tags: tags, Summary: "A match (either party, back office)", Security: secured, Errors: errorsOf(secured, 404)},
		func(ctx context.Context, in *matchPath) (*matchOutput, error) {
			return h.match(ctx)(h.svc.Match(ctx, claimsFrom(ctx), in.ID))
		})
	huma.Register(api, huma.Operation{OperationID: "approve-match", Method: http.MethodPost, Path: "/v1/matches/{id}/approval",
		Tags: tags, Summary: "Approve or reject a match (back office)", Security: secured, Errors: errorsOf(secured, 404, 409)},
		func(ctx context.Context, in *approvalInput) (*matchOutput, error) {
			return h.match(ctx)(h.svc.ApproveMatch(ctx, claimsFrom(ctx), in.ID, in.Body.Outcome))
		})
	huma.Register(api, huma.Operation{OperationID: "answer-match", Method: http.MethodPost, Path: "/v1/matches/{id}/answer",
		Tags: tags, Summary: "Accept or decline (the requester or the volunteer)", Security: secured, Errors: errorsOf(secured, 404, 409)},
		func(ctx context.Context, in *answerInput) (*matchOutput, error) {
			return h.match(ctx)(h.svc.AnswerMatch(ctx, claimsFrom(ctx), in.ID, in.Body.Outcome))
		})
	huma.Register(api, huma.Operation{OperationID: "answer-match-link", Method: http.MethodPost, Path: "/v1/matches/{id}/answer-link",
		Tags: tags, Summary: "Accept or decline with the token of the offer email's link, in the body (no header)", Security: public,
		Errors: errorsOf(public, 401, 403, 404, 409)},
		func(ctx context.Context, in *answerLinkInput) (*matchOutput, error) {
			if _, err := h.answerWithLink(ctx, in.ID, in.Body.Token, in.Body.Outcome); err != nil {
				return nil, h.fail(ctx, err)
			}
			claims, _ := h.Verifier.Verify(ctx, in.Body.Token)
			return h.match(ctx)(h.svc.Match(ctx, claims, in.ID))
		})
	huma.Register(api, huma.Operation{OperationID: "link-procuration", Method: http.MethodPost, Path: "/v1/matches/{id}/procuration",
		Tags: tags, Summary: "Link the official dossier (the requester)", Security: secured, Errors: errorsOf(secured, 404, 409)},
		func(ctx context.Context, in *linkInput) (*matchOutput, error) {
			return h.match(ctx)(h.svc.LinkDossier(ctx, claimsFrom(ctx), in.ID, in.Body.Reference))
		})
}

// match answers a use case's match, or its failure, logged with
// the request's id.
func (h *handlers) match(ctx context.Context) func(store.Match, error) (*matchOutput, error) {
	return func(m store.Match, err error) (*matchOutput, error) {
		if err != nil {
			return nil, h.fail(ctx, err)
		}
		return &matchOutput{Body: matchView(m)}, nil
	}
}

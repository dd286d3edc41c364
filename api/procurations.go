package api

import (
	"context"
	"net/http"
	"time"

	"github.com/danielgtaylor/huma/v2"

	"github.com/procurations/procuration/internal/dossier"
	"github.com/procurations/procuration/internal/service"
	"github.com/procurations/procuration/internal/store"
)

// Procuration is the contract's view of a dossier.
type Procuration struct {
	Reference string        `json:"reference" example:"K7M2QX"`
	Status    string        `json:"status" enum:"awaiting_police,awaiting_town_hall,validated,invalidated,refused,cancelled,expired"`
	Grantor   GrantorView   `json:"grantor"`
	Proxy     ProxyView     `json:"proxy"`
	Validity  Validity      `json:"validity"`
	Police    *PoliceView   `json:"police,omitempty"`
	TownHall  *TownHallView `json:"town_hall,omitempty"`
	CreatedAt time.Time     `json:"created_at"`
	UpdatedAt time.Time     `json:"updated_at"`
	History   []HistoryView `json:"history"`
}

type GrantorView struct {
	NNE         string `json:"nne"`
	GivenNames  string `json:"given_names"`
	FamilyName  string `json:"family_name"`
	BirthDate   string `json:"birth_date,omitempty" format:"date"`
	CommuneCode string `json:"commune_code"`
}

type ProxyView struct {
	NNE        string `json:"nne"`
	GivenNames string `json:"given_names"`
	FamilyName string `json:"family_name"`
	BirthDate  string `json:"birth_date" format:"date"`
}

// Validity is one election (some of its rounds) or a period.
type Validity struct {
	ElectionID string `json:"election_id,omitempty" maxLength:"64" doc:"an election; with rounds"`
	Rounds     []int  `json:"rounds,omitempty" maxItems:"2" doc:"[1], [2] or [1,2]"`
	From       string `json:"from,omitempty" maxLength:"10" doc:"a period of at most a year (YYYY-MM-DD); with until"`
	Until      string `json:"until,omitempty" maxLength:"10" doc:"YYYY-MM-DD"`
}

type PoliceView struct {
	Agent           string    `json:"agent" doc:"the officer's name, or France Identité"`
	Rank            string    `json:"rank"`
	Unit            string    `json:"unit"`
	At              time.Time `json:"at"`
	Outcome         string    `json:"outcome" enum:"verified,refused"`
	Reason          string    `json:"reason,omitempty"`
	DigitalIdentity bool      `json:"digital_identity,omitempty" doc:"identity proven with France Identité: no police visit"`
}

type TownHallView struct {
	At        time.Time `json:"at"`
	Outcome   string    `json:"outcome" enum:"validated,invalidated"`
	Reason    string    `json:"reason,omitempty"`
	Automatic bool      `json:"automatic,omitempty" doc:"decided by the register's checks"`
}

type HistoryView struct {
	At     time.Time `json:"at"`
	Status string    `json:"status"`
	Actor  string    `json:"actor"`
}

func history(entries []store.HistoryEntry) []HistoryView {
	out := make([]HistoryView, 0, len(entries))
	for _, h := range entries {
		out = append(out, HistoryView{At: h.At, Status: h.Status, Actor: h.Actor})
	}
	return out
}

func view(p store.Procuration) Procuration {
	v := Procuration{
		Reference: p.Reference, Status: string(p.Status),
		Grantor:   GrantorView{NNE: p.GrantorNNE, GivenNames: p.GrantorGivenNames, FamilyName: p.GrantorFamilyName, CommuneCode: p.GrantorCommuneCode},
		Proxy:     ProxyView{NNE: p.ProxyNNE, GivenNames: p.ProxyGivenNames, FamilyName: p.ProxyFamilyName, BirthDate: p.ProxyBirthDate.Format(time.DateOnly)},
		CreatedAt: p.CreatedAt, UpdatedAt: p.UpdatedAt, History: history(p.History),
	}
	if p.GrantorBirthDate != nil {
		v.Grantor.BirthDate = p.GrantorBirthDate.Format(time.DateOnly)
	}
	if p.ElectionID != nil {
		v.Validity.ElectionID = *p.ElectionID
		for _, r := range p.Rounds {
			v.Validity.Rounds = append(v.Validity.Rounds, int(r))
		}
	} else {
		v.Validity.From, v.Validity.Until = p.ValidFrom.Format(time.DateOnly), p.ValidUntil.Format(time.DateOnly)
	}
	if pol := p.Police; pol != nil {
		v.Police = &PoliceView{Agent: pol.AgentName, Rank: pol.Rank, Unit: pol.Unit, At: pol.At, Outcome: pol.Outcome,
			Reason: pol.Reason, DigitalIdentity: pol.DigitalIdentity}
		if pol.DigitalIdentity {
			v.Police.Agent = "France Identité"
		}
	}
	if th := p.TownHall; th != nil {
		v.TownHall = &TownHallView{At: th.At, Outcome: th.Outcome, Reason: th.Reason, Automatic: th.Automatic}
	}
	return v
}

type procurationOutput struct {
	Body Procuration
}

type createInput struct {
	IdempotencyKey string `header:"Idempotency-Key" maxLength:"200" doc:"a retried create with the same key returns the same dossier, for 24 hours"`
	Body           struct {
		Grantor struct {
			NNE         string `json:"nne" maxLength:"9" doc:"voter number, 8 or 9 digits"`
			CommuneCode string `json:"commune_code" maxLength:"5" doc:"INSEE code of the commune of registration"`
			Email       string `json:"email,omitempty" maxLength:"254" doc:"defaults to the FranceConnect email"`
			Phone       string `json:"phone,omitempty" maxLength:"30"`
		} `json:"grantor"`
		Proxy struct {
			NNE       string `json:"nne" maxLength:"9" doc:"voter number, 8 or 9 digits"`
			BirthDate string `json:"birth_date" maxLength:"10" doc:"YYYY-MM-DD"`
			Email     string `json:"email,omitempty" maxLength:"254" doc:"where the holder is told, once the procuration is validated, for whom, for which rounds or period and where to vote; requires email_consent"`
			// The grantor's explicit agreement, never implied by an address.
			EmailConsent bool `json:"email_consent,omitempty" doc:"the grantor agrees that the holder be told by email at proxy.email; without it an address is refused (422)"`
		} `json:"proxy"`
		Validity Validity `json:"validity"`
	}
}

type referencePath struct {
	Reference string `path:"reference" maxLength:"12" doc:"the 6-character dossier reference" example:"K7M2QX"`
}

type verificationInput struct {
	Reference string `path:"reference" maxLength:"12" doc:"the 6-character dossier reference" example:"K7M2QX"`
	Body      struct {
		Outcome    string `json:"outcome" enum:"verified,refused"`
		IDDocument struct {
			Kind   string `json:"kind" minLength:"1" maxLength:"40" example:"cni" doc:"cni, passeport, titre_sejour, permis..."`
			Number string `json:"number,omitempty" maxLength:"40" doc:"required when verified (4 characters or more); kept only as a keyed fingerprint"`
		} `json:"id_document"`
		Reason string `json:"reason,omitempty" maxLength:"1000" doc:"required when refused"`
	}
}

type decisionInput struct {
	Reference string `path:"reference" maxLength:"12" doc:"the 6-character dossier reference" example:"K7M2QX"`
	Body      struct {
		Outcome string `json:"outcome" enum:"validated,invalidated"`
		Reason  string `json:"reason,omitempty" maxLength:"1000" doc:"required when invalidated"`
	}
}

type listInput struct {
	Code   string `path:"code" maxLength:"5" doc:"INSEE code of the commune"`
	Status string `query:"status" enum:"awaiting_police,awaiting_town_hall,validated,invalidated,refused,cancelled,expired" required:"false"`
	Cursor string `query:"cursor" maxLength:"200" doc:"next_cursor of the previous page"`
	Limit  int    `query:"limit" minimum:"1" maximum:"200" default:"50"`
}

type listOutput struct {
	Body struct {
		Items      []Procuration `json:"items"`
		NextCursor string        `json:"next_cursor,omitempty" doc:"pass it back as cursor for the next page"`
	}
}

func (h *handlers) registerProcurations(api huma.API) {
	tags := []string{"Procurations"}
	huma.Register(api, huma.Operation{
		OperationID: "create-procuration", Method: http.MethodPost, Path: "/v1/procurations", Tags: tags,
		Summary: "Ask for a procuration (grantor)", DefaultStatus: http.StatusCreated, Security: secured, Errors: errorsOf(secured),
	}, func(ctx context.Context, in *createInput) (*procurationOutput, error) {
		b := in.Body
		p, err := h.svc.RequestProcuration(ctx, claimsFrom(ctx), service.ProcurationRequest{
			GrantorNNE: b.Grantor.NNE, CommuneCode: b.Grantor.CommuneCode, Email: b.Grantor.Email, Phone: b.Grantor.Phone,
			ProxyNNE: b.Proxy.NNE, ProxyBirthDate: b.Proxy.BirthDate, ProxyEmail: b.Proxy.Email, ProxyEmailConsent: b.Proxy.EmailConsent,
			Validity: service.Validity{ElectionID: b.Validity.ElectionID, Rounds: b.Validity.Rounds, From: b.Validity.From, Until: b.Validity.Until},
		}, in.IdempotencyKey)
		return h.procuration(ctx)(p, err)
	})
	huma.Register(api, huma.Operation{
		OperationID: "get-procuration", Method: http.MethodGet, Path: "/v1/procurations/{reference}", Tags: tags,
		Summary: "Read a dossier (its grantor, police, its town hall, support)", Security: secured, Errors: errorsOf(secured, 404),
	}, func(ctx context.Context, in *referencePath) (*procurationOutput, error) {
		return h.procuration(ctx)(h.svc.Procuration(ctx, claimsFrom(ctx), in.Reference))
	})
	huma.Register(api, huma.Operation{
		OperationID: "cancel-procuration", Method: http.MethodPost, Path: "/v1/procurations/{reference}/cancel", Tags: tags,
		Summary: "Cancel (its grantor)", Security: secured, Errors: errorsOf(secured, 404, 409),
	}, func(ctx context.Context, in *referencePath) (*procurationOutput, error) {
		return h.procuration(ctx)(h.svc.CancelProcuration(ctx, claimsFrom(ctx), in.Reference))
	})
	huma.Register(api, huma.Operation{
		OperationID: "verify-procuration", Method: http.MethodPost, Path: "/v1/procurations/{reference}/police-verification", Tags: tags,
		Summary: "Police verification of the grantor's identity", Security: secured, Errors: errorsOf(secured, 404, 409),
	}, func(ctx context.Context, in *verificationInput) (*procurationOutput, error) {
		return h.procuration(ctx)(h.svc.VerifyIdentity(ctx, claimsFrom(ctx), in.Reference, service.Verification{Outcome: in.Body.Outcome,
			IDKind: in.Body.IDDocument.Kind, IDNumber: in.Body.IDDocument.Number, Reason: in.Body.Reason}))
	})
	huma.Register(api, huma.Operation{
		OperationID: "decide-procuration", Method: http.MethodPost, Path: "/v1/procurations/{reference}/town-hall-decision", Tags: tags,
		Summary: "Town hall decision", Security: secured, Errors: errorsOf(secured, 404, 409),
	}, func(ctx context.Context, in *decisionInput) (*procurationOutput, error) {
		return h.procuration(ctx)(h.svc.DecideProcuration(ctx, claimsFrom(ctx), in.Reference, service.Decision{Outcome: in.Body.Outcome, Reason: in.Body.Reason}))
	})
	huma.Register(api, huma.Operation{
		OperationID: "list-commune-procurations", Method: http.MethodGet, Path: "/v1/communes/{code}/procurations", Tags: tags,
		Summary: "A commune's dossiers, oldest first (that town hall)", Security: secured, Errors: errorsOf(secured),
	}, func(ctx context.Context, in *listInput) (*listOutput, error) {
		items, next, err := h.svc.CommuneProcurations(ctx, claimsFrom(ctx), in.Code, dossier.Status(in.Status), in.Cursor, in.Limit)
		if err != nil {
			return nil, h.fail(ctx, err)
		}
		out := &listOutput{}
		out.Body.Items, out.Body.NextCursor = make([]Procuration, 0, len(items)), next
		for _, p := range items {
			out.Body.Items = append(out.Body.Items, view(p))
		}
		return out, nil
	})
}

// procuration answers a use case's procuration, or its failure, logged with
// the request's id.
func (h *handlers) procuration(ctx context.Context) func(store.Procuration, error) (*procurationOutput, error) {
	return func(p store.Procuration, err error) (*procurationOutput, error) {
		if err != nil {
			return nil, h.fail(ctx, err)
		}
		return &procurationOutput{Body: view(p)}, nil
	}
}

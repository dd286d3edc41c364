package api

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/danielgtaylor/huma/v2"

	"github.com/procurations/procuration/internal/auth"
	"github.com/procurations/procuration/internal/store"
)

type importInput struct {
	RawBody []byte `contentType:"text/csv" doc:"header nne,family_name,given_names,sex,birth_date,commune_code,polling_station"`
}

type importOutput struct {
	Body struct {
		Imported int              `json:"imported" doc:"lines inserted or updated"`
		Rejected []store.Rejected `json:"rejected" doc:"lines not loaded, with the reason"`
	}
}

type lookupInput struct {
	Body struct {
		FamilyName  string `json:"family_name" minLength:"1"`
		GivenNames  string `json:"given_names" minLength:"1"`
		BirthDate   string `json:"birth_date" format:"date"`
		CommuneCode string `json:"commune_code" minLength:"1"`
	}
}

type lookupOutput struct {
	Body struct {
		NNE            string `json:"nne"`
		PollingStation string `json:"polling_station"`
	}
}

func (h *handlers) registerRegister(api huma.API) {
	huma.Register(api, huma.Operation{
		OperationID: "import-register", Method: http.MethodPost, Path: "/v1/register/imports", Tags: []string{"Register"},
		Summary: "Import a register extract (CSV), upserting by voter number", Security: secured,
		MaxBodyBytes: 1 << 30,
	}, func(ctx context.Context, in *importInput) (*importOutput, error) {
		c, err := requireRole(ctx, auth.RoleSupport)
		if err != nil {
			return nil, err
		}
		imported, rejected, err := h.Store.ImportRegister(ctx, bytes.NewReader(in.RawBody))
		if err != nil {
			if unavailable(err) {
				return nil, h.mapError(ctx, err, "")
			}
			var fe fieldErrors
			fe.add("body", err.Error(), nil)
			return nil, fe.err()
		}
		out := &importOutput{}
		out.Body.Imported, out.Body.Rejected = imported, rejected
		if out.Body.Rejected == nil {
			out.Body.Rejected = []store.Rejected{}
		}
		_ = h.Store.Audit(ctx, store.Audit{ActorSub: c.Subject, ActorRole: c.Role, Action: "register.import",
			Details: map[string]any{"imported": imported, "rejected": len(rejected)}})
		return out, nil
	})

	huma.Register(api, huma.Operation{
		OperationID: "lookup-voter", Method: http.MethodPost, Path: "/v1/register/lookup", Tags: []string{"Register"},
		Summary: "Find my voter number (a grantor, or a matching platform's requester or volunteer)", Security: secured,
	}, func(ctx context.Context, in *lookupInput) (*lookupOutput, error) {
		if _, err := requireRole(ctx, auth.RoleGrantor, auth.RoleRequester, auth.RoleVolunteer); err != nil {
			return nil, err
		}
		birth, err := time.Parse(time.DateOnly, in.Body.BirthDate)
		if err != nil {
			var fe fieldErrors
			fe.add("body.birth_date", "date AAAA-MM-JJ attendue", in.Body.BirthDate)
			return nil, fe.err()
		}
		v, err := h.Store.LookupVoter(ctx, in.Body.FamilyName, in.Body.GivenNames, birth, in.Body.CommuneCode)
		if errors.Is(err, store.ErrNotFound) {
			return nil, huma.Error404NotFound("Aucun électeur ne correspond à ces informations dans cette commune.")
		}
		if err != nil {
			return nil, h.mapError(ctx, err, "")
		}
		out := &lookupOutput{}
		out.Body.NNE, out.Body.PollingStation = v.NNE, v.PollingStation
		return out, nil
	})
}

type electionsOutput struct {
	Body []store.Election
}

func (h *handlers) registerElections(api huma.API) {
	huma.Register(api, huma.Operation{
		OperationID: "list-elections", Method: http.MethodGet, Path: "/v1/elections", Tags: []string{"Elections"},
		Summary: "Elections and their rounds", Security: secured,
	}, func(ctx context.Context, _ *struct{}) (*electionsOutput, error) {
		elections, err := h.Store.Elections(ctx)
		if err != nil {
			return nil, h.mapError(ctx, err, "")
		}
		if elections == nil {
			elections = []store.Election{}
		}
		return &electionsOutput{Body: elections}, nil
	})
}

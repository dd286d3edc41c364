package api

import (
	"context"
	"io"
	"net/http"

	"github.com/danielgtaylor/huma/v2"

	"github.com/procurations/procuration/internal/service"
	"github.com/procurations/procuration/internal/store"
)

// maxRegisterBytes bounds an extract: the national register is about 50
// million lines of under 100 bytes.
const maxRegisterBytes = 8 << 30

// importInput streams the extract: the body is read line by line as it is
// loaded, never held whole in memory.
type importInput struct {
	body io.Reader
}

func (i *importInput) Resolve(ctx huma.Context) []error {
	i.body = io.LimitReader(ctx.BodyReader(), maxRegisterBytes)
	return nil
}

type importOutput struct {
	Body struct {
		Imported     int              `json:"imported" doc:"lines inserted or updated"`
		Rejected     []store.Rejected `json:"rejected" doc:"lines not loaded, with the reason (the first 1,000)"`
		MoreRejected int              `json:"more_rejected,omitempty" doc:"rejected lines beyond those listed"`
	}
}

type lookupInput struct {
	Body struct {
		FamilyName  string `json:"family_name" minLength:"1" maxLength:"100"`
		GivenNames  string `json:"given_names" minLength:"1" maxLength:"100"`
		BirthDate   string `json:"birth_date" maxLength:"10" doc:"YYYY-MM-DD"`
		CommuneCode string `json:"commune_code" minLength:"1" maxLength:"5"`
	}
}

type lookupOutput struct {
	Body struct {
		NNE            string `json:"nne"`
		PollingStation string `json:"polling_station"`
		// How people name it: name, address and number where the
		// commune's list of stations has them, the number otherwise.
		PollingStationLabel string `json:"polling_station_label"`
	}
}

type electionsOutput struct {
	Body []store.Election
}

func (h *handlers) registerRegister(api huma.API) {
	huma.Register(api, huma.Operation{
		OperationID: "import-register", Method: http.MethodPost, Path: "/v1/register/imports", Tags: []string{"Register"},
		Summary: "Import a register extract (CSV), upserting by voter number, as one unit (support)", Security: secured,
		Errors: errorsOf(secured, http.StatusUnsupportedMediaType),
		RequestBody: &huma.RequestBody{Required: true, Description: "header nne,family_name,given_names,sex,birth_date,commune_code,polling_station",
			Content: map[string]*huma.MediaType{"text/csv": {Schema: &huma.Schema{Type: "string"}}}},
	}, func(ctx context.Context, in *importInput) (*importOutput, error) {
		res, err := h.svc.ImportRegister(ctx, claimsFrom(ctx), in.body)
		if err != nil {
			return nil, h.fail(ctx, err)
		}
		out := &importOutput{}
		out.Body.Imported, out.Body.Rejected, out.Body.MoreRejected = res.Imported, res.Rejected, res.MoreRejected
		if out.Body.Rejected == nil {
			out.Body.Rejected = []store.Rejected{}
		}
		return out, nil
	})

	huma.Register(api, huma.Operation{
		OperationID: "lookup-voter", Method: http.MethodPost, Path: "/v1/register/lookup", Tags: []string{"Register"},
		Summary: "Find my voter number (a grantor, or a matching platform's requester or volunteer)", Security: secured,
		Errors: errorsOf(secured, 404, 429),
	}, func(ctx context.Context, in *lookupInput) (*lookupOutput, error) {
		v, err := h.svc.LookupVoter(ctx, claimsFrom(ctx), service.Lookup{FamilyName: in.Body.FamilyName, GivenNames: in.Body.GivenNames,
			BirthDate: in.Body.BirthDate, CommuneCode: in.Body.CommuneCode}, remoteFrom(ctx))
		if err != nil {
			return nil, h.fail(ctx, err)
		}
		out := &lookupOutput{}
		out.Body.NNE, out.Body.PollingStation, out.Body.PollingStationLabel = v.NNE, v.PollingStation, v.Station().Label()
		return out, nil
	})

	huma.Register(api, huma.Operation{
		OperationID: "list-elections", Method: http.MethodGet, Path: "/v1/elections", Tags: []string{"Elections"},
		Summary: "Elections and their rounds", Security: secured, Errors: errorsOf(secured),
	}, func(ctx context.Context, _ *struct{}) (*electionsOutput, error) {
		e, err := h.svc.Elections(ctx, claimsFrom(ctx))
		if err != nil {
			return nil, h.fail(ctx, err)
		}
		return &electionsOutput{Body: e}, nil
	})
}

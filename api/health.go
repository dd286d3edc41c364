package api

import (
	"context"
	"net/http"

	"github.com/danielgtaylor/huma/v2"
)

type healthOutput struct {
	Body healthBody
}

type healthBody struct {
	Status   string `json:"status" enum:"ok,unavailable" doc:"ok when every dependency answers"`
	Postgres string `json:"postgres" enum:"ok,unavailable"`
	Temporal string `json:"temporal" enum:"ok,unavailable"`
	// Workers is set by /readyz: how many workers poll the task queue.
	WorkflowPollers *int `json:"workflow_pollers,omitempty" doc:"workers polling for workflow tasks"`
	ActivityPollers *int `json:"activity_pollers,omitempty" doc:"workers polling for activity tasks"`
}

func state(ok bool) string {
	if ok {
		return "ok"
	}
	return "unavailable"
}

func (h *handlers) registerHealth(api huma.API, mux *http.ServeMux) {
	tags := []string{"Service"}
	huma.Register(api, huma.Operation{
		OperationID: "health", Method: http.MethodGet, Path: "/healthz", Tags: tags, Security: public,
		Summary: "Whether the API can serve: 200 when PostgreSQL and Temporal answer, 503 otherwise",
		Errors:  []int{http.StatusServiceUnavailable},
	}, func(ctx context.Context, _ *struct{}) (*healthOutput, error) {
		hl := h.svc.Health(ctx, false)
		body := healthBody{Status: state(hl.Postgres && hl.Temporal), Postgres: state(hl.Postgres), Temporal: state(hl.Temporal)}
		if body.Status != "ok" {
			return nil, huma.ErrorWithHeaders(huma.Error503ServiceUnavailable("Service indisponible : postgres="+body.Postgres+
				", temporal="+body.Temporal+"."), http.Header{"Retry-After": {"5"}})
		}
		return &healthOutput{Body: body}, nil
	})
	huma.Register(api, huma.Operation{
		OperationID: "ready", Method: http.MethodGet, Path: "/readyz", Tags: tags, Security: public,
		Summary: "Whether dossiers move: 200 when PostgreSQL and Temporal answer and a worker polls the task queue, 503 otherwise",
		Errors:  []int{http.StatusServiceUnavailable},
	}, func(ctx context.Context, _ *struct{}) (*healthOutput, error) {
		hl := h.svc.Health(ctx, true)
		body := healthBody{Status: state(hl.Ready()), Postgres: state(hl.Postgres), Temporal: state(hl.Temporal),
			WorkflowPollers: &hl.WorkflowPollers, ActivityPollers: &hl.ActivityPollers}
		if !hl.Ready() {
			detail := "Service indisponible : postgres=" + body.Postgres + ", temporal=" + body.Temporal + "."
			if hl.Temporal && (hl.WorkflowPollers == 0 || hl.ActivityPollers == 0) {
				detail = "Aucun worker ne traite les dossiers : ils sont enregistrés mais n'avancent pas."
			}
			return nil, huma.ErrorWithHeaders(huma.Error503ServiceUnavailable(detail), http.Header{"Retry-After": {"5"}})
		}
		return &healthOutput{Body: body}, nil
	})
}

package api

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/danielgtaylor/huma/v2"
	"github.com/jackc/pgx/v5/pgconn"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/temporal"
	"go.uber.org/zap"

	"github.com/procurations/procuration/internal/dossier"
	"github.com/procurations/procuration/internal/store"
)

func init() {
	// Huma's own schema validation speaks English; portals show `detail`.
	english := huma.NewError
	huma.NewError = func(status int, msg string, errs ...error) huma.StatusError {
		switch msg {
		case "validation failed":
			msg = "Données invalides : voir la liste des champs en erreur."
		case "request body is required":
			msg = "Le corps de la requête est obligatoire."
		}
		return english(status, msg, errs...)
	}
}

// fieldErrors collects every bad field of a request before answering 422.
type fieldErrors []error

func (f *fieldErrors) add(location, message string, value any) {
	*f = append(*f, &huma.ErrorDetail{Location: location, Message: message, Value: value})
}

func (f fieldErrors) err() error {
	if len(f) == 0 {
		return nil
	}
	return huma.Error422UnprocessableEntity("Données invalides : voir la liste des champs en erreur.", f...)
}

func wrongStateError(s dossier.Status) error {
	return huma.Error409Conflict(fmt.Sprintf("Action impossible : la procuration est %s (statut %s).", s.French(), s))
}

// mapError turns what the store and Temporal say into the contract's codes,
// in one place. Anything unrecognised is a 500 whose detail says nothing of
// the data.
func (h *handlers) mapError(ctx context.Context, err error, status dossier.Status) error {
	var statusErr huma.StatusError
	if errors.As(err, &statusErr) {
		return err
	}
	if s, ok := dossier.IsWrongState(err); ok {
		if s == "" {
			s = status
		}
		return wrongStateError(s)
	}
	var app *temporal.ApplicationError
	if errors.As(err, &app) && app.Type() == dossier.ErrCapReached {
		return huma.Error409Conflict("Validation impossible : " + app.Message() + ".")
	}
	var notFound *serviceerror.NotFound
	if errors.As(err, &notFound) {
		// The dossier exists (its read model was found) but its workflow has
		// ended: the status in the read model is final.
		if status != "" {
			return wrongStateError(status)
		}
		return huma.Error404NotFound("Procuration introuvable.")
	}
	if errors.Is(err, store.ErrNotFound) {
		return huma.Error404NotFound("Introuvable.")
	}
	if unavailable(err) {
		return huma.ErrorWithHeaders(huma.Error503ServiceUnavailable("Service momentanément indisponible, réessayez dans quelques instants."),
			http.Header{"Retry-After": {"5"}})
	}
	h.Log.Error("request failed", zap.Error(err))
	return huma.Error500InternalServerError("Erreur interne.")
}

// unavailable recognises a dependency that is down or overloaded.
func unavailable(err error) bool {
	var (
		unavailable *serviceerror.Unavailable
		exhausted   *serviceerror.ResourceExhausted
		deadline    *serviceerror.DeadlineExceeded
		connect     *pgconn.ConnectError
	)
	return errors.As(err, &unavailable) || errors.As(err, &exhausted) || errors.As(err, &deadline) ||
		errors.As(err, &connect) || errors.Is(err, context.DeadlineExceeded) || pgconn.Timeout(err)
}

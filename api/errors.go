package api

import (
	"bytes"
	"encoding/json"
	"fmt"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/danielgtaylor/huma/v2"
	"github.com/danielgtaylor/huma/v2/validation"
	"go.uber.org/zap"

	"github.com/procurations/procuration/internal/errs"
	"github.com/procurations/procuration/internal/logging"
)

func init() {
	// Properties are matched exactly: "GRANTOR" is not "grantor".
	huma.ValidateStrictCasing = true
	// Huma's own validation speaks English; portals show `detail` and the
	// field messages. A 422 never echoes the request: the value is dropped.
	huma.NewError = func(status int, msg string, errList ...error) huma.StatusError {
		details := make([]*huma.ErrorDetail, 0, len(errList))
		for _, e := range errList {
			d, ok := e.(*huma.ErrorDetail)
			if !ok {
				d = &huma.ErrorDetail{Message: french(e.Error())}
			}
			loc, msg := d.Location, french(d.Message)
			// A missing property is named where it should have been.
			if name, ok := strings.CutPrefix(msg, "propriété obligatoire "); ok {
				name = strings.TrimSuffix(name, " absente")
				loc, msg = loc+"."+name, "obligatoire"
			}
			detail := &huma.ErrorDetail{Location: loc, Message: msg}
			if status == http.StatusConflict {
				detail.Value = d.Value // the current state, never the request
			}
			details = append(details, detail)
		}
		return &huma.ErrorModel{Status: status, Title: http.StatusText(status), Detail: frenchDetail(status, msg), Errors: details}
	}
	translateValidation()
}

// problem is a use case failure as problem+json.
func problem(e *errs.Error) error {
	var status int
	switch e.Kind {
	case errs.KindInvalid:
		details := make([]error, 0, len(e.Fields))
		for _, f := range e.Fields {
			details = append(details, &huma.ErrorDetail{Location: location(f.Location), Message: f.Message})
		}
		return huma.Error422UnprocessableEntity(e.Message, details...)
	case errs.KindUnauthenticated:
		return huma.ErrorWithHeaders(huma.Error401Unauthorized(e.Message), http.Header{"WWW-Authenticate": {`Bearer realm="procuration"`}})
	case errs.KindForbidden:
		status = http.StatusForbidden
	case errs.KindNotFound:
		status = http.StatusNotFound
	case errs.KindConflict:
		if e.State != "" {
			return huma.Error409Conflict(e.Message, &huma.ErrorDetail{Location: "status", Message: "état actuel", Value: e.State})
		}
		status = http.StatusConflict
	case errs.KindTooMany:
		return huma.ErrorWithHeaders(huma.Error429TooManyRequests(e.Message), retryAfter(e))
	case errs.KindUnavailable:
		return huma.ErrorWithHeaders(huma.Error503ServiceUnavailable(e.Message), retryAfter(e))
	default:
		return huma.Error500InternalServerError("Erreur interne.")
	}
	return huma.NewError(status, e.Message)
}

func retryAfter(e *errs.Error) http.Header {
	seconds := max(int(e.RetryAfter.Seconds()+0.999), 1)
	return http.Header{"Retry-After": {strconv.Itoa(seconds)}}
}

// location names a body field as Huma does (body.grantor.nne); use cases
// name path, query and header inputs themselves.
func location(field string) string {
	for _, prefix := range []string{"path.", "query.", "header.", "body"} {
		if strings.HasPrefix(field, prefix) {
			return field
		}
	}
	return "body." + field
}

// frenchDetail translates the details Huma itself writes; ours are French
// already.
func frenchDetail(status int, msg string) string {
	switch {
	case msg == "validation failed" && status == http.StatusUnsupportedMediaType:
		return "Type de contenu non pris en charge : application/json attendu."
	case msg == "validation failed":
		return errs.InvalidMessage
	case msg == "request body is required":
		return "Le corps de la requête est obligatoire."
	case strings.HasPrefix(msg, "request body is too large"):
		return "Le corps de la requête est trop volumineux."
	case msg == "request body read timeout":
		return "Le corps de la requête est arrivé trop lentement."
	case msg == "cannot read request body":
		return "Le corps de la requête n'a pas pu être lu."
	case msg == "unable to marshal response":
		return "Format de réponse demandé non disponible : application/json."
	case msg == "unexpected error occurred":
		return "Erreur interne."
	case !utf8.ValidString(msg):
		return http.StatusText(status)
	}
	return msg
}

// french translates the field messages Huma writes when decoding fails;
// the validation messages are translated below.
func french(msg string) string {
	switch {
	case strings.Contains(msg, "unknown content type"):
		return "type de contenu non pris en charge : application/json attendu"
	case strings.Contains(msg, "invalid character"), strings.Contains(msg, "unexpected end of JSON"), strings.Contains(msg, "cannot unmarshal"),
		strings.Contains(msg, "unexpected EOF"):
		return "JSON illisible"
	case strings.HasPrefix(msg, "required ") && strings.HasSuffix(msg, " is missing"):
		return "paramètre obligatoire absent"
	case msg == "invalid integer":
		return "nombre entier attendu"
	case msg == "invalid float", msg == "invalid floating value":
		return "nombre attendu"
	case msg == "invalid boolean":
		return "booléen attendu (true ou false)"
	case strings.HasPrefix(msg, "invalid date"), strings.HasPrefix(msg, "invalid time"):
		return "date attendue"
	case strings.HasPrefix(msg, "invalid value"), msg == "unparsable value", strings.HasPrefix(msg, "invalid "):
		return "valeur invalide"
	case !utf8.ValidString(msg):
		return "valeur invalide"
	}
	return msg
}

// translateValidation puts Huma's schema validation messages in French.
func translateValidation() {
	validation.MsgUnexpectedProperty = "propriété inattendue"
	validation.MsgExpectedRFC3339DateTime = "date et heure RFC 3339 attendues"
	validation.MsgExpectedRFC1123DateTime = "date et heure RFC 1123 attendues"
	validation.MsgExpectedRFC3339Date = "date AAAA-MM-JJ attendue"
	validation.MsgExpectedRFC3339Time = "heure RFC 3339 attendue"
	validation.MsgExpectedRFC5322Email = "adresse électronique attendue : %v"
	validation.MsgExpectedRFC5890Hostname = "nom d'hôte attendu"
	validation.MsgExpectedRFC2673IPv4 = "adresse IPv4 attendue"
	validation.MsgExpectedRFC2373IPv6 = "adresse IPv6 attendue"
	validation.MsgExpectedRFCIPAddr = "adresse IP attendue"
	validation.MsgExpectedRFC3986URI = "URI attendue : %v"
	validation.MsgExpectedRFC4122UUID = "UUID attendu : %v"
	validation.MsgExpectedRFC6570URITemplate = "modèle d'URI attendu"
	validation.MsgExpectedRFC6901JSONPointer = "pointeur JSON attendu"
	validation.MsgExpectedRFC6901RelativeJSONPointer = "pointeur JSON relatif attendu"
	validation.MsgExpectedRegexp = "expression régulière attendue : %v"
	validation.MsgExpectedMatchAtLeastOneSchema = "la valeur ne correspond à aucune des formes admises"
	validation.MsgExpectedMatchExactlyOneSchema = "la valeur doit correspondre à exactement une des formes admises"
	validation.MsgExpectedNotMatchSchema = "la valeur ne doit pas correspondre à cette forme"
	validation.MsgExpectedPropertyNameInObject = "propriété attendue dans l'objet"
	validation.MsgExpectedBoolean = "booléen attendu (true ou false)"
	validation.MsgExpectedDuration = "durée attendue : %v"
	validation.MsgExpectedNumber = "nombre attendu"
	validation.MsgExpectedInteger = "nombre entier attendu"
	validation.MsgExpectedString = "chaîne de caractères attendue"
	validation.MsgExpectedBase64String = "chaîne base64 attendue"
	validation.MsgExpectedArray = "liste attendue"
	validation.MsgExpectedObject = "objet attendu"
	validation.MsgExpectedArrayItemsUnique = "les éléments de la liste doivent être distincts"
	validation.MsgExpectedOneOf = "valeur attendue parmi « %s »"
	validation.MsgExpectedMinimumNumber = "nombre supérieur ou égal à %v attendu"
	validation.MsgExpectedExclusiveMinimumNumber = "nombre supérieur à %v attendu"
	validation.MsgExpectedMaximumNumber = "nombre inférieur ou égal à %v attendu"
	validation.MsgExpectedExclusiveMaximumNumber = "nombre inférieur à %v attendu"
	validation.MsgExpectedNumberBeMultipleOf = "multiple de %v attendu"
	validation.MsgExpectedMinLength = "au moins %d caractères"
	validation.MsgExpectedMaxLength = "au plus %d caractères"
	validation.MsgExpectedBePattern = "format attendu : %s"
	validation.MsgExpectedMatchPattern = "format attendu : %s"
	validation.MsgExpectedMinItems = "au moins %d éléments"
	validation.MsgExpectedMaxItems = "au plus %d éléments"
	validation.MsgExpectedMinProperties = "au moins %d propriétés"
	validation.MsgExpectedMaxProperties = "au plus %d propriétés"
	validation.MsgExpectedRequiredProperty = "propriété obligatoire %s absente"
	validation.MsgExpectedDependentRequiredProperty = "la propriété %s est obligatoire quand %s est présente"
}

// guard answers what the router and the standard library would answer in
// text/plain (unknown path, wrong method, bad path escape, a panic, a body
// without the JSON content type) as problem+json, in French; to a browser
// asking for a portal's page, as a page (pages may be nil).
func guard(log *zap.Logger, next http.Handler, pages func(http.ResponseWriter, *http.Request, int, string)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		write := writeModel
		if pages != nil && !strings.HasPrefix(r.URL.Path, "/v1/") && strings.Contains(r.Header.Get("Accept"), "text/html") {
			write = func(w http.ResponseWriter, m *huma.ErrorModel) {
				detail := m.Detail
				for _, d := range m.Errors {
					detail += " " + strings.TrimPrefix(d.Location, "body.") + " : " + d.Message + "."
				}
				pages(w, r, m.Status, detail)
			}
		}
		defer func() {
			if v := recover(); v != nil {
				logging.Ctx(r.Context(), log).Error("panic in handler", zap.String("path", r.URL.Path), zap.Any("panic", v))
				write(w, problemModel(http.StatusInternalServerError, "Erreur interne."))
			}
		}()
		if strings.HasPrefix(r.URL.Path, "/v1/") && r.ContentLength != 0 && r.Method != http.MethodGet {
			if msg := contentTypeProblem(r); msg != "" {
				write(w, problemModel(http.StatusUnsupportedMediaType, msg))
				return
			}
		}
		body := r.Body
		if status, details, err := inputProblem(r); writeInputProblem(w, write, status, details, err) {
			return
		}
		next.ServeHTTP(&plainGuard{ResponseWriter: w, write: write, bodyRead: r.Body != body}, r)
	})
}

// contentTypeProblem refuses a body whose declared type the operation
// does not take: JSON everywhere, CSV for the register import.
func contentTypeProblem(r *http.Request) string {
	ct := r.Header.Get("Content-Type")
	if ct == "" {
		return "En-tête Content-Type obligatoire : application/json attendu."
	}
	media, _, err := mime.ParseMediaType(ct)
	if err != nil {
		return "En-tête Content-Type illisible."
	}
	if r.URL.Path == "/v1/register/imports" {
		if media != "text/csv" {
			return "Type de contenu non pris en charge : text/csv attendu."
		}
		return ""
	}
	if media != "application/json" && !strings.HasSuffix(media, "+json") {
		return "Type de contenu non pris en charge : application/json attendu."
	}
	return ""
}

// plainGuard replaces the text/plain answers of the standard router (404,
// 405, 400 on a bad escape) with problem+json.
type plainGuard struct {
	http.ResponseWriter
	write   func(http.ResponseWriter, *huma.ErrorModel)
	wrapped bool
	skip    bool
	// bodyRead: the guard read the body into memory already.
	bodyRead bool
}

// SetReadDeadline ignores the deadline Huma sets for reading a body the
// guard has read already. Set on the connection, it would pass while the
// handler runs (an update waiting for its workflow while a worker or
// Temporal restarts) and net/http would cancel the connection's context:
// that request would give up after 5 s, and every later request on the
// same keep-alive connection would start cancelled (500).
func (g *plainGuard) SetReadDeadline(deadline time.Time) error {
	if g.bodyRead {
		return nil
	}
	return http.NewResponseController(g.ResponseWriter).SetReadDeadline(deadline)
}

func (g *plainGuard) WriteHeader(status int) {
	if !g.wrapped && status >= 400 && strings.HasPrefix(g.Header().Get("Content-Type"), "text/plain") {
		g.wrapped, g.skip = true, true
		msg := map[int]string{http.StatusNotFound: "Ressource introuvable.", http.StatusMethodNotAllowed: "Méthode non autorisée pour cette ressource.",
			http.StatusBadRequest: "Requête mal formée."}[status]
		if msg == "" {
			msg = http.StatusText(status)
		}
		g.Header().Del("X-Content-Type-Options")
		g.write(g.ResponseWriter, problemModel(status, msg))
		return
	}
	g.wrapped = true
	g.ResponseWriter.WriteHeader(status)
}

func (g *plainGuard) Write(b []byte) (int, error) {
	if g.skip {
		return len(b), nil
	}
	if !g.wrapped {
		g.WriteHeader(http.StatusOK)
	}
	return g.ResponseWriter.Write(b)
}

func (g *plainGuard) Flush() {
	if f, ok := g.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

// Unwrap lets http.ResponseController reach the connection.
func (g *plainGuard) Unwrap() http.ResponseWriter { return g.ResponseWriter }

func problemModel(status int, detail string) *huma.ErrorModel {
	return &huma.ErrorModel{Status: status, Title: http.StatusText(status), Detail: detail}
}

func writeModel(w http.ResponseWriter, m *huma.ErrorModel) {
	status := m.Status
	var body bytes.Buffer
	_ = json.NewEncoder(&body).Encode(m)
	w.Header().Set("Content-Type", "application/problem+json")
	w.Header().Set("Content-Length", fmt.Sprint(body.Len()))
	w.WriteHeader(status)
	_, _ = w.Write(body.Bytes())
}

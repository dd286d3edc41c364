package api

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"net/mail"
	"slices"
	"strings"
	"time"

	"github.com/danielgtaylor/huma/v2"
	"go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"
	"go.uber.org/zap"

	"github.com/procurations/procuration/internal/auth"
	"github.com/procurations/procuration/internal/calendar"
	"github.com/procurations/procuration/internal/dossier"
	"github.com/procurations/procuration/internal/reference"
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
	ElectionID string `json:"election_id,omitempty" doc:"an election; with rounds"`
	Rounds     []int  `json:"rounds,omitempty" doc:"[1], [2] or [1,2]"`
	From       string `json:"from,omitempty" format:"date" doc:"a period of at most a year; with until"`
	Until      string `json:"until,omitempty" format:"date"`
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

func view(p store.Procuration) Procuration {
	v := Procuration{
		Reference: p.Reference, Status: string(p.Status),
		Grantor:   GrantorView{NNE: p.GrantorNNE, GivenNames: p.GrantorGivenNames, FamilyName: p.GrantorFamilyName, CommuneCode: p.GrantorCommuneCode},
		Proxy:     ProxyView{NNE: p.ProxyNNE, GivenNames: p.ProxyGivenNames, FamilyName: p.ProxyFamilyName, BirthDate: p.ProxyBirthDate.Format(time.DateOnly)},
		CreatedAt: p.CreatedAt, UpdatedAt: p.UpdatedAt, History: []HistoryView{},
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
	for _, h := range p.History {
		v.History = append(v.History, HistoryView{At: h.At, Status: string(h.Status), Actor: h.Actor})
	}
	return v
}

type procurationOutput struct {
	Body Procuration
}

type createInput struct {
	IdempotencyKey string `header:"Idempotency-Key" maxLength:"200" doc:"a retried create with the same key returns the same dossier"`
	Body           struct {
		Grantor struct {
			NNE         string `json:"nne" doc:"voter number, 8 or 9 digits"`
			CommuneCode string `json:"commune_code" doc:"INSEE code of the commune of registration"`
			Email       string `json:"email,omitempty" doc:"defaults to the FranceConnect email"`
			Phone       string `json:"phone,omitempty"`
		} `json:"grantor"`
		Proxy struct {
			NNE       string `json:"nne" doc:"voter number, 8 or 9 digits"`
			BirthDate string `json:"birth_date" doc:"YYYY-MM-DD"`
		} `json:"proxy"`
		Validity Validity `json:"validity"`
	}
}

type referencePath struct {
	Reference string `path:"reference" doc:"the 6-character dossier reference" example:"K7M2QX"`
}

type verificationInput struct {
	Reference string `path:"reference" doc:"the 6-character dossier reference" example:"K7M2QX"`
	Body      struct {
		Outcome    string `json:"outcome" enum:"verified,refused"`
		IDDocument struct {
			Kind   string `json:"kind" minLength:"1" example:"cni" doc:"cni, passeport, titre_sejour, permis..."`
			Number string `json:"number" minLength:"1" doc:"kept only as a keyed fingerprint"`
		} `json:"id_document"`
		Reason string `json:"reason,omitempty" doc:"why the identity was refused"`
	}
}

type decisionInput struct {
	Reference string `path:"reference" doc:"the 6-character dossier reference" example:"K7M2QX"`
	Body      struct {
		Outcome string `json:"outcome" enum:"validated,invalidated"`
		Reason  string `json:"reason,omitempty" doc:"required when invalidated"`
	}
}

type listInput struct {
	Code   string `path:"code" doc:"INSEE code"`
	Status string `query:"status" enum:"awaiting_police,awaiting_town_hall,validated,invalidated,refused,cancelled,expired" required:"false"`
	Cursor string `query:"cursor" doc:"next_cursor of the previous page"`
	Limit  int    `query:"limit" minimum:"1" maximum:"200" default:"50"`
}

type listOutput struct {
	Body struct {
		Items      []Procuration `json:"items"`
		NextCursor string        `json:"next_cursor,omitempty"`
	}
}

func (h *handlers) registerProcurations(api huma.API) {
	tags := []string{"Procurations"}
	huma.Register(api, huma.Operation{
		OperationID: "create-procuration", Method: http.MethodPost, Path: "/v1/procurations", Tags: tags,
		Summary: "Ask for a procuration (grantor)", DefaultStatus: http.StatusCreated, Security: secured,
		Errors: []int{401, 403, 422, 503},
	}, h.create)
	huma.Register(api, huma.Operation{
		OperationID: "get-procuration", Method: http.MethodGet, Path: "/v1/procurations/{reference}", Tags: tags,
		Summary: "Read a dossier (its grantor, police, its town hall, support)", Security: secured, Errors: []int{401, 403, 404},
	}, h.get)
	huma.Register(api, huma.Operation{
		OperationID: "cancel-procuration", Method: http.MethodPost, Path: "/v1/procurations/{reference}/cancel", Tags: tags,
		Summary: "Cancel (its grantor)", Security: secured, Errors: []int{401, 403, 404, 409},
	}, h.cancel)
	huma.Register(api, huma.Operation{
		OperationID: "verify-procuration", Method: http.MethodPost, Path: "/v1/procurations/{reference}/police-verification", Tags: tags,
		Summary: "Police verification of the grantor's identity", Security: secured, Errors: []int{401, 403, 404, 409, 422},
	}, h.verify)
	huma.Register(api, huma.Operation{
		OperationID: "decide-procuration", Method: http.MethodPost, Path: "/v1/procurations/{reference}/town-hall-decision", Tags: tags,
		Summary: "Town hall decision", Security: secured, Errors: []int{401, 403, 404, 409, 422},
	}, h.decide)
	huma.Register(api, huma.Operation{
		OperationID: "list-commune-procurations", Method: http.MethodGet, Path: "/v1/communes/{code}/procurations", Tags: tags,
		Summary: "A commune's dossiers, oldest first (that town hall)", Security: secured, Errors: []int{401, 403, 422},
	}, h.list)
}

// scope is a validated validity: the dates the read model keeps and the
// instants the workflow waits for.
type scope struct {
	electionID *string
	rounds     []int16
	from       time.Time
	until      time.Time
	firstRound time.Time
}

func (h *handlers) create(ctx context.Context, in *createInput) (*procurationOutput, error) {
	c, err := requireRole(ctx, auth.RoleGrantor)
	if err != nil {
		return nil, err
	}
	b := &in.Body
	var fe fieldErrors
	now := h.Now().In(calendar.Paris)
	today := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, time.UTC)

	if !store.ValidNNE(b.Grantor.NNE) {
		fe.add("body.grantor.nne", "numéro national d'électeur : 8 ou 9 chiffres attendus", b.Grantor.NNE)
	}
	if !store.ValidNNE(b.Proxy.NNE) {
		fe.add("body.proxy.nne", "numéro national d'électeur : 8 ou 9 chiffres attendus", b.Proxy.NNE)
	} else if b.Proxy.NNE == b.Grantor.NNE {
		fe.add("body.proxy.nne", "le mandataire doit être un autre électeur que le mandant", b.Proxy.NNE)
	}
	proxyBirth, err := time.Parse(time.DateOnly, b.Proxy.BirthDate)
	if err != nil {
		fe.add("body.proxy.birth_date", "date AAAA-MM-JJ attendue", b.Proxy.BirthDate)
	}
	email := strings.TrimSpace(b.Grantor.Email)
	if email == "" {
		email = c.Email
	}
	if email == "" {
		fe.add("body.grantor.email", "adresse électronique obligatoire (absente du compte FranceConnect)", nil)
	} else if addr, err := mail.ParseAddress(email); err != nil || addr.Address != email {
		fe.add("body.grantor.email", "adresse électronique invalide", email)
	}

	commune, err := h.Store.Commune(ctx, b.Grantor.CommuneCode)
	switch {
	case errors.Is(err, store.ErrNotFound):
		fe.add("body.grantor.commune_code", "commune inconnue", b.Grantor.CommuneCode)
	case err != nil:
		return nil, h.mapError(ctx, err, "")
	}
	if store.ValidNNE(b.Grantor.NNE) && commune.Code != "" {
		v, err := h.Store.Voter(ctx, b.Grantor.NNE)
		switch {
		case errors.Is(err, store.ErrNotFound) || (err == nil && v.CommuneCode != commune.Code):
			fe.add("body.grantor.nne", "aucun électeur inscrit dans cette commune sous ce numéro", b.Grantor.NNE)
		case err != nil:
			return nil, h.mapError(ctx, err, "")
		case c.Birthdate != "" && v.BirthDate.Format(time.DateOnly) != c.Birthdate:
			fe.add("body.grantor.nne", "ce numéro d'électeur ne correspond pas à votre identité", b.Grantor.NNE)
		}
	}
	var proxy store.Voter
	if store.ValidNNE(b.Proxy.NNE) && b.Proxy.NNE != b.Grantor.NNE && !proxyBirth.IsZero() {
		proxy, err = h.Store.Voter(ctx, b.Proxy.NNE)
		switch {
		case errors.Is(err, store.ErrNotFound) || (err == nil && !proxy.BirthDate.Equal(proxyBirth)):
			fe.add("body.proxy", "aucun électeur inscrit avec ce numéro et cette date de naissance", b.Proxy.NNE)
		case err != nil:
			return nil, h.mapError(ctx, err, "")
		}
	}
	sc, err := h.validity(ctx, b.Validity, today, &fe)
	if err != nil {
		return nil, err
	}
	if err := fe.err(); err != nil {
		return nil, err
	}

	var grantorBirth *time.Time
	if d, err := time.Parse(time.DateOnly, c.Birthdate); err == nil {
		grantorBirth = &d
	}
	record := store.Procuration{
		Status: dossier.AwaitingPolice, GrantorSub: c.Subject, GrantorNNE: b.Grantor.NNE,
		GrantorGivenNames: c.GivenName, GrantorFamilyName: c.FamilyName, GrantorBirthDate: grantorBirth, GrantorSex: c.Gender,
		GrantorCommuneCode: commune.Code, GrantorEmail: email, GrantorPhone: b.Grantor.Phone, DigitalIdentity: c.DigitalIdentity(),
		ProxyNNE: proxy.NNE, ProxyGivenNames: proxy.GivenNames, ProxyFamilyName: proxy.FamilyName, ProxyBirthDate: proxy.BirthDate,
		ElectionID: sc.electionID, Rounds: sc.rounds, ValidFrom: sc.from, ValidUntil: sc.until, CreatedAt: h.Now().UTC(),
	}
	var (
		ref     string
		created bool
	)
	for range 5 {
		record.Reference = reference.New()
		ref, created, err = h.Store.CreateProcuration(ctx, record, in.IdempotencyKey)
		if !errors.Is(err, store.ErrReferenceTaken) {
			break
		}
	}
	if err != nil {
		return nil, h.mapError(ctx, err, "")
	}
	if !created {
		// A retried create: make sure its workflow runs, then answer as before.
		if record, err = h.Store.Procuration(ctx, ref); err != nil {
			return nil, h.mapError(ctx, err, "")
		}
		if sc, err = h.scopeOf(ctx, record); err != nil {
			return nil, h.mapError(ctx, err, "")
		}
	}
	if err := h.startWorkflow(ctx, record, sc); err != nil {
		if created {
			// No dossier without its workflow: undo, and let the portal retry.
			if derr := h.Store.DeleteUnstartedProcuration(context.WithoutCancel(ctx), ref); derr != nil {
				h.Log.Error("could not roll back an unstarted dossier", zap.String("reference", ref), zap.Error(derr))
			}
		}
		return nil, h.mapError(ctx, err, "")
	}
	return h.read(ctx, ref)
}

func (h *handlers) startWorkflow(ctx context.Context, p store.Procuration, sc scope) error {
	start := dossier.Start{
		Reference: p.Reference, CommuneCode: p.GrantorCommuneCode, ValidUntil: calendar.EndOfDay(sc.until).UTC(),
		FirstRound: sc.firstRound, DigitalIdentity: p.DigitalIdentity, Policy: h.Policy,
	}
	scopeText := fmt.Sprintf("until %s", sc.until.Format(time.DateOnly))
	if sc.electionID != nil {
		scopeText = fmt.Sprintf("election %s, rounds %v", *sc.electionID, sc.rounds)
	}
	_, err := h.Temporal.ExecuteWorkflow(ctx, client.StartWorkflowOptions{
		ID:                       dossier.WorkflowID(p.Reference),
		TaskQueue:                h.TaskQueue,
		WorkflowIDConflictPolicy: enums.WORKFLOW_ID_CONFLICT_POLICY_USE_EXISTING,
		WorkflowIDReusePolicy:    enums.WORKFLOW_ID_REUSE_POLICY_REJECT_DUPLICATE,
		StaticSummary:            fmt.Sprintf("Procuration %s, commune %s", p.Reference, p.GrantorCommuneCode),
		StaticDetails: fmt.Sprintf("Dossier **%s**: grantor registered in commune %s; %s; town hall review %s; identity %s.",
			p.Reference, p.GrantorCommuneCode, scopeText, h.Policy.Review, map[bool]string{true: "France Identité", false: "police visit"}[p.DigitalIdentity]),
		TypedSearchAttributes: searchAttributes(p.GrantorCommuneCode, start.ValidUntil),
	}, dossier.WorkflowName, start)
	var started *serviceerror.WorkflowExecutionAlreadyStarted
	if errors.As(err, &started) {
		return nil // a retried create whose dossier already ended
	}
	return err
}

// validity checks the scope: an election's rounds not yet past, or a period
// starting today or later and lasting at most a year (R74-R75).
func (h *handlers) validity(ctx context.Context, v Validity, today time.Time, fe *fieldErrors) (scope, error) {
	sc := scope{rounds: []int16{}}
	election, period := v.ElectionID != "" || len(v.Rounds) > 0, v.From != "" || v.Until != ""
	switch {
	case election && period:
		fe.add("body.validity", "une élection ou une période, pas les deux", nil)
	case !election && !period:
		fe.add("body.validity", "une élection (election_id, rounds) ou une période (from, until) est obligatoire", nil)
	case election:
		e, err := h.Store.Election(ctx, v.ElectionID)
		if errors.Is(err, store.ErrNotFound) {
			fe.add("body.validity.election_id", "élection inconnue", v.ElectionID)
			return sc, nil
		}
		if err != nil {
			return sc, h.mapError(ctx, err, "")
		}
		if len(v.Rounds) == 0 || len(v.Rounds) > 2 || (len(v.Rounds) == 2 && v.Rounds[0] == v.Rounds[1]) {
			fe.add("body.validity.rounds", "tours attendus : [1], [2] ou [1,2]", v.Rounds)
			return sc, nil
		}
		rounds := slices.Clone(v.Rounds)
		slices.Sort(rounds)
		for _, n := range rounds {
			i := slices.IndexFunc(e.Rounds, func(r store.Round) bool { return r.Number == n })
			if i < 0 {
				fe.add("body.validity.rounds", fmt.Sprintf("cette élection n'a pas de tour %d", n), n)
				return sc, nil
			}
			date, _ := time.Parse(time.DateOnly, e.Rounds[i].Date)
			if date.Before(today) {
				fe.add("body.validity.rounds", fmt.Sprintf("le tour %d est passé", n), n)
				return sc, nil
			}
			if sc.firstRound.IsZero() {
				sc.firstRound = calendar.StartOfDay(date).UTC()
			}
			sc.rounds = append(sc.rounds, int16(n))
			sc.until = date
		}
		sc.electionID, sc.from = &e.ID, today
	default:
		from, errFrom := time.Parse(time.DateOnly, v.From)
		until, errUntil := time.Parse(time.DateOnly, v.Until)
		if errFrom != nil {
			fe.add("body.validity.from", "date AAAA-MM-JJ attendue", v.From)
		} else if from.Before(today) {
			fe.add("body.validity.from", "la période ne peut pas commencer dans le passé", v.From)
		}
		if errUntil != nil {
			fe.add("body.validity.until", "date AAAA-MM-JJ attendue", v.Until)
		} else if errFrom == nil && until.Before(from) {
			fe.add("body.validity.until", "la fin de la période précède son début", v.Until)
		} else if errFrom == nil && until.After(from.AddDate(1, 0, 0)) {
			fe.add("body.validity.until", "une procuration couvre au plus un an", v.Until)
		}
		sc.from, sc.until = from, until
	}
	return sc, nil
}

// scopeOf rebuilds the scope of a stored dossier.
func (h *handlers) scopeOf(ctx context.Context, p store.Procuration) (scope, error) {
	sc := scope{electionID: p.ElectionID, rounds: p.Rounds, from: p.ValidFrom, until: p.ValidUntil}
	if p.ElectionID != nil && len(p.Rounds) > 0 {
		e, err := h.Store.Election(ctx, *p.ElectionID)
		if err != nil {
			return sc, err
		}
		for _, r := range e.Rounds {
			if r.Number == int(p.Rounds[0]) {
				d, _ := time.Parse(time.DateOnly, r.Date)
				sc.firstRound = calendar.StartOfDay(d).UTC()
			}
		}
	}
	return sc, nil
}

func (h *handlers) read(ctx context.Context, ref string) (*procurationOutput, error) {
	p, err := h.Store.Procuration(ctx, ref)
	if err != nil {
		return nil, h.mapError(ctx, err, "")
	}
	return &procurationOutput{Body: view(p)}, nil
}

// load reads a dossier the caller may act on: a grantor only their own
// (404 otherwise, so references cannot be probed), a town hall only its
// communes' (403).
func (h *handlers) load(ctx context.Context, c auth.Claims, ref string) (store.Procuration, error) {
	ref = reference.Normalize(ref)
	if !reference.Valid(ref) {
		return store.Procuration{}, huma.Error404NotFound("Procuration introuvable.")
	}
	p, err := h.Store.Procuration(ctx, ref)
	if errors.Is(err, store.ErrNotFound) {
		return p, huma.Error404NotFound("Procuration introuvable.")
	}
	if err != nil {
		return p, h.mapError(ctx, err, "")
	}
	switch c.Role {
	case auth.RoleGrantor:
		if p.GrantorSub != c.Subject {
			return p, huma.Error404NotFound("Procuration introuvable.")
		}
	case auth.RoleTownHall:
		if !c.ServesCommune(p.GrantorCommuneCode) {
			return p, huma.Error403Forbidden("Cette procuration relève d'une autre commune.")
		}
	}
	return p, nil
}

func (h *handlers) get(ctx context.Context, in *referencePath) (*procurationOutput, error) {
	c, err := requireRole(ctx, auth.RoleGrantor, auth.RolePolice, auth.RoleTownHall, auth.RoleSupport)
	if err != nil {
		return nil, err
	}
	p, err := h.load(ctx, c, in.Reference)
	if err != nil {
		return nil, err
	}
	if c.Role != auth.RoleGrantor {
		// Agents reading a grantor's identity leave a trace.
		if err := h.Store.Audit(ctx, store.Audit{ActorSub: c.Subject, ActorRole: c.Role, Action: "view", Reference: p.Reference}); err != nil {
			return nil, h.mapError(ctx, err, "")
		}
	}
	return &procurationOutput{Body: view(p)}, nil
}

func (h *handlers) cancel(ctx context.Context, in *referencePath) (*procurationOutput, error) {
	c, err := requireRole(ctx, auth.RoleGrantor)
	if err != nil {
		return nil, err
	}
	p, err := h.load(ctx, c, in.Reference)
	if err != nil {
		return nil, err
	}
	if p.Status.Final() {
		return nil, wrongStateError(p.Status)
	}
	return h.update(ctx, p, dossier.UpdateCancel, dossier.Cancellation{Actor: actor(c)})
}

func (h *handlers) verify(ctx context.Context, in *verificationInput) (*procurationOutput, error) {
	c, err := requireRole(ctx, auth.RolePolice)
	if err != nil {
		return nil, err
	}
	var fe fieldErrors
	if in.Body.Outcome == dossier.PoliceRefused && strings.TrimSpace(in.Body.Reason) == "" {
		fe.add("body.reason", "motif obligatoire en cas de refus", nil)
	}
	if err := fe.err(); err != nil {
		return nil, err
	}
	p, err := h.load(ctx, c, in.Reference)
	if err != nil {
		return nil, err
	}
	if p.Status != dossier.AwaitingPolice {
		return nil, wrongStateError(p.Status)
	}
	if err := h.Store.UpsertAgent(ctx, store.Agent{Sub: c.Subject, Role: c.Role, GivenName: c.GivenName, FamilyName: c.FamilyName,
		Rank: c.Rank, Unit: c.Unit}); err != nil {
		return nil, h.mapError(ctx, err, "")
	}
	note, err := h.Store.SaveNote(ctx, p.Reference, strings.TrimSpace(in.Body.Reason))
	if err != nil {
		return nil, h.mapError(ctx, err, "")
	}
	return h.update(ctx, p, dossier.UpdatePoliceVerification, dossier.PoliceVerification{
		Actor: actor(c), Outcome: in.Body.Outcome, Rank: c.Rank, Unit: c.Unit, ReasonNote: note,
		IDDocumentKind:        strings.ToLower(strings.TrimSpace(in.Body.IDDocument.Kind)),
		IDDocumentFingerprint: h.fingerprint(in.Body.IDDocument.Kind, in.Body.IDDocument.Number),
	})
}

// fingerprint lets an audit match a document number without storing it.
func (h *handlers) fingerprint(kind, number string) string {
	mac := hmac.New(sha256.New, h.FingerprintKey)
	mac.Write([]byte(strings.ToLower(strings.TrimSpace(kind)) + ":" + strings.ToUpper(strings.Join(strings.Fields(number), ""))))
	return hex.EncodeToString(mac.Sum(nil)[:16])
}

func (h *handlers) decide(ctx context.Context, in *decisionInput) (*procurationOutput, error) {
	c, err := requireRole(ctx, auth.RoleTownHall)
	if err != nil {
		return nil, err
	}
	var fe fieldErrors
	if in.Body.Outcome == dossier.TownHallInvalidated && strings.TrimSpace(in.Body.Reason) == "" {
		fe.add("body.reason", "motif obligatoire en cas d'invalidation", nil)
	}
	if err := fe.err(); err != nil {
		return nil, err
	}
	p, err := h.load(ctx, c, in.Reference)
	if err != nil {
		return nil, err
	}
	if p.Status != dossier.AwaitingTownHall {
		return nil, wrongStateError(p.Status)
	}
	if err := h.Store.UpsertAgent(ctx, store.Agent{Sub: c.Subject, Role: c.Role, GivenName: c.GivenName, FamilyName: c.FamilyName}); err != nil {
		return nil, h.mapError(ctx, err, "")
	}
	note, err := h.Store.SaveNote(ctx, p.Reference, strings.TrimSpace(in.Body.Reason))
	if err != nil {
		return nil, h.mapError(ctx, err, "")
	}
	return h.update(ctx, p, dossier.UpdateTownHallDecision, dossier.TownHallDecision{
		Actor: actor(c), Outcome: in.Body.Outcome, ReasonNote: note,
	})
}

// update runs a portal action on the dossier's workflow and answers with the
// dossier as the action left it: the handler records the step before it
// returns, so the read model is already up to date.
func (h *handlers) update(ctx context.Context, p store.Procuration, name string, arg any) (*procurationOutput, error) {
	// Without a worker the update waits; the portal gets 503 rather than a
	// hung request, and a retry meets the validator, never a double step.
	ctx, cancel := context.WithTimeout(ctx, updateTimeout)
	defer cancel()
	handle, err := h.Temporal.UpdateWorkflow(ctx, client.UpdateWorkflowOptions{
		WorkflowID:   dossier.WorkflowID(p.Reference),
		UpdateName:   name,
		Args:         []any{arg},
		WaitForStage: client.WorkflowUpdateStageCompleted,
	})
	if err == nil {
		var status dossier.Status
		err = handle.Get(ctx, &status)
	}
	if err != nil {
		return nil, h.mapError(ctx, err, p.Status)
	}
	return h.read(ctx, p.Reference)
}

func (h *handlers) list(ctx context.Context, in *listInput) (*listOutput, error) {
	c, err := requireRole(ctx, auth.RoleTownHall, auth.RoleSupport)
	if err != nil {
		return nil, err
	}
	if c.Role == auth.RoleTownHall && !c.ServesCommune(in.Code) {
		return nil, huma.Error403Forbidden("Vous n'agissez pas pour cette commune.")
	}
	items, next, err := h.Store.ListByCommune(ctx, in.Code, dossier.Status(in.Status), in.Cursor, in.Limit)
	if errors.Is(err, store.ErrBadCursor) {
		var fe fieldErrors
		fe.add("query.cursor", "curseur invalide", in.Cursor)
		return nil, fe.err()
	}
	if err != nil {
		return nil, h.mapError(ctx, err, "")
	}
	out := &listOutput{}
	out.Body.Items, out.Body.NextCursor = []Procuration{}, next
	for _, p := range items {
		out.Body.Items = append(out.Body.Items, view(p))
	}
	return out, nil
}

const updateTimeout = 30 * time.Second

func actor(c auth.Claims) dossier.Actor { return dossier.Actor{Sub: c.Subject, Role: c.Role} }

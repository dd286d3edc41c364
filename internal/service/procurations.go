package service

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"
	"go.uber.org/zap"

	"github.com/procurations/procuration/internal/auth"
	"github.com/procurations/procuration/internal/calendar"
	"github.com/procurations/procuration/internal/dossier"
	"github.com/procurations/procuration/internal/errs"
	"github.com/procurations/procuration/internal/french"
	"github.com/procurations/procuration/internal/identity"
	"github.com/procurations/procuration/internal/logging"
	"github.com/procurations/procuration/internal/ratelimit"
	"github.com/procurations/procuration/internal/reference"
	"github.com/procurations/procuration/internal/store"
	"github.com/procurations/procuration/internal/valid"
)

// ProcurationRequest is what a grantor fills in. Their names, sex and
// birth date come from their identity, not from here.
type ProcurationRequest struct {
	GrantorNNE     string `json:"grantor_nne"`
	CommuneCode    string `json:"commune_code"`
	Email          string `json:"email,omitempty"`
	Phone          string `json:"phone,omitempty"`
	ProxyNNE       string `json:"proxy_nne"`
	ProxyBirthDate string `json:"proxy_birth_date"`
	// The holder may be named instead of numbered: their names and the
	// commune where they vote find their number in the register.
	ProxyFamilyName string   `json:"proxy_family_name,omitempty"`
	ProxyGivenNames string   `json:"proxy_given_names,omitempty"`
	ProxyCommune    string   `json:"proxy_commune,omitempty"`
	Validity        Validity `json:"validity"`

	// ProxyEmail is where the holder is told of the validated procuration;
	// it is kept only with ProxyEmailConsent, the grantor's agreement.
	ProxyEmail        string `json:"proxy_email,omitempty"`
	ProxyEmailConsent bool   `json:"proxy_email_consent,omitempty"`
}

// Validity is one election (some of its rounds) or a period.
type Validity struct {
	ElectionID string `json:"election_id,omitempty"`
	Rounds     []int  `json:"rounds,omitempty"`
	From       string `json:"from,omitempty"`
	Until      string `json:"until,omitempty"`
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

var errNoProcuration = errs.NotFound("Procuration introuvable.")

// RequestProcuration files a grantor's request and starts its workflow. A
// retry with the same idempotency key returns the same dossier.
func (s *Service) RequestProcuration(ctx context.Context, who auth.Claims, req ProcurationRequest, idempotencyKey string) (store.Procuration, error) {
	if err := requireRole(who, auth.RoleGrantor); err != nil {
		return store.Procuration{}, err
	}
	var fe errs.Fields
	now := s.Now().In(calendar.Paris)
	today := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, time.UTC)

	if !store.ValidNNE(req.GrantorNNE) {
		fe.Add("grantor.nne", "numéro national d'électeur : 8 ou 9 chiffres attendus")
	}
	named := req.ProxyNNE == "" && req.ProxyFamilyName != ""
	if named {
		nne, err := s.proxyByName(ctx, who, req, &fe)
		if err != nil {
			return store.Procuration{}, err
		}
		req.ProxyNNE = nne
	}
	if named && req.ProxyNNE == "" {
		// The name lookup said what was wrong.
	} else if !store.ValidNNE(req.ProxyNNE) {
		fe.Add("proxy.nne", "numéro national d'électeur : 8 ou 9 chiffres attendus")
	} else if req.ProxyNNE == req.GrantorNNE {
		fe.Add("proxy.nne", "le mandataire doit être un autre électeur que le mandant")
	}
	proxyBirth, msg := valid.BirthDate(req.ProxyBirthDate, today)
	if msg != "" {
		fe.Add("proxy.birth_date", msg)
	}
	// Emails go only to the address the identity provider vouches for:
	// nobody can have official emails sent to a stranger.
	email := who.Email
	switch {
	case email == "":
		fe.Add("grantor.email", "adresse électronique absente de votre compte FranceConnect : complétez-la auprès de votre fournisseur d'identité")
	case strings.TrimSpace(req.Email) != "" && !strings.EqualFold(strings.TrimSpace(req.Email), email):
		fe.Add("grantor.email", "l'adresse est celle de votre compte FranceConnect ; laissez ce champ vide ou indiquez-la")
	case valid.Email(email) != "":
		fe.Add("grantor.email", "l'adresse de votre compte FranceConnect n'est pas utilisable")
	}
	if msg := valid.Phone(req.Phone); msg != "" {
		fe.Add("grantor.phone", msg)
	}
	commune, err := s.commune(ctx, req.CommuneCode, "grantor.commune_code", &fe)
	if err != nil {
		return store.Procuration{}, err
	}
	if store.ValidNNE(req.GrantorNNE) && commune.Code != "" {
		refused, err := s.grantorIsNotTheVoter(ctx, who, req.GrantorNNE, commune.Code)
		if err != nil {
			return store.Procuration{}, err
		}
		if refused {
			// One answer whatever went wrong: the form does not tell who is
			// on the register.
			fe.Add("grantor.nne", "ce numéro d'électeur ne correspond pas à votre identité (nom, prénoms, date et lieu de naissance) dans cette commune")
		}
	}
	var proxy store.Voter
	if store.ValidNNE(req.ProxyNNE) && req.ProxyNNE != req.GrantorNNE && msg == "" {
		proxy, err = s.Store.Voter(ctx, req.ProxyNNE)
		switch {
		case errors.Is(err, store.ErrNotFound) || (err == nil && !proxy.BirthDate.Equal(proxyBirth)):
			fe.Add("proxy", "aucun électeur inscrit avec ce numéro et cette date de naissance")
		case err != nil:
			return store.Procuration{}, s.infra(ctx, err)
		}
	}
	proxyEmail := holderEmail(req, &fe)
	sc, err := s.validity(ctx, req.Validity, today, &fe)
	if err != nil {
		return store.Procuration{}, err
	}
	if msg := valid.Text(idempotencyKey, 200, false); msg != "" {
		fe.Add("header.Idempotency-Key", msg)
	}
	if err := fe.Err(); err != nil {
		return store.Procuration{}, err
	}

	var grantorBirth *time.Time
	if d, err := time.Parse(time.DateOnly, who.Birthdate); err == nil {
		grantorBirth = &d
	}
	if ok, wait, err := s.limits.Allow(ctx, requestsPerGrantor, who.Identity(), s.Now()); err != nil {
		return store.Procuration{}, s.infra(ctx, err)
	} else if !ok {
		return store.Procuration{}, errs.TooManyRequests("Trop de demandes de procuration aujourd'hui, réessayez plus tard.", wait)
	}
	record := store.Procuration{
		Status: dossier.AwaitingPolice, GrantorSub: who.Identity(), GrantorNNE: req.GrantorNNE,
		GrantorGivenNames: who.GivenName, GrantorFamilyName: who.FamilyName, GrantorBirthDate: grantorBirth, GrantorSex: who.Gender,
		GrantorBirthPlace: who.BirthPlace, GrantorBirthCountry: who.BirthCountry,
		GrantorCommuneCode: commune.Code, GrantorEmail: email, GrantorPhone: req.Phone, DigitalIdentity: who.DigitalIdentity(),
		ProxyNNE: proxy.NNE, ProxyGivenNames: proxy.GivenNames, ProxyFamilyName: proxy.FamilyName, ProxyBirthDate: proxy.BirthDate,
		ElectionID: sc.electionID, Rounds: sc.rounds, ValidFrom: sc.from, ValidUntil: sc.until, CreatedAt: s.Now().UTC(),
	}
	if proxyEmail != "" {
		// The consent comes with the request; the address is kept from then.
		record.ProxyEmail, record.ProxyEmailConsentAt = proxyEmail, &record.CreatedAt
	}
	var (
		ref     string
		created bool
	)
	for range 5 {
		record.Reference = reference.New()
		ref, created, err = s.Store.CreateProcuration(ctx, record, idempotencyKey, requestHash(req))
		if !errors.Is(err, store.ErrReferenceTaken) {
			break
		}
	}
	var live *store.LiveProcurationError
	if errors.As(err, &live) {
		return store.Procuration{}, errs.Conflict(fmt.Sprintf("Vous avez déjà une procuration en cours pour cette période ou ce scrutin : %s. "+
			"Résiliez-la avant d'en demander une autre.", live.Reference))
	}
	if errors.Is(err, store.ErrIdempotencyKeyReused) {
		return store.Procuration{}, errs.InvalidField("header.Idempotency-Key",
			"cette clé a déjà servi pour une autre demande ; utilisez-en une nouvelle")
	}
	if err != nil {
		return store.Procuration{}, s.infra(ctx, err)
	}
	if !created {
		// A retried create: make sure its workflow runs, then answer as before.
		if record, err = s.Store.Procuration(ctx, ref); err != nil {
			return store.Procuration{}, s.infra(ctx, err)
		}
		if sc, err = s.scopeOf(ctx, record); err != nil {
			return store.Procuration{}, s.infra(ctx, err)
		}
	}
	if err := s.StartProcuration(ctx, record, sc.firstRound, commune.Name, nil); err != nil {
		if created && s.certainlyNotStarted(ctx, dossier.WorkflowID(ref)) {
			// No dossier without its workflow: undo, and let the portal retry.
			if derr := s.Store.DeleteUnstartedProcuration(context.WithoutCancel(ctx), ref); derr != nil {
				logging.Ctx(ctx, s.Log).Error("could not roll back an unstarted dossier", zap.String("reference", ref), zap.Error(derr))
			}
		}
		return store.Procuration{}, s.infra(ctx, err)
	}
	return s.read(ctx, ref)
}

// holderEmail checks the address the holder is to be told at, which the
// grantor may give only with their explicit consent: an address without
// it is refused rather than dropped, so that nobody believes the holder
// informed when they will not be. It returns the address to keep.
func holderEmail(req ProcurationRequest, fe *errs.Fields) string {
	email := strings.TrimSpace(req.ProxyEmail)
	switch {
	case email == "" && req.ProxyEmailConsent:
		fe.Add("proxy.email", "indiquez l'adresse électronique de votre mandataire, ou décochez la case pour qu'il ne soit pas informé par courriel")
	case email == "":
	default:
		if msg := valid.Email(email); msg != "" {
			fe.Add("proxy.email", msg)
		}
	}
	if email != "" && !req.ProxyEmailConsent {
		fe.Add("proxy.email_consent", "cochez la case pour que votre mandataire soit informé par courriel, ou laissez son adresse vide")
	}
	return email
}

// proxyByName finds the holder's voter number from their identity, as
// "find my voter number" does, with its limits and its audit.
func (s *Service) proxyByName(ctx context.Context, who auth.Claims, req ProcurationRequest, fe *errs.Fields) (string, error) {
	v, err := s.LookupVoter(ctx, who, Lookup{FamilyName: req.ProxyFamilyName, GivenNames: req.ProxyGivenNames, BirthDate: req.ProxyBirthDate,
		CommuneCode: req.ProxyCommune}, "")
	if e, ok := errs.As(err); ok && e.Kind == errs.KindInvalid {
		for _, f := range e.Fields {
			name := map[string]string{"family_name": "proxy.family_name", "given_names": "proxy.given_names", "birth_date": "proxy.birth_date",
				"commune_code": "proxy.commune_code"}[f.Location]
			if !fe.Has(name) {
				fe.Add(name, f.Message)
			}
		}
		return "", nil
	}
	if e, ok := errs.As(err); ok && e.Kind == errs.KindNotFound {
		fe.Add("proxy", "aucun électeur ne correspond exactement à ces nom, prénoms et date de naissance dans cette commune")
		return "", nil
	}
	return v.NNE, err
}

// requestsPerGrantor bounds the dossiers one person may file: each sends
// official emails.
var requestsPerGrantor = ratelimit.Rule{Name: "request", Limit: 10, Window: 24 * time.Hour}

// grantorIsNotTheVoter compares the register's entry of the voter number
// with the signed-in identity; a mismatch is refused and audited.
func (s *Service) grantorIsNotTheVoter(ctx context.Context, who auth.Claims, nne, commune string) (bool, error) {
	v, err := s.Store.Voter(ctx, nne)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return false, s.infra(ctx, err)
	}
	why := "absent du répertoire dans cette commune"
	if err == nil && v.CommuneCode == commune {
		why = identity.Mismatch(identity.Person{FamilyName: who.FamilyName, GivenNames: who.GivenName, BirthDate: who.Birthdate, BirthPlace: who.BirthPlace},
			identity.Person{FamilyName: v.FamilyName, GivenNames: v.GivenNames, BirthDate: v.BirthDate.Format(time.DateOnly), BirthPlace: v.BirthPlace})
	}
	if why == "" {
		return false, nil
	}
	return true, s.audit(ctx, store.Audit{ActorSub: who.Identity(), ActorRole: who.Role, Action: "create.refused.identity",
		Details: map[string]any{"differs": why}})
}

// requestHash identifies a request's content, to tell a retry from another
// request sent with the same idempotency key.
func requestHash(req ProcurationRequest) string {
	raw, _ := json.Marshal(req)
	sum := sha256.Sum256(raw)
	return hex.EncodeToString(sum[:])
}

// StartProcuration starts a dossier's workflow, or finds it running. A start
// the server may have taken although the call failed is retried with the
// same workflow ID. resume continues a dossier whose workflow was lost.
func (s *Service) StartProcuration(ctx context.Context, p store.Procuration, firstRound time.Time, communeName string, resume *dossier.Resume) error {
	until := calendar.EndOfDay(p.ValidUntil).UTC()
	start := dossier.Start{
		Reference: p.Reference, CommuneCode: p.GrantorCommuneCode, CommuneName: communeName, ValidUntil: until,
		FirstRound: firstRound, DigitalIdentity: p.DigitalIdentity, Resume: resume,
	}
	scopeText := "du " + french.Date(p.ValidFrom) + " au " + french.Date(p.ValidUntil)
	if p.ElectionID != nil {
		scopeText = fmt.Sprintf("élection %s, tour(s) %v", *p.ElectionID, p.Rounds)
	}
	identity := "vérification en commissariat ou gendarmerie"
	if p.DigitalIdentity {
		identity = "identité numérique France Identité"
	}
	opts := client.StartWorkflowOptions{
		ID:                       dossier.WorkflowID(p.Reference),
		TaskQueue:                s.TaskQueue,
		WorkflowIDConflictPolicy: enums.WORKFLOW_ID_CONFLICT_POLICY_USE_EXISTING,
		WorkflowIDReusePolicy:    enums.WORKFLOW_ID_REUSE_POLICY_REJECT_DUPLICATE,
		StaticSummary:            fmt.Sprintf("Procuration %s — %s (%s)", p.Reference, communeName, p.GrantorCommuneCode),
		StaticDetails: fmt.Sprintf("Dossier **%s** : mandant inscrit à %s (%s) ; %s ; %s.",
			p.Reference, communeName, p.GrantorCommuneCode, scopeText, identity),
		TypedSearchAttributes: dossier.StartAttributes(p.GrantorCommuneCode, until),
	}
	if resume != nil {
		// A terminated or failed run is replaced by this one.
		opts.WorkflowIDReusePolicy = enums.WORKFLOW_ID_REUSE_POLICY_ALLOW_DUPLICATE_FAILED_ONLY
	}
	var err error
	for attempt := range 3 {
		if attempt > 0 {
			time.Sleep(time.Duration(attempt) * 300 * time.Millisecond)
		}
		_, err = s.Temporal.ExecuteWorkflow(ctx, opts, dossier.WorkflowName, start)
		var started *serviceerror.WorkflowExecutionAlreadyStarted
		if errors.As(err, &started) {
			return nil // a retried create whose dossier already ended
		}
		if err == nil || !errs.Unreachable(err) || ctx.Err() != nil {
			break
		}
	}
	return err
}

// certainlyNotStarted reports whether the server knows no such workflow.
// When Temporal cannot say, the dossier is kept: the reconciliation starts
// its workflow later.
func (s *Service) certainlyNotStarted(ctx context.Context, workflowID string) bool {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	_, err := s.Temporal.DescribeWorkflowExecution(ctx, workflowID, "")
	var notFound *serviceerror.NotFound
	return errors.As(err, &notFound)
}

// validity checks the scope: an election's rounds not yet past, or a period
// starting today or later and lasting at most a year (R74-R75).
func (s *Service) validity(ctx context.Context, v Validity, today time.Time, fe *errs.Fields) (scope, error) {
	sc := scope{rounds: []int16{}}
	election, period := v.ElectionID != "" || len(v.Rounds) > 0, v.From != "" || v.Until != ""
	switch {
	case election && period:
		fe.Add("validity", "une élection ou une période, pas les deux")
	case !election && !period:
		fe.Add("validity", "une élection (election_id, rounds) ou une période (from, until) est obligatoire")
	case election:
		if msg := valid.Text(v.ElectionID, 64, true); msg != "" {
			fe.Add("validity.election_id", msg)
			return sc, nil
		}
		e, err := s.Store.Election(ctx, v.ElectionID)
		if errors.Is(err, store.ErrNotFound) {
			fe.Add("validity.election_id", "élection inconnue")
			return sc, nil
		}
		if err != nil {
			return sc, s.infra(ctx, err)
		}
		if len(v.Rounds) == 0 || len(v.Rounds) > 2 || (len(v.Rounds) == 2 && v.Rounds[0] == v.Rounds[1]) {
			fe.Add("validity.rounds", "cochez le 1er tour, le 2d tour ou les deux")
			return sc, nil
		}
		rounds := slices.Clone(v.Rounds)
		slices.Sort(rounds)
		for _, n := range rounds {
			i := slices.IndexFunc(e.Rounds, func(r store.Round) bool { return r.Number == n })
			if i < 0 {
				fe.Add("validity.rounds", fmt.Sprintf("cette élection n'a pas de tour %d", n))
				return sc, nil
			}
			date, _ := time.Parse(time.DateOnly, e.Rounds[i].Date)
			if date.Before(today) {
				fe.Add("validity.rounds", fmt.Sprintf("le tour %d est passé", n))
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
			fe.Add("validity.from", "date AAAA-MM-JJ attendue")
		} else if from.Before(today) {
			fe.Add("validity.from", "la période ne peut pas commencer dans le passé")
		} else if from.After(today.AddDate(2, 0, 0)) {
			fe.Add("validity.from", "la période doit commencer dans les deux ans")
		}
		if errUntil != nil {
			fe.Add("validity.until", "date AAAA-MM-JJ attendue")
		} else if errFrom == nil && until.Before(from) {
			fe.Add("validity.until", "la fin de la période précède son début")
		} else if errFrom == nil && until.After(from.AddDate(1, 0, 0)) {
			fe.Add("validity.until", "une procuration couvre au plus un an")
		}
		sc.from, sc.until = from, until
	}
	return sc, nil
}

// scopeOf rebuilds the scope of a stored dossier.
func (s *Service) scopeOf(ctx context.Context, p store.Procuration) (scope, error) {
	sc := scope{electionID: p.ElectionID, rounds: p.Rounds, from: p.ValidFrom, until: p.ValidUntil}
	if p.ElectionID != nil && len(p.Rounds) > 0 {
		e, err := s.Store.Election(ctx, *p.ElectionID)
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

func (s *Service) read(ctx context.Context, ref string) (store.Procuration, error) {
	p, err := s.Store.Procuration(ctx, ref)
	return p, s.notFoundOr(ctx, err, errNoProcuration)
}

// reader reads a dossier by its reference; load decides who may.
type reader func(ctx context.Context, ref string) (store.Procuration, error)

// load reads a dossier the caller may act on: a grantor only their own
// (404 otherwise, so references cannot be probed), a town hall only its
// communes' (403).
func (s *Service) load(ctx context.Context, who auth.Claims, ref string) (store.Procuration, error) {
	return s.loadWith(ctx, who, ref, s.read)
}

func (s *Service) loadWith(ctx context.Context, who auth.Claims, ref string, read reader) (store.Procuration, error) {
	if who.Role != auth.RoleGrantor {
		// Agents read any reference: their reads are bounded, so that
		// guessing references is slow, and their misses audited.
		if ok, wait, err := s.limits.Allow(ctx, readsPerAgent, who.Identity(), s.Now()); err != nil {
			return store.Procuration{}, s.infra(ctx, err)
		} else if !ok {
			return store.Procuration{}, errs.TooManyRequests("Trop de consultations de dossiers, réessayez dans quelques minutes.", wait)
		}
	}
	ref = reference.Normalize(ref)
	if !reference.Valid(ref) {
		return store.Procuration{}, s.miss(ctx, who, errNoProcuration)
	}
	p, err := read(ctx, ref)
	if errors.Is(err, errNoProcuration) {
		return p, s.miss(ctx, who, err)
	}
	if err != nil {
		return p, err
	}
	switch who.Role {
	case auth.RoleGrantor:
		if p.GrantorSub != who.Identity() {
			return p, errNoProcuration
		}
	case auth.RoleTownHall:
		if !who.ServesCommune(p.GrantorCommuneCode) {
			// The same answer as for a reference that does not exist.
			return p, s.miss(ctx, who, errNoProcuration)
		}
	}
	return p, nil
}

// readsPerAgent bounds an agent's reads of dossiers by reference: an
// officer at a counter reads a few dozen a day.
var readsPerAgent = ratelimit.Rule{Name: "reads", Limit: 120, Window: time.Hour}

// missesBeforeAlert is how many references an agent may miss in an hour
// before the run is reported as a possible enumeration.
var missesBeforeAlert = ratelimit.Rule{Name: "misses", Limit: 10, Window: time.Hour}

// miss audits an agent's read of a reference that does not exist or is
// not theirs, and raises an alert on a run of them; it answers answer.
func (s *Service) miss(ctx context.Context, who auth.Claims, answer error) error {
	if who.Role == auth.RoleGrantor {
		return answer
	}
	if err := s.audit(ctx, store.Audit{ActorSub: who.Identity(), ActorRole: who.Role, Action: "view.miss"}); err != nil {
		return err
	}
	if ok, _, err := s.limits.Allow(ctx, missesBeforeAlert, who.Identity(), s.Now()); err == nil && !ok {
		logging.Ctx(ctx, s.Log).Error("alert: an agent misses many references, possible enumeration", zap.String("role", who.Role))
		if err := s.audit(ctx, store.Audit{ActorSub: who.Identity(), ActorRole: who.Role, Action: "alert.enumeration"}); err != nil {
			return err
		}
	}
	return answer
}

// Procuration is a dossier as its grantor, the police, its town hall or
// support read it. Agents' reads are audited.
func (s *Service) Procuration(ctx context.Context, who auth.Claims, ref string) (store.Procuration, error) {
	return s.ProcurationWith(ctx, who, ref, nil)
}

// ProcurationWith is Procuration with the dossier perhaps already read
// with the page's session (ReadAhead): taken for the read when it is this
// reference's, every check made as ever; nothing held, it is read here.
func (s *Service) ProcurationWith(ctx context.Context, who auth.Claims, ref string, read *store.DossierRead) (store.Procuration, error) {
	return s.view(ctx, who, ref, func(ctx context.Context, ref string) (store.Procuration, error) {
		if read.Holds(ref, false) {
			return read.Procuration, nil
		}
		return s.read(ctx, ref)
	})
}

// ReadAhead is the read a page showing the dossier of ref may make with
// its session, for ProcurationWith (examine: ExamineProcurationWith); nil
// for a reference no dossier can have.
func ReadAhead(ref string, examine bool) *store.DossierRead {
	ref = reference.Normalize(ref)
	if !reference.Valid(ref) {
		return nil
	}
	return &store.DossierRead{Reference: ref, Examine: examine}
}

// view is a read of a dossier by someone who may see it, audited when an
// agent reads it.
func (s *Service) view(ctx context.Context, who auth.Claims, ref string, read reader) (store.Procuration, error) {
	if err := requireRole(who, auth.RoleGrantor, auth.RolePolice, auth.RoleTownHall, auth.RoleSupport); err != nil {
		return store.Procuration{}, err
	}
	p, err := s.loadWith(ctx, who, ref, read)
	if err != nil {
		return p, err
	}
	if who.Role != auth.RoleGrantor {
		// Agents reading a grantor's identity leave a trace.
		if err := s.audit(ctx, store.Audit{ActorSub: who.Identity(), ActorRole: who.Role, Action: "view", Reference: p.Reference}); err != nil {
			return p, err
		}
	}
	return p, nil
}

// CancelProcuration is the grantor's cancellation, allowed at any time (L75).
func (s *Service) CancelProcuration(ctx context.Context, who auth.Claims, ref string) (store.Procuration, error) {
	if err := requireRole(who, auth.RoleGrantor); err != nil {
		return store.Procuration{}, err
	}
	p, err := s.load(ctx, who, ref)
	if err != nil {
		return p, err
	}
	if p.Status.Final() {
		return p, wrongState(p.Status)
	}
	return s.update(ctx, p, dossier.UpdateCancel, dossier.Cancellation{Actor: actor(who)})
}

// Verification is the officer's finding.
type Verification struct {
	Outcome  string
	IDKind   string
	IDNumber string
	Reason   string
}

// VerifyIdentity records the police or gendarmerie's verification.
func (s *Service) VerifyIdentity(ctx context.Context, who auth.Claims, ref string, v Verification) (store.Procuration, error) {
	if err := requireRole(who, auth.RolePolice); err != nil {
		return store.Procuration{}, err
	}
	var fe errs.Fields
	if v.Outcome != dossier.PoliceVerified && v.Outcome != dossier.PoliceRefused {
		fe.Add("outcome", "verified ou refused attendu")
	}
	kind := strings.ToLower(strings.TrimSpace(v.IDKind))
	if msg := valid.Text(kind, 40, true); msg != "" {
		fe.Add("id_document.kind", msg)
	} else if strings.ContainsFunc(kind, func(r rune) bool { return !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '_' || r == '-') }) {
		fe.Add("id_document.kind", "nature de pièce attendue : cni, passeport, titre_sejour, permis...")
	}
	// A refusal may come from a person with no valid document to show.
	number := strings.Join(strings.Fields(v.IDNumber), "")
	if msg := valid.Text(number, 40, v.Outcome == dossier.PoliceVerified); msg != "" {
		fe.Add("id_document.number", msg)
	} else if number != "" && len(number) < 4 {
		fe.Add("id_document.number", "4 caractères au moins")
	}
	reason := reasonField(&fe, v.Reason, v.Outcome == dossier.PoliceRefused, "motif obligatoire en cas de refus")
	if err := fe.Err(); err != nil {
		return store.Procuration{}, err
	}
	p, note, err := s.agentStep(ctx, who, ref, dossier.AwaitingPolice, reason)
	if err != nil {
		return p, err
	}
	return s.update(ctx, p, dossier.UpdatePoliceVerification, dossier.PoliceVerification{
		Actor: actor(who), Outcome: v.Outcome, Rank: who.Rank, Unit: who.Unit, ReasonNote: note,
		IDDocumentKind: kind, IDDocumentFingerprint: s.fingerprint(kind, number),
	})
}

// reasonField checks the free text an agent typed, required for a refusal.
func reasonField(fe *errs.Fields, reason string, required bool, missing string) string {
	reason = strings.TrimSpace(reason)
	if msg := valid.Paragraph(reason, 1000, required); msg != "" {
		if reason == "" {
			msg = missing
		}
		fe.Add("reason", msg)
	}
	return reason
}

// agentStep prepares an agent's action on a dossier in the status want:
// the agent's name kept apart from the workflow, the reason they typed
// stored as a note whose id the workflow carries.
func (s *Service) agentStep(ctx context.Context, who auth.Claims, ref string, want dossier.Status, reason string) (store.Procuration, string, error) {
	p, err := s.load(ctx, who, ref)
	if err != nil {
		return p, "", err
	}
	if p.Status != want {
		return p, "", wrongState(p.Status)
	}
	if err := s.Store.UpsertAgent(ctx, store.Agent{Sub: who.Identity(), Role: who.Role, GivenName: who.GivenName, FamilyName: who.FamilyName,
		Rank: who.Rank, Unit: who.Unit}); err != nil {
		return p, "", s.infra(ctx, err)
	}
	note, err := s.Store.SaveNote(ctx, p.Reference, reason)
	return p, note, s.infra(ctx, err)
}

// fingerprint lets an audit match a document number without storing it.
func (s *Service) fingerprint(kind, number string) string {
	if number == "" {
		return ""
	}
	mac := hmac.New(sha256.New, s.FingerprintKey)
	mac.Write([]byte(kind + ":" + strings.ToUpper(strings.Join(strings.Fields(number), ""))))
	return hex.EncodeToString(mac.Sum(nil)[:16])
}

// Decision is the town hall's.
type Decision struct {
	Outcome string
	Reason  string
}

// DecideProcuration records the town hall's decision; validating past the
// holder's cap is refused and changes nothing.
func (s *Service) DecideProcuration(ctx context.Context, who auth.Claims, ref string, d Decision) (store.Procuration, error) {
	if err := requireRole(who, auth.RoleTownHall); err != nil {
		return store.Procuration{}, err
	}
	var fe errs.Fields
	if d.Outcome != dossier.TownHallValidated && d.Outcome != dossier.TownHallInvalidated {
		fe.Add("outcome", "validated ou invalidated attendu")
	}
	reason := reasonField(&fe, d.Reason, d.Outcome == dossier.TownHallInvalidated, "motif obligatoire en cas d'invalidation")
	if err := fe.Err(); err != nil {
		return store.Procuration{}, err
	}
	p, note, err := s.agentStep(ctx, who, ref, dossier.AwaitingTownHall, reason)
	if err != nil {
		return p, err
	}
	return s.update(ctx, p, dossier.UpdateTownHallDecision, dossier.TownHallDecision{Actor: actor(who), Outcome: d.Outcome, ReasonNote: note})
}

// update runs a portal action on the dossier's workflow and answers with the
// dossier as the action left it: the handler records the step before it
// returns, so the read model is already up to date.
func (s *Service) update(ctx context.Context, p store.Procuration, name string, arg any) (store.Procuration, error) {
	ctx, cancel := context.WithTimeout(ctx, updateTimeout)
	defer cancel()
	var status dossier.Status
	err := s.runUpdate(ctx, dossier.WorkflowID(p.Reference), name, arg, &status)
	if err != nil {
		return p, s.updateFailure(ctx, p, err)
	}
	return s.read(context.WithoutCancel(ctx), p.Reference)
}

func (s *Service) updateFailure(ctx context.Context, p store.Procuration, err error) error {
	if st, ok := dossier.IsWrongState(err); ok {
		if st == "" {
			st = p.Status
		}
		return wrongState(st)
	}
	if reason, ok := dossier.CapReached(err); ok {
		return errs.ConflictIn("Validation impossible : "+reason+".", string(dossier.AwaitingTownHall))
	}
	var notFound *serviceerror.NotFound
	if errors.As(err, &notFound) {
		// The workflow has ended: the read model's status is final, or the
		// reconciliation will make it so.
		if fresh, ferr := s.Store.Procuration(context.WithoutCancel(ctx), p.Reference); ferr == nil {
			p = fresh
		}
		return wrongState(p.Status)
	}
	if errors.Is(err, context.DeadlineExceeded) || errs.Unreachable(err) {
		logging.Ctx(ctx, s.Log).Warn("portal action not completed", zap.String("reference", p.Reference), zap.Error(err))
		return errs.ServiceUnavailable(err)
	}
	return s.infra(ctx, err)
}

func wrongState(st dossier.Status) error {
	return errs.ConflictIn(fmt.Sprintf("Action impossible : la procuration est %s.", st.French()), string(st))
}

// CommuneProcurations pages through a commune's dossiers (its town hall, support).
func (s *Service) CommuneProcurations(ctx context.Context, who auth.Claims, code string, status dossier.Status, cursor string, limit int) ([]store.Procuration, string, error) {
	if err := requireRole(who, auth.RoleTownHall, auth.RoleSupport); err != nil {
		return nil, "", err
	}
	if who.Role == auth.RoleTownHall && !who.ServesCommune(code) {
		return nil, "", errs.Forbidden("Vous n'agissez pas pour cette commune.")
	}
	items, next, err := s.Store.ListByCommune(ctx, code, status, cursor, limit)
	if errors.Is(err, store.ErrBadCursor) {
		return nil, "", errs.InvalidField("query.cursor", "curseur invalide")
	}
	return items, next, s.infra(ctx, err)
}

func actor(c auth.Claims) dossier.Actor { return dossier.Actor{Sub: c.Identity(), Role: c.Role} }

// MyProcurations lists the signed-in grantor's dossiers, newest first.
func (s *Service) MyProcurations(ctx context.Context, who auth.Claims) ([]store.Procuration, error) {
	if err := requireRole(who, auth.RoleGrantor); err != nil {
		return nil, err
	}
	items, err := s.Store.ProcurationsOf(ctx, who.Identity())
	return items, s.infra(ctx, err)
}

// Examination is a dossier with what an agent checks: both people as the
// register has them (nil when absent) and the holder's procurations
// (L73: at most 1 established in France), this one included if it holds a
// slot.
type Examination struct {
	Dossier store.Procuration
	store.Examination
}

// ExamineProcuration reads a dossier for the police or its town hall, with
// the register's entries beside what the identity provider asserted.
func (s *Service) ExamineProcuration(ctx context.Context, who auth.Claims, ref string) (Examination, error) {
	return s.ExamineProcurationWith(ctx, who, ref, nil)
}

// ExamineProcurationWith is ExamineProcuration with the dossier perhaps
// already read with the page's session, as ProcurationWith.
func (s *Service) ExamineProcurationWith(ctx context.Context, who auth.Claims, ref string, read *store.DossierRead) (Examination, error) {
	var x Examination
	p, err := s.view(ctx, who, ref, func(ctx context.Context, ref string) (store.Procuration, error) {
		if read.Holds(ref, true) {
			x.Examination = read.Examination
			return read.Procuration, nil
		}
		p, found, err := s.Store.Examine(ctx, ref)
		x.Examination = found
		return p, s.notFoundOr(ctx, err, errNoProcuration)
	})
	x.Dossier = p
	return x, err
}

// Queue is what waits for a town hall: a page of a commune's dossiers and
// the counts by status.
type Queue struct {
	Commune store.Commune
	Counts  map[dossier.Status]int
	Items   []store.Procuration
	Next    string
}

// TownHallQueue is a commune's queue, oldest first (its town hall, support).
func (s *Service) TownHallQueue(ctx context.Context, who auth.Claims, commune string, status dossier.Status, cursor string) (Queue, error) {
	var q Queue
	var err error
	if q.Commune, err = s.communeByCode(ctx, commune); err != nil {
		return q, s.notFoundOr(ctx, err, errs.NotFound("Commune inconnue."))
	}
	// The page and the counts at once.
	counts := make(chan error, 1)
	go func() {
		var err error
		q.Counts, err = s.Store.CountByStatus(ctx, commune)
		counts <- err
	}()
	q.Items, q.Next, err = s.CommuneProcurations(ctx, who, commune, status, cursor, 50)
	if countErr := <-counts; err == nil && countErr != nil {
		err = s.infra(ctx, countErr)
	}
	return q, err
}

// SearchDossiers finds, among the communes a town hall serves, the dossiers
// of a reference or a family name.
func (s *Service) SearchDossiers(ctx context.Context, who auth.Claims, text string) ([]store.Procuration, error) {
	if err := requireRole(who, auth.RoleTownHall); err != nil {
		return nil, err
	}
	text = strings.TrimSpace(text)
	if msg := valid.Text(text, 100, true); msg != "" {
		return nil, errs.InvalidField("q", msg)
	}
	items, err := s.Store.SearchCommune(ctx, who.Communes, reference.Normalize(text), 50)
	if err == nil && len(items) == 0 {
		items, err = s.Store.SearchCommune(ctx, who.Communes, text, 50)
	}
	return items, s.infra(ctx, err)
}

// SigningSheet lists, for a round and a polling station of a commune, the
// proxies to add to the sign-in sheet (its town hall).
func (s *Service) SigningSheet(ctx context.Context, who auth.Claims, commune, electionID string, round int, station string) ([]store.Signing, time.Time, error) {
	if err := requireRole(who, auth.RoleTownHall, auth.RoleSupport); err != nil {
		return nil, time.Time{}, err
	}
	if who.Role == auth.RoleTownHall && !who.ServesCommune(commune) {
		return nil, time.Time{}, errs.Forbidden("Vous n'agissez pas pour cette commune.")
	}
	if msg := valid.Station(station); msg != "" {
		return nil, time.Time{}, errs.InvalidField("station", msg)
	}
	e, err := s.Store.Election(ctx, electionID)
	if err != nil {
		return nil, time.Time{}, s.notFoundOr(ctx, err, errs.InvalidField("election", "élection inconnue"))
	}
	var day time.Time
	for _, r := range e.Rounds {
		if r.Number == round {
			day, _ = time.Parse(time.DateOnly, r.Date)
		}
	}
	if day.IsZero() {
		return nil, day, errs.InvalidField("round", "tour inconnu")
	}
	sheet, err := s.Store.SigningSheet(ctx, commune, station, day)
	return sheet, day, s.infra(ctx, err)
}

// CommuneStations lists the polling stations of a commune, for its town
// hall to choose one by name.
func (s *Service) CommuneStations(ctx context.Context, who auth.Claims, commune string) ([]store.PollingStation, error) {
	if err := requireRole(who, auth.RoleTownHall, auth.RoleSupport); err != nil {
		return nil, err
	}
	if who.Role == auth.RoleTownHall && !who.ServesCommune(commune) {
		return nil, errs.Forbidden("Vous n'agissez pas pour cette commune.")
	}
	stations, err := s.Store.CommuneStations(ctx, commune)
	return stations, s.infra(ctx, err)
}

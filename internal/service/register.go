package service

import (
	"context"
	"errors"
	"io"
	"strings"
	"sync"
	"time"

	"github.com/procurations/procuration/internal/auth"
	"github.com/procurations/procuration/internal/errs"
	"github.com/procurations/procuration/internal/logging"
	"github.com/procurations/procuration/internal/ratelimit"
	"github.com/procurations/procuration/internal/store"
	"github.com/procurations/procuration/internal/valid"
)

// ImportRegister loads a register extract (support only), as one unit.
func (s *Service) ImportRegister(ctx context.Context, who auth.Claims, csv io.Reader) (store.Import, error) {
	if err := requireRole(who, auth.RoleSupport); err != nil {
		return store.Import{}, err
	}
	res, err := s.Store.ImportRegister(ctx, csv, s.Now())
	switch {
	case errors.Is(err, store.ErrImportHeader):
		return res, errs.InvalidField("body", err.Error())
	case err != nil && !errs.Unreachable(err):
		logging.Ctx(ctx, s.Log).Error("register import failed")
		return res, &errs.Error{Kind: errs.KindInvalid, Message: errs.InvalidMessage, Err: err,
			Fields: []errs.Field{{Location: "body", Message: "le fichier n'a pas pu être importé ; aucune ligne n'a été chargée"}}}
	case err != nil:
		return res, s.infra(ctx, err)
	}
	return res, s.audit(ctx, store.Audit{ActorSub: who.Identity(), ActorRole: who.Role, Action: "register.import",
		Details: map[string]any{"imported": res.Imported, "rejected": len(res.Rejected) + res.MoreRejected}})
}

// Lookup is "find my voter number".
type Lookup struct {
	FamilyName  string
	GivenNames  string
	BirthDate   string
	CommuneCode string
}

// Lookups are bounded per person and per client: the register is not for
// harvesting.
var (
	lookupsPerIdentity = ratelimit.Rule{Name: "lookup-identity", Limit: 20, Window: time.Hour}
	lookupsPerClient   = ratelimit.Rule{Name: "lookup-client", Limit: 60, Window: time.Hour}
)

// LookupVoter finds a voter number from an exact identity (a grantor, or a
// matching platform's requester or volunteer holding a link of their
// match): names as registers write them, no wildcard; one voter or none.
// Every lookup is audited, found or not.
func (s *Service) LookupVoter(ctx context.Context, who auth.Claims, l Lookup, remote string) (store.Voter, error) {
	if err := requireRole(who, auth.RoleGrantor, auth.RoleRequester, auth.RoleVolunteer); err != nil {
		return store.Voter{}, err
	}
	if who.Role != auth.RoleGrantor && who.Purpose != auth.PurposeMatch {
		return store.Voter{}, errs.Forbidden("Ce lien ne permet pas de rechercher un numéro d'électeur.")
	}
	var fe errs.Fields
	if msg := valid.Name(strings.TrimSpace(l.FamilyName)); msg != "" {
		fe.Add("family_name", msg)
	}
	if msg := valid.Name(strings.TrimSpace(l.GivenNames)); msg != "" {
		fe.Add("given_names", msg)
	}
	birth, msg := valid.BirthDate(l.BirthDate, s.Now())
	if msg != "" {
		fe.Add("birth_date", msg)
	}
	commune, err := s.commune(ctx, l.CommuneCode, "commune_code", &fe)
	if err != nil {
		return store.Voter{}, err
	}
	if err := fe.Err(); err != nil {
		return store.Voter{}, err
	}
	for rule, key := range map[ratelimit.Rule]string{lookupsPerIdentity: who.Identity(), lookupsPerClient: remote} {
		if ok, wait, err := s.limits.Allow(ctx, rule, key, s.Now()); err != nil {
			return store.Voter{}, s.infra(ctx, err)
		} else if !ok {
			return store.Voter{}, errs.TooManyRequests("Trop de recherches, réessayez plus tard.", wait)
		}
	}
	found, err := s.registerEntry(ctx, l.FamilyName, l.GivenNames, commune.Code, birth)
	if err != nil {
		return store.Voter{}, err
	}
	if err := s.audit(ctx, store.Audit{ActorSub: who.Identity(), ActorRole: who.Role, Action: "register.lookup",
		Details: map[string]any{"found": found.NNE != ""}}); err != nil {
		return store.Voter{}, err
	}
	if found.NNE == "" {
		return store.Voter{}, errs.NotFound("Aucun électeur ne correspond exactement à ces informations dans cette commune.")
	}
	return found, nil
}

// Elections lists the elections and their rounds.
func (s *Service) Elections(ctx context.Context, who auth.Claims) ([]store.Election, error) {
	if who.Identity() == "" {
		return nil, errs.Unauthenticated("Authentification requise.")
	}
	e, err := s.Store.Elections(ctx)
	if e == nil {
		e = []store.Election{}
	}
	return e, s.infra(ctx, err)
}

// UpcomingElections are the elections with a round to come, for the pages
// anyone reads.
func (s *Service) UpcomingElections(ctx context.Context) ([]store.Election, error) {
	all, err := s.elections.get(ctx, s.Store)
	if err != nil {
		return nil, s.infra(ctx, err)
	}
	today := s.Now().Format(time.DateOnly)
	var out []store.Election
	for _, e := range all {
		for _, r := range e.Rounds {
			if r.Date >= today {
				out = append(out, e)
				break
			}
		}
	}
	return out, nil
}

// electionCache keeps the elections a few seconds: every page shows them,
// and they change a few times a year.
type electionCache struct {
	mu   sync.Mutex
	list []store.Election
	at   time.Time
}

const electionsTTL = 15 * time.Second

func (c *electionCache) get(ctx context.Context, st *store.Store) ([]store.Election, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.list == nil || time.Since(c.at) > electionsTTL {
		list, err := st.Elections(ctx)
		if err != nil {
			return nil, err
		}
		c.list, c.at = list, time.Now()
	}
	return c.list, nil
}

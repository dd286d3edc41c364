package service

import (
	"context"
	"errors"
	"io"
	"strings"

	"github.com/procurations/procuration/internal/auth"
	"github.com/procurations/procuration/internal/errs"
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
		s.Log.Error("register import failed")
		return res, &errs.Error{Kind: errs.KindInvalid, Message: errs.InvalidMessage, Err: err,
			Fields: []errs.Field{{Location: "body", Message: "le fichier n'a pas pu être importé ; aucune ligne n'a été chargée"}}}
	case err != nil:
		return res, s.infra(err)
	}
	return res, s.audit(ctx, store.Audit{ActorSub: who.Subject, ActorRole: who.Role, Action: "register.import",
		Details: map[string]any{"imported": res.Imported, "rejected": len(res.Rejected) + res.MoreRejected}})
}

// Lookup is "find my voter number".
type Lookup struct {
	FamilyName  string
	GivenNames  string
	BirthDate   string
	CommuneCode string
}

// LookupVoter finds a voter number from an identity (a grantor, or a
// matching platform's requester or volunteer).
func (s *Service) LookupVoter(ctx context.Context, who auth.Claims, l Lookup) (store.Voter, error) {
	if err := requireRole(who, auth.RoleGrantor, auth.RoleRequester, auth.RoleVolunteer); err != nil {
		return store.Voter{}, err
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
	if _, err := s.commune(ctx, l.CommuneCode, "commune_code", &fe); err != nil {
		return store.Voter{}, err
	}
	if err := fe.Err(); err != nil {
		return store.Voter{}, err
	}
	v, err := s.Store.LookupVoter(ctx, l.FamilyName, l.GivenNames, birth, l.CommuneCode)
	return v, s.notFoundOr(err, errs.NotFound("Aucun électeur ne correspond à ces informations dans cette commune."))
}

// Elections lists the elections and their rounds.
func (s *Service) Elections(ctx context.Context, who auth.Claims) ([]store.Election, error) {
	if who.Subject == "" {
		return nil, errs.Unauthenticated("Authentification requise.")
	}
	e, err := s.Store.Elections(ctx)
	if e == nil {
		e = []store.Election{}
	}
	return e, s.infra(err)
}

package service

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"slices"
	"strings"
	"time"

	"github.com/procurations/procuration/internal/auth"
	"github.com/procurations/procuration/internal/errs"
	"github.com/procurations/procuration/internal/identity"
	"github.com/procurations/procuration/internal/ratelimit"
	"github.com/procurations/procuration/internal/store"
	"github.com/procurations/procuration/internal/valid"
)

// SignupForm is what a requester or a volunteer fills in on a campaign's site.
type SignupForm struct {
	GivenNames     string
	FamilyName     string
	BirthDate      string
	Email          string
	Phone          string
	NNE            string
	CommuneCode    string
	PollingStation string
	Rounds         []int
	Consent        bool
}

// SignupReceipt is all a sign-up answers, whatever already exists: "check
// your email". Only the owner of the address learns more, from the email.
type SignupReceipt struct {
	// Attempt names this attempt for the caller's logs; it is not the
	// record's id.
	Attempt string
}

// SignUp registers a person on one side of a campaign; an email to the
// address given confirms. remote is the caller's network address, for the
// rate limit. The answer is the same whether the person, the address or
// the other side already exist: a sign-up is no oracle.
func (s *Service) SignUp(ctx context.Context, side, campaignID string, f SignupForm, remote string) (SignupReceipt, error) {
	receipt := SignupReceipt{Attempt: newID("a")}
	if side != store.SideRequest && side != store.SideVolunteer {
		return receipt, errs.NotFound("Introuvable.")
	}
	c, err := s.Store.Campaign(ctx, campaignID)
	if err != nil {
		return receipt, s.notFoundOr(ctx, err, errNoCampaign)
	}
	var fe errs.Fields
	given, family := strings.TrimSpace(f.GivenNames), strings.TrimSpace(f.FamilyName)
	if msg := valid.Name(given); msg != "" {
		fe.Add("given_names", msg)
	}
	if msg := valid.Name(family); msg != "" {
		fe.Add("family_name", msg)
	}
	birth, msg := valid.BirthDate(f.BirthDate, s.Now())
	if msg == "" && s.Now().Sub(birth).Hours()/24/365.25 < 18 {
		msg = "il faut être majeur pour voter"
	}
	if msg != "" {
		fe.Add("birth_date", msg)
	}
	email := strings.TrimSpace(f.Email)
	if msg := valid.Email(email); msg != "" {
		fe.Add("email", msg)
	}
	if msg := valid.Phone(f.Phone); msg != "" {
		fe.Add("phone", msg)
	}
	if f.NNE != "" && !store.ValidNNE(f.NNE) {
		fe.Add("nne", "numéro national d'électeur : 8 ou 9 chiffres attendus")
	}
	commune, err := s.commune(ctx, f.CommuneCode, "commune_code", &fe)
	if err != nil {
		return receipt, err
	}
	f.CommuneCode = commune.Code
	if len(c.Site.Communes) > 0 && !fe.Has("commune_code") && !slices.Contains(c.Site.Communes, f.CommuneCode) {
		fe.Add("commune_code", "cette campagne ne couvre pas cette commune")
	}
	if msg := valid.Station(f.PollingStation); msg != "" {
		fe.Add("polling_station", msg)
	}
	rounds := slices.Clone(f.Rounds)
	slices.Sort(rounds)
	if !slices.Equal(rounds, []int{1}) && !slices.Equal(rounds, []int{2}) && !slices.Equal(rounds, []int{1, 2}) {
		fe.Add("rounds", "cochez le 1er tour, le 2d tour ou les deux")
	}
	if !f.Consent {
		fe.Add("consent", "le consentement est nécessaire pour s'inscrire")
	}
	if err := fe.Err(); err != nil {
		return receipt, err
	}

	// Attempts count, not records: signing up again is an attempt too.
	for rule, key := range map[ratelimit.Rule]string{
		{Name: "signup-client", Limit: s.SignupsPerAddress, Window: time.Hour}: remote,
		{Name: "signup-email", Limit: s.SignupsPerEmail, Window: time.Hour}:    strings.ToLower(email),
	} {
		if ok, wait, err := s.limits.Allow(ctx, rule, key, s.Now()); err != nil {
			return receipt, s.infra(ctx, err)
		} else if !ok {
			return receipt, errs.TooManyRequests("Trop d'inscriptions, réessayez plus tard.", wait)
		}
	}
	if f.NNE == "" && f.PollingStation == "" {
		// The register knows the voter number and polling station of an
		// exact identity: matching by station needs them. Nothing of it is
		// answered; the person reads it in their own emails.
		voter, err := s.registerEntry(ctx, family, given, f.CommuneCode, birth)
		if err != nil {
			return receipt, err
		}
		f.NNE, f.PollingStation = voter.NNE, voter.PollingStation
	}
	rounds16 := make([]int16, len(rounds))
	for i, r := range rounds {
		rounds16[i] = int16(r)
	}
	_, _, err = s.Store.SignUp(ctx, store.Signup{
		ID: newID(side[:1]), CampaignID: c.ID, Side: side, GivenNames: given, FamilyName: family, BirthDate: birth, Email: email,
		Phone: f.Phone, NNE: f.NNE, CommuneCode: f.CommuneCode, PollingStation: f.PollingStation, Rounds: rounds16,
	})
	if errors.Is(err, store.ErrOtherSide) {
		// The same person and address on the other side: nothing changes,
		// and the answer does not say so.
		return receipt, nil
	}
	if err != nil {
		return receipt, s.infra(ctx, err)
	}
	// The confirmation email leaves from the row itself: the sender reads
	// the unconfirmed sign-ups in order (workflow signup-confirmations), so
	// a surge costs one short transaction each and loses nothing.
	return receipt, nil
}

// newID names a sign-up: its side's initial and 16 random hex digits.
func newID(prefix string) string {
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	return prefix + "-" + hex.EncodeToString(b)
}

// ConfirmSignup puts a sign-up in the pool, from the identity of its
// confirmation link.
func (s *Service) ConfirmSignup(ctx context.Context, who auth.Claims, id string) (store.Signup, error) {
	if who.Subject != id || (who.Role != auth.RoleRequester && who.Role != auth.RoleVolunteer) {
		return store.Signup{}, errs.Unauthenticated("Lien de confirmation invalide ou expiré.")
	}
	if !who.Allows(auth.PurposeConfirmSignup, id) {
		return store.Signup{}, errs.Forbidden("Ce lien ne sert pas à confirmer cette inscription.")
	}
	status, err := s.Store.ConfirmSignup(ctx, id)
	if errors.Is(err, store.ErrWithdrawn) {
		return store.Signup{}, errs.ConflictIn("Cette inscription ne peut plus être confirmée.", string(status))
	}
	if err != nil {
		return store.Signup{}, s.notFoundOr(ctx, err, errs.NotFound("Inscription introuvable."))
	}
	return store.Signup{ID: id, Status: status}, nil
}

// Signups pages through a campaign's requesters or volunteers (back office).
func (s *Service) Signups(ctx context.Context, who auth.Claims, campaignID string, f store.SignupFilter) ([]store.Signup, string, error) {
	if _, err := s.campaignAgent(ctx, who, campaignID); err != nil {
		return nil, "", err
	}
	items, next, err := s.Store.Signups(ctx, campaignID, f)
	if errors.Is(err, store.ErrBadCursor) {
		return nil, "", errs.InvalidField("query.cursor", "curseur invalide")
	}
	return items, next, s.infra(ctx, err)
}

// registerEntry is the one voter of the commune with exactly this identity,
// or none.
func (s *Service) registerEntry(ctx context.Context, family, given, commune string, birth time.Time) (store.Voter, error) {
	born, err := s.Store.VotersBorn(ctx, commune, birth)
	if err != nil {
		return store.Voter{}, s.infra(ctx, err)
	}
	var found []store.Voter
	for _, v := range born {
		if identity.Same(v.FamilyName, family) && identity.Same(v.GivenNames, given) {
			found = append(found, v)
		}
	}
	if len(found) != 1 {
		return store.Voter{}, nil
	}
	return found[0], nil
}

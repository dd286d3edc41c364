package service

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/procurations/procuration/internal/auth"
	"github.com/procurations/procuration/internal/errs"
	"github.com/procurations/procuration/internal/store"
	"github.com/procurations/procuration/internal/valid"
)

// ErrNoRight: the identity provider knows the agent, this service gives
// them no right (yet).
var ErrNoRight = errs.Forbidden("Aucun droit ne vous est attribué sur ce service.")

// AgentSignedIn is an agent's sign-in: the rights granted to their email
// become their identity's, then AgentSession says what they hold.
func (s *Service) AgentSignedIn(ctx context.Context, who auth.Claims) (auth.Claims, error) {
	if err := s.Store.BindRights(ctx, who.Identity(), who.Email); err != nil {
		return who, s.infra(ctx, err)
	}
	return s.AgentSession(ctx, who)
}

// AgentSession turns what the agents' identity provider says of someone
// (who they are) into what they may do here, from the rights stored in
// PostgreSQL: the role, the unit and rank of an officer, the communes of a
// town hall agent. With no right the answer is ErrNoRight.
func (s *Service) AgentSession(ctx context.Context, who auth.Claims) (auth.Claims, error) {
	return s.AgentSessionWith(ctx, who, nil)
}

// AgentSessionWith is AgentSession with the agent's active rights already
// read (with their session); none read: they are read here.
func (s *Service) AgentSessionWith(ctx context.Context, who auth.Claims, rights []store.Right) (auth.Claims, error) {
	var err error
	if len(rights) == 0 {
		rights, err = s.Store.ActiveRights(ctx, who.Identity(), s.Now())
	}
	if err == nil && len(rights) == 0 {
		// Signed in without a right, one granted since to their email.
		if err = s.Store.BindRights(ctx, who.Identity(), who.Email); err == nil {
			rights, err = s.Store.ActiveRights(ctx, who.Identity(), s.Now())
		}
	}
	if err != nil {
		return who, s.infra(ctx, err)
	}
	if len(rights) == 0 {
		return who, ErrNoRight
	}
	r := rights[0]
	who.Role, who.Unit, who.Rank, who.Admin = r.Role, r.Unit, r.Rank, r.Admin
	if who.FamilyName == "" {
		who.FamilyName = who.UsualName
	}
	for _, x := range rights {
		if x.Role == r.Role {
			who.Communes = append(who.Communes, x.Communes...)
			who.Campaigns = append(who.Campaigns, x.Campaigns...)
			who.Admin = who.Admin || x.Admin
		}
	}
	slices.Sort(who.Communes)
	who.Communes = slices.Compact(who.Communes)
	slices.Sort(who.Campaigns)
	who.Campaigns = slices.Compact(who.Campaigns)
	return who, nil
}

// Grant is a right to give.
type Grant struct {
	Email      string
	Role       string
	Unit       string
	Rank       string
	Communes   []string
	Campaigns  []string
	Admin      bool
	ValidUntil string // YYYY-MM-DD, empty: no end
}

// GrantRight gives an agent a right: support gives any; a town hall's
// administrator invites agents of its own communes; a campaign's
// administrator invites the back office team of its own campaigns.
func (s *Service) GrantRight(ctx context.Context, who auth.Claims, g Grant) (store.Right, error) {
	admin := who.Role == auth.RoleTownHall && who.Admin
	team := who.Role == auth.RoleBackOffice
	if who.Role != auth.RoleSupport && !admin && !team {
		return store.Right{}, errs.Forbidden("Seul le support ou l'administrateur d'une mairie attribue des droits.")
	}
	var fe errs.Fields
	email := strings.ToLower(strings.TrimSpace(g.Email))
	if msg := valid.Email(email); msg != "" {
		fe.Add("email", msg)
	}
	switch g.Role {
	case auth.RolePolice:
		if msg := valid.Text(g.Unit, 120, true); msg != "" {
			fe.Add("unit", msg)
		}
		if msg := valid.Text(g.Rank, 60, true); msg != "" {
			fe.Add("rank", msg)
		}
	case auth.RoleTownHall:
		if len(g.Communes) == 0 {
			fe.Add("communes", "au moins une commune")
		}
		for i, c := range g.Communes {
			if _, err := s.commune(ctx, c, fmt.Sprintf("communes[%d]", i), &fe); err != nil {
				return store.Right{}, err
			}
			if admin && !who.ServesCommune(c) {
				fe.Add(fmt.Sprintf("communes[%d]", i), "commune que vous n'administrez pas")
			}
		}
	case auth.RoleBackOffice:
		if len(g.Campaigns) == 0 {
			fe.Add("campaigns", "au moins une campagne")
		}
		for i, c := range g.Campaigns {
			loc := fmt.Sprintf("campaigns[%d]", i)
			if _, err := s.Store.Campaign(ctx, c); errors.Is(err, store.ErrNotFound) || !campaignID.MatchString(c) {
				fe.Add(loc, "campagne inconnue")
				continue
			} else if err != nil {
				return store.Right{}, s.infra(ctx, err)
			}
			if team {
				ok, err := s.CampaignAdmin(ctx, who, c)
				if err != nil {
					return store.Right{}, err
				}
				if !ok {
					fe.Add(loc, "campagne que vous n'administrez pas")
				}
			}
		}
	case auth.RoleSupport:
	default:
		fe.Add("role", "police, town_hall, support ou back_office attendu")
	}
	if admin && g.Role != auth.RoleTownHall {
		fe.Add("role", "une mairie n'attribue que des droits d'agent de mairie")
	}
	if team && g.Role != auth.RoleBackOffice {
		fe.Add("role", "une campagne n'attribue que des droits d'équipe de campagne")
	}
	var until *time.Time
	if g.ValidUntil != "" {
		d, err := time.Parse(time.DateOnly, g.ValidUntil)
		if err != nil || d.Before(s.Now().Truncate(24*time.Hour)) {
			fe.Add("valid_until", "date AAAA-MM-JJ à venir attendue")
		}
		until = &d
	}
	if err := fe.Err(); err != nil {
		return store.Right{}, err
	}
	communes, campaigns := []string{}, []string{}
	if g.Role == auth.RoleTownHall {
		communes = g.Communes
	}
	if g.Role == auth.RoleBackOffice {
		campaigns = g.Campaigns
	}
	r, err := s.Store.GrantRight(ctx, store.Right{Email: email, Role: g.Role, Unit: strings.TrimSpace(g.Unit), Rank: strings.TrimSpace(g.Rank),
		Communes: communes, Campaigns: campaigns, Admin: g.Admin && (g.Role == auth.RoleTownHall || g.Role == auth.RoleBackOffice),
		ValidFrom: s.Now(), ValidUntil: until,
		GrantedBy: who.Identity()})
	return r, s.infra(ctx, err)
}

// RevokeRight ends a right: support any, a town hall's administrator those
// of its communes.
func (s *Service) RevokeRight(ctx context.Context, who auth.Claims, id int64) error {
	r, err := s.Store.Right(ctx, id)
	if err != nil {
		return s.notFoundOr(ctx, err, errs.NotFound("Droit introuvable."))
	}
	allowed := who.Role == auth.RoleSupport || (who.Role == auth.RoleTownHall && who.Admin && r.Role == auth.RoleTownHall && allServed(who, r.Communes))
	if who.Role == auth.RoleBackOffice && r.Role == auth.RoleBackOffice && len(r.Campaigns) > 0 {
		allowed = true
		for _, c := range r.Campaigns {
			ok, err := s.CampaignAdmin(ctx, who, c)
			if err != nil {
				return err
			}
			allowed = allowed && ok
		}
	}
	if !allowed {
		return errs.Forbidden("Vous ne pouvez pas retirer ce droit.")
	}
	if r.Identity != nil && *r.Identity == who.Identity() {
		return errs.Conflict("Vous ne pouvez pas retirer votre propre droit : un autre administrateur ou le support le fera.")
	}
	err = s.Store.RevokeRight(ctx, id, who.Identity())
	if errors.Is(err, store.ErrNotFound) {
		return errs.Conflict("Ce droit est déjà retiré.")
	}
	return s.infra(ctx, err)
}

// Rights lists the rights who may manage.
func (s *Service) Rights(ctx context.Context, who auth.Claims) ([]store.Right, error) {
	var f store.RightFilter
	switch {
	case who.Role == auth.RoleSupport:
	case who.Role == auth.RoleTownHall && who.Admin:
		f = store.RightFilter{Role: auth.RoleTownHall, Communes: who.Communes}
	case who.Role == auth.RoleBackOffice:
		var mine []string
		for _, c := range who.Campaigns {
			if ok, err := s.CampaignAdmin(ctx, who, c); err != nil {
				return nil, err
			} else if ok {
				mine = append(mine, c)
			}
		}
		if len(mine) == 0 {
			return nil, errs.Forbidden("Vous ne gérez pas de droits.")
		}
		f = store.RightFilter{Role: auth.RoleBackOffice, Campaigns: mine}
	default:
		return nil, errs.Forbidden("Vous ne gérez pas de droits.")
	}
	r, err := s.Store.Rights(ctx, f)
	return r, s.infra(ctx, err)
}

func allServed(who auth.Claims, communes []string) bool {
	for _, c := range communes {
		if !who.ServesCommune(c) {
			return false
		}
	}
	return true
}

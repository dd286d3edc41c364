package service

import (
	"context"
	"strings"

	"github.com/procurations/procuration/internal/auth"
	"github.com/procurations/procuration/internal/cerfa"
	"github.com/procurations/procuration/internal/errs"
	"github.com/procurations/procuration/internal/match"
	"github.com/procurations/procuration/internal/store"
)

// Site is what a campaign's public site shows of it.
type Site struct {
	Campaign store.Campaign
	Election store.Election
}

// CampaignSite reads a campaign for its public site (no sign-in).
func (s *Service) CampaignSite(ctx context.Context, id string) (Site, error) {
	if !campaignID.MatchString(id) {
		return Site{}, errNoCampaign
	}
	c, err := s.Store.Campaign(ctx, id)
	if err != nil {
		return Site{}, s.notFoundOr(ctx, err, errNoCampaign)
	}
	e, err := s.Store.Election(ctx, c.ElectionID)
	if err != nil {
		return Site{}, s.infra(ctx, err)
	}
	return Site{Campaign: c, Election: e}, nil
}

// MatchPage is a match as one of its two people sees it on the campaign's
// site: the other's first name, commune and proximity until both accepted,
// then their contact details.
type MatchPage struct {
	Site
	Match store.Match
	// Party is the reader's side: requester or volunteer.
	Party string
	Self  store.Signup
	// Other is what the reader may know of the other person: first name
	// and commune, everything once both accepted.
	OtherFirstName, OtherCommune string
	Contact                      *store.Signup
	// Station is where the vote is cast (the requester's polling station).
	Station string
}

// Disclosed reports whether both accepted, so each sees the other's details.
func disclosed(st match.Status) bool {
	return st == match.Accepted || st == match.ProcurationLinked || st == match.Completed
}

// MatchForParty reads a match for one of its parties, from the link of
// their emails.
func (s *Service) MatchForParty(ctx context.Context, who auth.Claims, id string) (MatchPage, error) {
	m, party, err := s.loadMatch(ctx, who, id)
	if err != nil {
		return MatchPage{}, err
	}
	if party == "" {
		return MatchPage{}, errNoMatch
	}
	site, err := s.CampaignSite(ctx, m.CampaignID)
	if err != nil {
		return MatchPage{}, err
	}
	selfID, otherID := m.RequestID, m.VolunteerID
	if party == match.Volunteer {
		selfID, otherID = otherID, selfID
	}
	self, err := s.Store.Signup(ctx, selfID)
	if err != nil {
		return MatchPage{}, s.infra(ctx, err)
	}
	other, err := s.Store.Signup(ctx, otherID)
	if err != nil {
		return MatchPage{}, s.infra(ctx, err)
	}
	p := MatchPage{Site: site, Match: m, Party: party, Self: self, OtherFirstName: strings.Fields(other.GivenNames + " ")[0],
		OtherCommune: s.CommuneName(ctx, other.CommuneCode)}
	requester := self
	if party == match.Volunteer {
		requester = other
	}
	if requester.PollingStation != "" {
		stations, err := s.Store.PollingStations(ctx, requester.PollingStation)
		if err != nil {
			return MatchPage{}, s.infra(ctx, err)
		}
		p.Station = stations[requester.PollingStation].Label()
	}
	if disclosed(m.Status) {
		p.Contact = &other
	}
	return p, nil
}

// MatchCerfa is the pre-filled Cerfa 14952 of a match, for its requester
// once both accepted.
func (s *Service) MatchCerfa(ctx context.Context, who auth.Claims, id string) ([]byte, error) {
	p, err := s.MatchForParty(ctx, who, id)
	if err != nil {
		return nil, err
	}
	if p.Party != match.Requester || p.Contact == nil {
		return nil, errs.ConflictIn("Le formulaire pré-rempli est disponible quand vous avez tous deux accepté.", string(p.Match.Status))
	}
	commune, err := s.communeByCode(ctx, p.Self.CommuneCode)
	if err != nil {
		return nil, s.infra(ctx, err)
	}
	pdf, err := cerfa.Render(cerfa.ForMatch(p.Campaign.Name, p.Self, *p.Contact, commune, p.Election, p.Match.Rounds))
	return pdf, s.infra(ctx, err)
}

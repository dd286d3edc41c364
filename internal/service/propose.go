package service

import (
	"context"
	"slices"

	"github.com/procurations/procuration/internal/auth"
	"github.com/procurations/procuration/internal/campaign"
	"github.com/procurations/procuration/internal/errs"
	"github.com/procurations/procuration/internal/match"
	"github.com/procurations/procuration/internal/matching"
	"github.com/procurations/procuration/internal/store"
)

// Candidate is a volunteer a back office may pair with a requester by hand.
type Candidate struct {
	Volunteer store.Signup
	Tier      int
	Rounds    []int16
}

// Candidates lists, nearest first, the volunteers of the pool within reach
// of a waiting requester, with the rounds both still need and offer.
func (s *Service) Candidates(ctx context.Context, who auth.Claims, campaignID, requestID string) (store.Signup, []Candidate, error) {
	if _, err := s.campaignAgent(ctx, who, campaignID); err != nil {
		return store.Signup{}, nil, err
	}
	req, err := s.waitingRequest(ctx, campaignID, requestID)
	if err != nil {
		return store.Signup{}, nil, err
	}
	vols, err := s.Store.VolunteersIn(ctx, campaignID, req.Departement, 500)
	if err != nil {
		return store.Signup{}, nil, s.infra(ctx, err)
	}
	var out []Candidate
	for _, v := range vols {
		tier, ok := matching.Tier(place(req), place(v))
		if rounds := common(req.Rounds, v.Rounds); ok && len(rounds) > 0 {
			out = append(out, Candidate{Volunteer: store.Signup{ID: v.ID}, Tier: tier, Rounds: rounds})
		}
	}
	slices.SortStableFunc(out, func(a, b Candidate) int { return a.Tier - b.Tier })
	out = out[:min(len(out), candidatesShown)]
	ids := []string{requestID}
	for _, c := range out {
		ids = append(ids, c.Volunteer.ID)
	}
	named, err := s.Store.SignupsByID(ctx, campaignID, ids)
	if err != nil {
		return store.Signup{}, nil, s.infra(ctx, err)
	}
	for i := range out {
		out[i].Volunteer = named[out[i].Volunteer.ID]
	}
	return named[requestID], out, nil
}

const candidatesShown = 50

// ProposeMatch pairs a requester and a volunteer by hand (the campaign
// knows a neighbour the engine could not): the rules of a run hold, both
// confirmed, in reach, with rounds both still need and offer, never a pair
// one of them declined; the database refuses a person twice for a round.
// The back office's own proposal needs no approval: its offers go at once.
func (s *Service) ProposeMatch(ctx context.Context, who auth.Claims, campaignID, requestID, volunteerID string) (store.Match, error) {
	c, err := s.campaignAgent(ctx, who, campaignID)
	if err != nil {
		return store.Match{}, err
	}
	req, err := s.waitingRequest(ctx, campaignID, requestID)
	if err != nil {
		return store.Match{}, err
	}
	members, err := s.Store.PoolMembersByID(ctx, campaignID, []string{volunteerID})
	if err != nil {
		return store.Match{}, s.infra(ctx, err)
	}
	if len(members) == 0 || members[0].Side != store.SideVolunteer {
		return store.Match{}, errs.InvalidField("volunteer_id", "aucun volontaire confirmé de cette campagne ne porte ce numéro")
	}
	vol := members[0]
	tier, ok := matching.Tier(place(req), place(vol))
	rounds := common(req.Rounds, vol.Rounds)
	switch {
	case !ok:
		return store.Match{}, errs.InvalidField("volunteer_id", "ce volontaire vote dans un autre département")
	case len(rounds) == 0:
		return store.Match{}, errs.InvalidField("volunteer_id", "aucun tour que la demande attend encore et que ce volontaire propose encore")
	}
	declined, err := s.Store.PairDeclined(ctx, requestID, volunteerID)
	if err != nil {
		return store.Match{}, s.infra(ctx, err)
	}
	if declined {
		return store.Match{}, errs.InvalidField("volunteer_id", "l'une de ces deux personnes a déjà décliné cette mise en relation")
	}
	proposal := store.NewMatch{ID: newID("m"), CampaignID: campaignID, RequestID: requestID, VolunteerID: volunteerID, Rounds: rounds,
		Tier: int16(tier)}
	var stored []store.NewMatch
	// A run of the same moment reads the pool this writes into: turns.
	if err := s.Store.WithCampaignLock(ctx, campaignID, func() (err error) {
		stored, err = s.Store.CreateProposals(ctx, []store.NewMatch{proposal}, s.Now())
		return err
	}); err != nil {
		return store.Match{}, s.infra(ctx, err)
	}
	if len(stored) == 0 {
		return store.Match{}, errs.ConflictIn("L'une de ces deux personnes vient d'être mise en relation pour ces tours.", string(match.Proposed))
	}
	if err := s.audit(ctx, store.Audit{ActorSub: who.Identity(), ActorRole: who.Role, Action: "matches.propose",
		Details: map[string]any{"campaign": campaignID, "match": proposal.ID, "tier": tier}}); err != nil {
		return store.Match{}, err
	}
	m, err := s.Store.Match(ctx, proposal.ID)
	if err != nil {
		return m, s.infra(ctx, err)
	}
	if c.BackOfficeApproval {
		return s.updateMatch(ctx, m, match.UpdateApproval, match.Approval{Actor: matchActor(who), Outcome: "approved"})
	}
	if err := s.Runner().StartOffer(ctx, m); err != nil {
		// The campaign's offers workflow starts it, or its next run does.
		if err := s.Runner().RequestOffers(ctx, campaignID, campaign.More{Proposed: 1}); err != nil {
			s.Log.Warn("a proposal made by hand waits for the next run")
		}
	}
	fresh, err := s.Store.Match(ctx, proposal.ID)
	return fresh, s.infra(ctx, err)
}

// waitingRequest is a confirmed request of the campaign with rounds still
// to match.
func (s *Service) waitingRequest(ctx context.Context, campaignID, requestID string) (store.PoolMember, error) {
	members, err := s.Store.PoolMembersByID(ctx, campaignID, []string{requestID})
	if err != nil {
		return store.PoolMember{}, s.infra(ctx, err)
	}
	if len(members) == 0 || members[0].Side != store.SideRequest {
		return store.PoolMember{}, errs.InvalidField("request_id", "aucune demande confirmée de cette campagne ne porte ce numéro")
	}
	if len(members[0].Rounds) == 0 {
		return store.PoolMember{}, errs.InvalidField("request_id", "cette demande a déjà une mise en relation pour chacun de ses tours")
	}
	return members[0], nil
}

func place(m store.PoolMember) matching.Place {
	return matching.Place{Station: m.PollingStation, Commune: m.CommuneCode, EPCI: m.EPCI, Arrondissement: m.Arrondissement,
		Departement: m.Departement}
}

// common is the rounds in both, in order.
func common(a, b []int16) []int16 {
	var out []int16
	for _, r := range a {
		if slices.Contains(b, r) {
			out = append(out, r)
		}
	}
	return out
}

// StationLabels names polling stations as people know them (name, address,
// number), by code: pages never show a bare code.
func (s *Service) StationLabels(ctx context.Context, codes ...string) map[string]string {
	out := map[string]string{}
	stations, err := s.Store.PollingStations(ctx, codes...)
	for _, code := range codes {
		if err != nil {
			out[code] = store.StationNumber(code)
		} else {
			out[code] = stations[code].Label()
		}
	}
	return out
}

package app

import (
	"context"
	"time"

	"github.com/procurations/procuration/internal/auth"
	"github.com/procurations/procuration/internal/geo"
	"github.com/procurations/procuration/internal/store"
)

// DevIdentities are the people the development identity providers offer:
// the demo voters on FranceConnect, one of them on FranceConnect+ (France
// Identité), the demo agents on ProConnect.
func DevIdentities() map[string][]auth.DevIdentity {
	out := map[string][]auth.DevIdentity{}
	for i, v := range geo.DemoVoters {
		gender := map[string]string{"F": "female", "M": "male"}[v.Sex]
		id := auth.DevIdentity{Label: v.GivenNames + " " + v.FamilyName, Claims: map[string]any{"given_name": v.GivenNames,
			"family_name": v.FamilyName, "birthdate": v.BirthDate.Format("2006-01-02"), "gender": gender, "birthplace": v.CommuneCode,
			"birthcountry": "99100", "email": geo.DemoEmail(v)}}
		out[auth.DevFranceConnect] = append(out[auth.DevFranceConnect], id)
		if i == 3 {
			out[auth.DevFranceConnectPlus] = append(out[auth.DevFranceConnectPlus], id)
		}
	}
	for _, a := range geo.DemoAgents {
		label := a.GivenName + " " + a.UsualName + " — " + a.Organization
		out[auth.DevProConnect] = append(out[auth.DevProConnect], auth.DevIdentity{Label: label, Claims: map[string]any{
			"given_name": a.GivenName, "usual_name": a.UsualName, "email": a.Email, "siret": a.Siret, "organization_label": a.Organization}})
	}
	return out
}

// SeedDemoRights grants the demo agents their rights, once.
func SeedDemoRights(ctx context.Context, st *store.Store) (int, error) {
	existing, err := st.Rights(ctx, store.RightFilter{})
	if err != nil {
		return 0, err
	}
	held := map[string]bool{}
	for _, r := range existing {
		held[r.Email] = true
	}
	granted := 0
	for _, a := range geo.DemoAgents {
		if a.Role == "" || held[a.Email] {
			continue
		}
		if _, err := st.GrantRight(ctx, store.Right{Email: a.Email, Role: a.Role, Unit: a.Unit, Rank: a.Rank, Communes: append([]string{}, a.Communes...),
			Campaigns: append([]string{}, a.Campaigns...), Admin: a.Admin, ValidFrom: time.Now(), GrantedBy: "seed"}); err != nil {
			return granted, err
		}
		granted++
	}
	return granted, nil
}

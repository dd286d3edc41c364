package app

import (
	"context"

	"github.com/procurations/procuration/internal/auth"
	"github.com/procurations/procuration/internal/errs"
	"github.com/procurations/procuration/internal/geo"
	"github.com/procurations/procuration/internal/service"
	"github.com/procurations/procuration/internal/store"
)

// DemoCampaign is the matching platform make run shows: its public site is
// /c/planprocu-2027/.
var DemoCampaign = service.CampaignSettings{ID: "planprocu-2027", Name: "Plan Procu 2027", ElectionID: geo.DemoElection.ID,
	Sender: "Plan Procu <contact@planprocu.example>", BackOfficeApproval: true,
	Site: store.CampaignSite{Color: "#5a2d82", Tagline: "Votre vote compte, même quand vous ne pouvez pas vous déplacer"}}

// SeedDemoCampaign creates the demo campaign once, with its workflows.
func SeedDemoCampaign(ctx context.Context, svc *service.Service) (bool, error) {
	seed := auth.Claims{Issuer: "seed", Subject: "demo-data", Role: auth.RoleSupport}
	_, err := svc.CreateCampaign(ctx, seed, DemoCampaign)
	if e, ok := errs.As(err); ok && e.Kind == errs.KindConflict {
		return false, nil
	}
	return err == nil, err
}

package main

import (
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/procurations/procuration/internal/auth"
	"github.com/procurations/procuration/internal/config"
)

func tokenCmd() *cobra.Command {
	var (
		role, sub string
		claims    []string
		ttl       time.Duration
		cfg       *config.Config
	)
	cmd := &cobra.Command{
		Use:   "token",
		Short: "Mint a development token signed by the development issuer (prints one JWT); needs DEV_ISSUER=true, never in production",
		Example: `  procuration token --role grantor --sub fc-marie --claim given_name=Marie --claim family_name=DUPONT --claim birthdate=1985-04-12 --claim email=marie@example.fr
  procuration token --role police --sub opj-1 --claim given_name=Paul --claim family_name=LEMAIRE --claim rank=brigadier --claim "unit=Commissariat du 11e"
  procuration token --role town_hall --sub mairie-paris --claim communes=75056`,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if !cfg.DevIssuer {
				return fmt.Errorf("the development issuer is off: set DEV_ISSUER=true (development only) to mint tokens")
			}
			switch role {
			case auth.RoleGrantor, auth.RolePolice, auth.RoleTownHall, auth.RoleBackOffice, auth.RoleSupport, auth.RoleRequester, auth.RoleVolunteer:
			default:
				return fmt.Errorf("--role %q: want grantor, police, town_hall, back_office, support, requester or volunteer", role)
			}
			if sub == "" {
				return fmt.Errorf("--sub is required")
			}
			extra := map[string]any{}
			for _, kv := range claims {
				k, v, err := auth.ParseClaim(kv)
				if err != nil {
					return err
				}
				extra[k] = v
			}
			issuer, err := auth.LoadOrCreateIssuer(cfg.PublicURL, cfg.Audience, cfg.IssuerKey, !cfg.Production())
			if err != nil {
				return err
			}
			tok, err := issuer.Mint(role, sub, extra, ttl)
			if err != nil {
				return err
			}
			fmt.Println(tok)
			return nil
		},
	}
	cmd.Flags().StringVar(&role, "role", "", "grantor, police, town_hall, back_office, support, requester or volunteer")
	cmd.Flags().StringVar(&sub, "sub", "", "subject")
	cmd.Flags().StringArrayVar(&claims, "claim", nil, "extra claim key=value (repeatable; a list value is comma-separated)")
	cmd.Flags().DurationVar(&ttl, "ttl", 12*time.Hour, "lifetime")
	cfg = configured(cmd, config.RoleAPI)
	return cmd
}

package api

import (
	"context"
	"net/http"
	"time"

	"github.com/danielgtaylor/huma/v2"

	"github.com/procurations/procuration/internal/service"
	"github.com/procurations/procuration/internal/store"
)

type campaignBody struct {
	ID                 string `json:"id" maxLength:"63" doc:"lower-case letters, digits and dashes" example:"planprocu-2027"`
	Name               string `json:"name" minLength:"1" maxLength:"100"`
	ElectionID         string `json:"election_id" maxLength:"64"`
	Sender             string `json:"sender" maxLength:"320" doc:"the From of the campaign's emails" example:"Plan Procu <contact@planprocu.example>"`
	BackOfficeApproval bool   `json:"back_office_approval,omitempty" doc:"matches wait for a back office approval before the offer goes out"`
	AnswerWindowHours  *int   `json:"answer_window_hours,omitempty" minimum:"1" maximum:"720" doc:"time both parties have to answer an offer; default 48"`
	RetentionDays      *int   `json:"retention_days,omitempty" minimum:"1" maximum:"365" doc:"personal data is deleted this long after the election; default 30"`
	MatchingEveryMin   *int   `json:"matching_every_minutes,omitempty" minimum:"0" maximum:"10080" doc:"scheduled matching runs; 0: on demand only; default 60"`
	LinkReminderDays   []int  `json:"link_reminder_days,omitempty" maxItems:"5" doc:"days after both accepted when the requester is reminded to link the dossier; default [2,5]"`
	CampaignSiteBody
}

// CampaignSiteBody is how the public site and the emails present the campaign.
type CampaignSiteBody struct {
	Color              string   `json:"color,omitempty" maxLength:"7" doc:"#rrggbb, contrasted 4.5:1 on white; default #5a2d82" example:"#5a2d82"`
	LogoURL            string   `json:"logo_url,omitempty" maxLength:"500" doc:"https address of the logo"`
	Tagline            string   `json:"tagline,omitempty" maxLength:"200"`
	OfficialRequestURL string   `json:"official_request_url,omitempty" maxLength:"500" doc:"where requesters make the official request; default this deployment's grantor portal" example:"https://www.maprocuration.gouv.fr"`
	Communes           []string `json:"communes,omitempty" maxItems:"1000" doc:"INSEE codes of the communes covered (a municipal list's campaign); default the whole election"`
}

type campaignOutput struct {
	Body struct {
		ID                 string    `json:"id"`
		Name               string    `json:"name"`
		ElectionID         string    `json:"election_id"`
		Sender             string    `json:"sender"`
		BackOfficeApproval bool      `json:"back_office_approval"`
		AnswerWindowHours  int       `json:"answer_window_hours"`
		RetentionDays      int       `json:"retention_days"`
		MatchingEveryMin   int       `json:"matching_every_minutes"`
		LinkReminderDays   []int     `json:"link_reminder_days"`
		CreatedAt          time.Time `json:"created_at"`
		CampaignSiteBody
	}
}

type campaignPath struct {
	Campaign string `path:"campaign" maxLength:"63"`
}

type signupInput struct {
	Campaign string `path:"campaign" maxLength:"63"`
	Body     struct {
		GivenNames     string `json:"given_names" maxLength:"100"`
		FamilyName     string `json:"family_name" maxLength:"100"`
		BirthDate      string `json:"birth_date" maxLength:"10" doc:"YYYY-MM-DD"`
		Email          string `json:"email" maxLength:"254"`
		Phone          string `json:"phone,omitempty" maxLength:"30"`
		NNE            string `json:"nne,omitempty" maxLength:"9" doc:"voter number, 8 or 9 digits, if known"`
		CommuneCode    string `json:"commune_code" maxLength:"5" doc:"INSEE code of the commune where one votes"`
		PollingStation string `json:"polling_station,omitempty" maxLength:"64"`
		Rounds         []int  `json:"rounds" maxItems:"2" doc:"[1], [2] or [1,2]"`
		Consent        bool   `json:"consent" doc:"must be true: the person agrees to the processing of their data"`
	}
}

type signupOutput struct {
	Body struct {
		ID     string `json:"id" doc:"this attempt's receipt; the sign-up's own id is in the confirmation email's link"`
		Status string `json:"status" enum:"check_email,pool" doc:"check_email: an email was sent to the address (or the person is known there); pool: confirmed"`
	}
}

type confirmInput struct {
	ID   string `path:"id" maxLength:"40"`
	Body struct {
		Token string `json:"token" maxLength:"4096" doc:"the token of the confirmation email's link"`
	}
}

type runInput struct {
	Campaign string `path:"campaign" maxLength:"63"`
	Body     struct {
		DryRun bool `json:"dry_run"`
	}
}

type proposal struct {
	ID          string `json:"id"`
	RequestID   string `json:"request_id"`
	VolunteerID string `json:"volunteer_id"`
	Tier        int    `json:"tier" doc:"0 same polling station, 1 same commune, 2 same intercommunality, 3 same arrondissement, 4 same département"`
	Rounds      []int  `json:"rounds"`
}

type runOutput struct {
	Body struct {
		Proposed  int        `json:"proposed"`
		Unmatched int        `json:"unmatched"`
		Matches   []proposal `json:"matches"`
	}
}

// SignupView is a sign-up as the back office sees it.
type SignupView struct {
	ID             string    `json:"id"`
	Status         string    `json:"status"`
	GivenNames     string    `json:"given_names"`
	FamilyName     string    `json:"family_name"`
	BirthDate      string    `json:"birth_date" format:"date"`
	Email          string    `json:"email"`
	Phone          string    `json:"phone,omitempty"`
	NNE            string    `json:"nne,omitempty"`
	CommuneCode    string    `json:"commune_code"`
	PollingStation string    `json:"polling_station,omitempty"`
	Rounds         []int     `json:"rounds"`
	CreatedAt      time.Time `json:"created_at"`
}

type signupListInput struct {
	Campaign    string `path:"campaign" maxLength:"63"`
	Status      string `query:"status" enum:"unconfirmed,pool,withdrawn,deleted" required:"false"`
	Commune     string `query:"commune" maxLength:"5"`
	Departement string `query:"departement" maxLength:"3"`
	Cursor      string `query:"cursor" maxLength:"200" doc:"next_cursor of the previous page"`
	Limit       int    `query:"limit" minimum:"1" maximum:"1000" default:"200"`
}

type signupListOutput struct {
	Body struct {
		Items      []SignupView `json:"items"`
		NextCursor string       `json:"next_cursor,omitempty" doc:"pass it back as cursor for the next page"`
	}
}

func ints(rounds []int16) []int {
	out := make([]int, len(rounds))
	for i, r := range rounds {
		out[i] = int(r)
	}
	return out
}

func (h *handlers) registerCampaigns(api huma.API) {
	tags := []string{"Matching"}
	huma.Register(api, huma.Operation{
		OperationID: "create-campaign", Method: http.MethodPost, Path: "/v1/campaigns", Tags: tags, DefaultStatus: http.StatusCreated,
		Summary: "Create a campaign (support)", Security: secured, Errors: errorsOf(secured, 409),
	}, func(ctx context.Context, in *struct{ Body campaignBody }) (*campaignOutput, error) {
		b := in.Body
		c, err := h.svc.CreateCampaign(ctx, claimsFrom(ctx), service.CampaignSettings{ID: b.ID, Name: b.Name, ElectionID: b.ElectionID,
			Sender: b.Sender, BackOfficeApproval: b.BackOfficeApproval, AnswerWindowHours: b.AnswerWindowHours, RetentionDays: b.RetentionDays,
			MatchingEveryMinutes: b.MatchingEveryMin, LinkReminderDays: b.LinkReminderDays,
			Site: store.CampaignSite{Color: b.Color, LogoURL: b.LogoURL, Tagline: b.Tagline, OfficialRequestURL: b.OfficialRequestURL, Communes: b.Communes}})
		if err != nil {
			return nil, h.fail(ctx, err)
		}
		out := &campaignOutput{}
		o := &out.Body
		o.ID, o.Name, o.ElectionID, o.Sender, o.BackOfficeApproval, o.CreatedAt = c.ID, c.Name, c.ElectionID, c.Sender, c.BackOfficeApproval, c.CreatedAt
		o.AnswerWindowHours, o.RetentionDays = int(c.AnswerWindow.Hours()), int(c.Retention.Hours()/24)
		o.MatchingEveryMin = int(c.MatchingEvery.Minutes())
		for _, d := range c.LinkReminderDays {
			o.LinkReminderDays = append(o.LinkReminderDays, int(d))
		}
		o.CampaignSiteBody = CampaignSiteBody{Color: c.Site.Color, LogoURL: c.Site.LogoURL, Tagline: c.Site.Tagline,
			OfficialRequestURL: c.Site.OfficialRequestURL, Communes: c.Site.Communes}
		return out, nil
	})
	for _, side := range []string{store.SideRequest, store.SideVolunteer} {
		path, summary := "/v1/campaigns/{campaign}/requests", "Sign up as a requester: someone who needs a proxy (public)"
		if side == store.SideVolunteer {
			path, summary = "/v1/campaigns/{campaign}/volunteers", "Sign up as a volunteer proxy holder (public)"
		}
		huma.Register(api, huma.Operation{
			OperationID: "signup-" + side, Method: http.MethodPost, Path: path, Tags: tags, DefaultStatus: http.StatusCreated,
			Summary: summary, Security: public, Errors: errorsOf(public, 404, 409, 429),
		}, func(ctx context.Context, in *signupInput) (*signupOutput, error) {
			b := in.Body
			receipt, err := h.svc.SignUp(ctx, side, in.Campaign, service.SignupForm{GivenNames: b.GivenNames, FamilyName: b.FamilyName,
				BirthDate: b.BirthDate, Email: b.Email, Phone: b.Phone, NNE: b.NNE, CommuneCode: b.CommuneCode,
				PollingStation: b.PollingStation, Rounds: b.Rounds, Consent: b.Consent}, remoteFrom(ctx))
			if err != nil {
				return nil, h.fail(ctx, err)
			}
			out := &signupOutput{}
			out.Body.ID, out.Body.Status = receipt.Attempt, "check_email"
			return out, nil
		})
		huma.Register(api, huma.Operation{OperationID: "list-" + side + "s", Method: http.MethodGet,
			Path: "/v1/campaigns/{campaign}/" + side + "s", Tags: tags, Security: secured, Errors: errorsOf(secured, 404),
			Summary: "A campaign's " + side + "s, by status, commune, département, oldest first (back office)"},
			func(ctx context.Context, in *signupListInput) (*signupListOutput, error) {
				items, next, err := h.svc.Signups(ctx, claimsFrom(ctx), in.Campaign, store.SignupFilter{Side: side, Status: in.Status,
					Commune: in.Commune, Departement: in.Departement, Cursor: in.Cursor, Limit: in.Limit})
				if err != nil {
					return nil, h.fail(ctx, err)
				}
				out := &signupListOutput{}
				out.Body.Items, out.Body.NextCursor = make([]SignupView, 0, len(items)), next
				for _, su := range items {
					out.Body.Items = append(out.Body.Items, SignupView{ID: su.ID, Status: su.Status, GivenNames: su.GivenNames,
						FamilyName: su.FamilyName, BirthDate: su.BirthDate.Format(time.DateOnly), Email: su.Email, Phone: su.Phone,
						NNE: su.NNE, CommuneCode: su.CommuneCode, PollingStation: su.PollingStation, Rounds: ints(su.Rounds), CreatedAt: su.CreatedAt})
				}
				return out, nil
			})
	}
	huma.Register(api, huma.Operation{
		OperationID: "confirm-signup", Method: http.MethodPost, Path: "/v1/signups/{id}/confirm", Tags: tags, Security: public,
		Summary: "Confirm a sign-up's email with the token of the confirmation email's link", Errors: errorsOf(public, 401, 403, 404, 409),
	}, func(ctx context.Context, in *confirmInput) (*signupOutput, error) {
		status, err := h.confirm(ctx, in.ID, in.Body.Token)
		if err != nil {
			return nil, h.fail(ctx, err)
		}
		out := &signupOutput{}
		out.Body.ID, out.Body.Status = in.ID, status
		return out, nil
	})
	huma.Register(api, huma.Operation{
		OperationID: "run-matching", Method: http.MethodPost, Path: "/v1/campaigns/{campaign}/matching-runs", Tags: tags,
		Summary: "Compute the matches of the confirmed pool (back office)", Security: secured, Errors: errorsOf(secured, 404),
	}, func(ctx context.Context, in *runInput) (*runOutput, error) {
		res, err := h.svc.RunMatching(ctx, claimsFrom(ctx), in.Campaign, in.Body.DryRun)
		if err != nil {
			return nil, h.fail(ctx, err)
		}
		out := &runOutput{}
		out.Body.Proposed, out.Body.Unmatched, out.Body.Matches = len(res.Proposals), res.Unmatched, make([]proposal, 0, len(res.Proposals))
		for _, p := range res.Proposals {
			out.Body.Matches = append(out.Body.Matches, proposal{ID: p.ID, RequestID: p.RequestID, VolunteerID: p.VolunteerID, Tier: p.Tier, Rounds: p.Rounds})
		}
		return out, nil
	})
	huma.Register(api, huma.Operation{OperationID: "campaign-figures", Method: http.MethodGet, Path: "/v1/campaigns/{campaign}/figures",
		Tags: tags, Summary: "Sign-ups and matches by status and département (back office)", Security: secured, Errors: errorsOf(secured, 404)},
		func(ctx context.Context, in *campaignPath) (*figuresOutput, error) {
			f, err := h.svc.Figures(ctx, claimsFrom(ctx), in.Campaign)
			if err != nil {
				return nil, h.fail(ctx, err)
			}
			return &figuresOutput{Body: f}, nil
		})
}

type figuresOutput struct{ Body store.Figures }

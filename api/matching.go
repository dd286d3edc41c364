package api

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"net/mail"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/procurations/procuration/internal/campaign"
	"github.com/procurations/procuration/internal/signup"

	"github.com/danielgtaylor/huma/v2"
	"go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"

	"github.com/procurations/procuration/internal/auth"
	"github.com/procurations/procuration/internal/matchrun"
	"github.com/procurations/procuration/internal/store"
)

type campaignBody struct {
	ID                 string `json:"id" doc:"lower-case letters, digits and dashes" example:"planprocu-2027"`
	Name               string `json:"name" minLength:"1"`
	ElectionID         string `json:"election_id"`
	Sender             string `json:"sender" doc:"the From of the campaign's emails" example:"Plan Procu <contact@planprocu.example>"`
	BackOfficeApproval bool   `json:"back_office_approval" required:"false" doc:"matches wait for a back office approval before the offer goes out"`
	AnswerWindowHours  int    `json:"answer_window_hours,omitempty" minimum:"1" maximum:"720" default:"48" doc:"time both parties have to answer an offer"`
	RetentionDays      int    `json:"retention_days,omitempty" minimum:"1" maximum:"365" default:"30" doc:"personal data is deleted this long after the election"`
	MatchingEveryMin   int    `json:"matching_every_minutes,omitempty" minimum:"0" maximum:"10080" default:"60" doc:"scheduled matching runs; 0: on demand only"`
	LinkReminderDays   []int  `json:"link_reminder_days,omitempty" maxItems:"5" doc:"days after both accepted when the requester is reminded to link the dossier; default [2,5]"`
}

type campaignOutput struct {
	Body struct {
		campaignBody
		CreatedAt time.Time `json:"created_at"`
	}
}

type signupInput struct {
	Campaign string `path:"campaign"`
	Body     struct {
		GivenNames     string `json:"given_names"`
		FamilyName     string `json:"family_name"`
		BirthDate      string `json:"birth_date" doc:"YYYY-MM-DD"`
		Email          string `json:"email"`
		Phone          string `json:"phone,omitempty"`
		NNE            string `json:"nne,omitempty" doc:"voter number, 8 or 9 digits, if known"`
		CommuneCode    string `json:"commune_code" doc:"INSEE code of the commune where one votes"`
		PollingStation string `json:"polling_station,omitempty"`
		Rounds         []int  `json:"rounds" doc:"[1], [2] or [1,2]"`
		Consent        bool   `json:"consent" doc:"must be true: the person agrees to the processing of their data"`
	}
}

type signupOutput struct {
	Body struct {
		ID     string `json:"id"`
		Status string `json:"status" enum:"unconfirmed,pool,withdrawn"`
	}
}

type confirmInput struct {
	ID    string `path:"id"`
	Token string `query:"token" doc:"the token of the confirmation link"`
}

type runInput struct {
	Campaign string `path:"campaign"`
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

var campaignID = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{1,62}$`)

func (h *handlers) registerMatching(api huma.API) {
	tags := []string{"Matching"}
	huma.Register(api, huma.Operation{
		OperationID: "create-campaign", Method: http.MethodPost, Path: "/v1/campaigns", Tags: tags, DefaultStatus: http.StatusCreated,
		Summary: "Create a campaign (support)", Security: secured, Errors: []int{401, 403, 409, 422},
	}, h.createCampaign)
	for _, side := range []string{store.SideRequest, store.SideVolunteer} {
		path, summary := "/v1/campaigns/{campaign}/requests", "Sign up as a requester: someone who needs a proxy (public)"
		if side == store.SideVolunteer {
			path, summary = "/v1/campaigns/{campaign}/volunteers", "Sign up as a volunteer proxy holder (public)"
		}
		huma.Register(api, huma.Operation{
			OperationID: "signup-" + side, Method: http.MethodPost, Path: path, Tags: tags, DefaultStatus: http.StatusCreated,
			Summary: summary, Errors: []int{404, 409, 422, 429},
		}, func(ctx context.Context, in *signupInput) (*signupOutput, error) { return h.signUp(ctx, side, in) })
	}
	huma.Register(api, huma.Operation{
		OperationID: "confirm-signup", Method: http.MethodPost, Path: "/v1/signups/{id}/confirm", Tags: tags,
		Summary: "Confirm a sign-up's email with the token of the confirmation email's link", Errors: []int{401, 404},
	}, h.confirmSignup)
	huma.Register(api, huma.Operation{
		OperationID: "run-matching", Method: http.MethodPost, Path: "/v1/campaigns/{campaign}/matching-runs", Tags: tags,
		Summary: "Compute the matches of the confirmed pool (back office)", Security: secured, Errors: []int{401, 403, 404},
	}, h.runMatching)
}

func (h *handlers) createCampaign(ctx context.Context, in *struct{ Body campaignBody }) (*campaignOutput, error) {
	c, err := requireRole(ctx, auth.RoleSupport)
	if err != nil {
		return nil, err
	}
	b := in.Body
	var fe fieldErrors
	if !campaignID.MatchString(b.ID) {
		fe.add("body.id", "identifiant attendu : lettres minuscules, chiffres et tirets (2 à 63)", b.ID)
	}
	election, err := h.Store.Election(ctx, b.ElectionID)
	if errors.Is(err, store.ErrNotFound) {
		fe.add("body.election_id", "élection inconnue", b.ElectionID)
	} else if err != nil {
		return nil, h.mapError(ctx, err, "")
	}
	_, electionEnd := matchrun.Bounds(election)
	if err == nil && !electionEnd.After(h.Now()) {
		fe.add("body.election_id", "cette élection est passée", b.ElectionID)
	}
	if addr, err := mail.ParseAddress(b.Sender); err != nil || addr.Address == "" {
		fe.add("body.sender", "adresse d'expédition invalide", b.Sender)
	}
	if b.LinkReminderDays == nil {
		b.LinkReminderDays = []int{2, 5}
	}
	for i, d := range b.LinkReminderDays {
		if d < 1 || d > 60 {
			fe.add(fmt.Sprintf("body.link_reminder_days[%d]", i), "entre 1 et 60 jours", d)
		}
	}
	if err := fe.err(); err != nil {
		return nil, err
	}
	created, err := h.Store.CreateCampaign(ctx, store.Campaign{ID: b.ID, Name: b.Name, ElectionID: b.ElectionID, Sender: b.Sender,
		BackOfficeApproval: b.BackOfficeApproval})
	if errors.Is(err, store.ErrExists) {
		return nil, huma.Error409Conflict(fmt.Sprintf("La campagne %s existe déjà.", b.ID))
	}
	if err != nil {
		return nil, h.mapError(ctx, err, "")
	}
	if err := h.startCampaign(ctx, b, electionEnd); err != nil {
		// No campaign without its workflows: undo, and let support retry.
		_ = h.Store.DeleteNewCampaign(context.WithoutCancel(ctx), b.ID)
		return nil, h.mapError(ctx, err, "")
	}
	_ = h.Store.Audit(ctx, store.Audit{ActorSub: c.Subject, ActorRole: c.Role, Action: "campaign.create", Details: map[string]any{"campaign": b.ID}})
	out := &campaignOutput{}
	out.Body.campaignBody, out.Body.CreatedAt = b, created.CreatedAt
	return out, nil
}

// startCampaign stores the campaign's timing, starts the workflow that ends
// it (scheduled runs stop at the election's end, personal data is deleted
// after the retention period) and the schedule of its matching runs.
func (h *handlers) startCampaign(ctx context.Context, b campaignBody, electionEnd time.Time) error {
	window, retention, every := time.Duration(b.AnswerWindowHours)*time.Hour, time.Duration(b.RetentionDays)*24*time.Hour,
		time.Duration(b.MatchingEveryMin)*time.Minute
	days := make([]int32, len(b.LinkReminderDays))
	for i, d := range b.LinkReminderDays {
		days[i] = int32(d)
	}
	if err := h.Store.SetCampaignTiming(ctx, b.ID, window, retention, every, days); err != nil {
		return err
	}
	if _, err := h.Temporal.ExecuteWorkflow(ctx, client.StartWorkflowOptions{
		ID: campaign.LifeWorkflowID(b.ID), TaskQueue: h.TaskQueue,
		WorkflowIDConflictPolicy: enums.WORKFLOW_ID_CONFLICT_POLICY_USE_EXISTING,
		StaticSummary:            fmt.Sprintf("Campaign %s (%s)", b.ID, b.ElectionID),
	}, campaign.LifeWorkflowName, campaign.Life{Campaign: b.ID, ElectionEnd: electionEnd, Retention: retention}); err != nil {
		return err
	}
	if every <= 0 {
		return nil
	}
	_, err := h.Temporal.ScheduleClient().Create(ctx, client.ScheduleOptions{
		ID:      campaign.ScheduleID(b.ID),
		Spec:    client.ScheduleSpec{Intervals: []client.ScheduleIntervalSpec{{Every: every}}, EndAt: electionEnd},
		Overlap: enums.SCHEDULE_OVERLAP_POLICY_SKIP,
		Action: &client.ScheduleWorkflowAction{ID: campaign.RunWorkflowID(b.ID), Workflow: campaign.RunWorkflowName, Args: []any{b.ID},
			TaskQueue: h.TaskQueue},
	})
	return err
}

func (h *handlers) signUp(ctx context.Context, side string, in *signupInput) (*signupOutput, error) {
	campaign, err := h.Store.Campaign(ctx, in.Campaign)
	if errors.Is(err, store.ErrNotFound) {
		return nil, huma.Error404NotFound("Campagne introuvable.")
	}
	if err != nil {
		return nil, h.mapError(ctx, err, "")
	}
	b := &in.Body
	var fe fieldErrors
	if strings.TrimSpace(b.GivenNames) == "" {
		fe.add("body.given_names", "prénoms obligatoires", nil)
	}
	if strings.TrimSpace(b.FamilyName) == "" {
		fe.add("body.family_name", "nom obligatoire", nil)
	}
	birth, err := time.Parse(time.DateOnly, b.BirthDate)
	if err != nil {
		fe.add("body.birth_date", "date AAAA-MM-JJ attendue", b.BirthDate)
	} else if age := h.Now().Sub(birth).Hours() / 24 / 365.25; age < 18 || age > 130 {
		fe.add("body.birth_date", "il faut être majeur pour voter", b.BirthDate)
	}
	email := strings.TrimSpace(b.Email)
	if addr, err := mail.ParseAddress(email); err != nil || addr.Address != email {
		fe.add("body.email", "adresse électronique invalide", b.Email)
	}
	if b.NNE != "" && !store.ValidNNE(b.NNE) {
		fe.add("body.nne", "numéro national d'électeur : 8 ou 9 chiffres attendus", b.NNE)
	}
	if _, err := h.Store.Commune(ctx, b.CommuneCode); errors.Is(err, store.ErrNotFound) {
		fe.add("body.commune_code", "commune inconnue", b.CommuneCode)
	} else if err != nil {
		return nil, h.mapError(ctx, err, "")
	}
	rounds := slices.Clone(b.Rounds)
	slices.Sort(rounds)
	if !slices.Equal(rounds, []int{1}) && !slices.Equal(rounds, []int{2}) && !slices.Equal(rounds, []int{1, 2}) {
		fe.add("body.rounds", "tours attendus : [1], [2] ou [1,2]", b.Rounds)
	}
	if !b.Consent {
		fe.add("body.consent", "le consentement est nécessaire pour s'inscrire", false)
	}
	if err := fe.err(); err != nil {
		return nil, err
	}

	// Attempts count, not records: signing up again is an attempt too.
	remote, _ := ctx.Value(remoteKey{}).(string)
	if ok, wait := h.perAddress.allow(clientAddress(remote), h.Now()); !ok {
		return nil, tooMany(wait)
	}
	if ok, wait := h.perEmail.allow(strings.ToLower(email), h.Now()); !ok {
		return nil, tooMany(wait)
	}
	rounds16 := make([]int16, len(rounds))
	for i, r := range rounds {
		rounds16[i] = int16(r)
	}
	su, created, err := h.Store.SignUp(ctx, store.Signup{
		ID: newID(side[:1]), CampaignID: campaign.ID, Side: side, GivenNames: strings.TrimSpace(b.GivenNames),
		FamilyName: strings.TrimSpace(b.FamilyName), BirthDate: birth, Email: email, Phone: b.Phone, NNE: b.NNE,
		CommuneCode: b.CommuneCode, PollingStation: b.PollingStation, Rounds: rounds16,
	})
	if errors.Is(err, store.ErrOtherSide) {
		other := "volontaire"
		if side == store.SideVolunteer {
			other = "demandeur de procuration"
		}
		return nil, huma.Error409Conflict(fmt.Sprintf("Vous êtes déjà inscrit(e) à cette campagne comme %s.", other))
	}
	if err != nil {
		return nil, h.mapError(ctx, err, "")
	}
	if created || su.Status == "unconfirmed" {
		// The confirmation email goes out through a workflow, so it is not
		// lost if the mail server is away; signing up again resends nothing new.
		_, err := h.Temporal.ExecuteWorkflow(ctx, client.StartWorkflowOptions{
			ID: signup.WorkflowID(su.ID), TaskQueue: h.TaskQueue,
			WorkflowIDConflictPolicy: enums.WORKFLOW_ID_CONFLICT_POLICY_USE_EXISTING,
			WorkflowIDReusePolicy:    enums.WORKFLOW_ID_REUSE_POLICY_REJECT_DUPLICATE,
			StaticSummary:            fmt.Sprintf("Sign-up %s (%s), campaign %s", su.ID, side, campaign.ID),
		}, signup.WorkflowName, su.ID)
		var started *serviceerror.WorkflowExecutionAlreadyStarted
		if err != nil && !errors.As(err, &started) {
			return nil, h.mapError(ctx, err, "")
		}
	}
	out := &signupOutput{}
	out.Body.ID, out.Body.Status = su.ID, su.Status
	return out, nil
}

func tooMany(wait time.Duration) error {
	seconds := int(wait.Seconds()) + 1
	return huma.ErrorWithHeaders(huma.Error429TooManyRequests("Trop d'inscriptions, réessayez plus tard."),
		http.Header{"Retry-After": {fmt.Sprint(seconds)}})
}

// newID names a sign-up: its side's initial and 16 random hex digits.
func newID(prefix string) string {
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	return prefix + "-" + hex.EncodeToString(b)
}

func (h *handlers) confirmSignup(ctx context.Context, in *confirmInput) (*signupOutput, error) {
	claims, err := h.Verifier.Verify(ctx, in.Token)
	if err != nil || claims.Subject != in.ID || (claims.Role != auth.RoleRequester && claims.Role != auth.RoleVolunteer) {
		return nil, huma.Error401Unauthorized("Lien de confirmation invalide ou expiré.")
	}
	status, err := h.Store.ConfirmSignup(ctx, in.ID)
	if errors.Is(err, store.ErrNotFound) {
		return nil, huma.Error404NotFound("Inscription introuvable.")
	}
	if err != nil {
		return nil, h.mapError(ctx, err, "")
	}
	out := &signupOutput{}
	out.Body.ID, out.Body.Status = in.ID, status
	return out, nil
}

func (h *handlers) runMatching(ctx context.Context, in *runInput) (*runOutput, error) {
	if _, err := h.campaignAgent(ctx, in.Campaign); err != nil {
		return nil, err
	}
	res, err := h.runner().Run(ctx, in.Campaign, in.Body.DryRun, h.Now())
	if err != nil {
		return nil, h.mapError(ctx, err, "")
	}
	out := &runOutput{}
	out.Body.Proposed, out.Body.Unmatched, out.Body.Matches = len(res.Proposals), res.Unmatched, []proposal{}
	for _, p := range res.Proposals {
		out.Body.Matches = append(out.Body.Matches, proposal{ID: p.ID, RequestID: p.RequestID, VolunteerID: p.VolunteerID, Tier: p.Tier, Rounds: p.Rounds})
	}
	c := claimsFrom(ctx)
	if !in.Body.DryRun {
		_ = h.Store.Audit(ctx, store.Audit{ActorSub: c.Subject, ActorRole: c.Role, Action: "matching.run",
			Details: map[string]any{"campaign": in.Campaign, "proposed": len(res.Proposals)}})
	}
	return out, nil
}

func (h *handlers) runner() *matchrun.Runner {
	return &matchrun.Runner{Store: h.Store, Temporal: h.Temporal, TaskQueue: h.TaskQueue, DossierCheckEvery: h.MatchDossierCheck}
}

// campaignAgent admits support, and back office agents of the campaign;
// 404 when the campaign does not exist.
func (h *handlers) campaignAgent(ctx context.Context, campaign string) (auth.Claims, error) {
	c, err := requireRole(ctx, auth.RoleBackOffice, auth.RoleSupport)
	if err != nil {
		return c, err
	}
	if c.Role == auth.RoleBackOffice && !c.RunsCampaign(campaign) {
		return c, huma.Error403Forbidden("Vous ne travaillez pas pour cette campagne.")
	}
	if _, err := h.Store.Campaign(ctx, campaign); errors.Is(err, store.ErrNotFound) {
		return c, huma.Error404NotFound("Campagne introuvable.")
	} else if err != nil {
		return c, h.mapError(ctx, err, "")
	}
	return c, nil
}

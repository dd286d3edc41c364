package workflows

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/procurations/procuration/internal/calendar"
	"github.com/procurations/procuration/internal/campaign"
	"github.com/procurations/procuration/internal/french"
)

// Campaign outlives its election by its retention period: some days before
// each round its requesters still without a volunteer are told so, at the
// end of the election its scheduled runs stop, and when the retention
// period is over its personal data is deleted. Durable timers, not a cron
// job: a worker down at the time does the work when it comes back.
func Campaign(ctx workflow.Context, in campaign.Life) (int, error) {
	_ = workflow.UpsertTypedSearchAttributes(ctx, campaign.Attribute.ValueSet(in.Campaign))
	purgeAt := in.ElectionEnd.Add(in.Retention)
	head := fmt.Sprintf("Campagne **%s** : mises en relation jusqu'au %s ; données personnelles supprimées le %s.",
		in.Campaign, french.Instant(in.ElectionEnd), french.Instant(purgeAt))
	workflow.SetCurrentDetails(ctx, head)
	if workflow.GetVersion(ctx, unmatchedNoticesChange, workflow.DefaultVersion, 1) >= 1 {
		if err := unmatchedNotices(ctx, in, head); err != nil {
			return 0, err
		}
	}
	if err := workflow.NewTimerWithOptions(ctx, in.ElectionEnd.Sub(workflow.Now(ctx)),
		workflow.TimerOptions{Summary: "fin de l'élection"}).Get(ctx, nil); err != nil {
		return 0, err
	}
	if err := workflow.ExecuteActivity(activityContext(ctx, "stop the scheduled matching runs"), campaign.ActivityClose, in.Campaign).
		Get(ctx, nil); err != nil {
		return 0, err
	}
	workflow.SetCurrentDetails(ctx, fmt.Sprintf("Campagne **%s** : élection terminée ; données personnelles supprimées le %s.",
		in.Campaign, french.Instant(purgeAt)))
	if err := workflow.NewTimerWithOptions(ctx, purgeAt.Sub(workflow.Now(ctx)),
		workflow.TimerOptions{Summary: "fin de la durée de conservation"}).Get(ctx, nil); err != nil {
		return 0, err
	}
	var purged int
	err := workflow.ExecuteActivity(activityContext(ctx, "delete the personal data"), campaign.ActivityPurge, in.Campaign).Get(ctx, &purged)
	workflow.SetCurrentDetails(ctx, fmt.Sprintf("Campagne **%s** : données personnelles de %d inscriptions supprimées.", in.Campaign, purged))
	return purged, err
}

// unmatchedNoticesChange: from version 1 the campaign tells its requesters
// still without a volunteer, some days before each round.
const unmatchedNoticesChange = "unmatched-notices"

// unmatchedNotices waits until UnmatchedNotice before each round still
// ahead, then tells the round's confirmed requesters whom no live match
// holds that none was found yet, and of the other ways. A notice whose
// time has passed goes at once, while its round is still ahead; a round
// already begun gets none. A notice that cannot finish before its round
// ends there: the campaign's lifetime (and the deletion of its data) goes
// on whatever happens to it.
func unmatchedNotices(ctx workflow.Context, in campaign.Life, head string) error {
	if in.UnmatchedNotice <= 0 {
		return nil
	}
	type notice struct {
		round   campaign.Round
		day, at time.Time
	}
	var notices []notice
	for _, r := range in.Rounds {
		d, err := time.Parse(time.DateOnly, r.Date)
		if day := calendar.StartOfDay(d); err == nil && day.After(workflow.Now(ctx)) {
			notices = append(notices, notice{round: r, day: day, at: day.Add(-in.UnmatchedNotice)})
		}
	}
	// The second round's notice may come before the first round.
	slices.SortStableFunc(notices, func(a, b notice) int { return a.at.Compare(b.at) })
	lines := make([]string, len(notices))
	for i, n := range notices {
		lines[i] = fmt.Sprintf("%s du %s : à prévenir le %s", french.Round(n.round.Number), french.Date(n.day), french.Instant(n.at))
	}
	show := func() {
		if len(lines) > 0 {
			workflow.SetCurrentDetails(ctx, head+"\n\n**Demandeurs sans volontaire** : "+strings.Join(lines, " ; ")+".")
		}
	}
	for i, n := range notices {
		name := french.Round(n.round.Number)
		show()
		if err := workflow.NewTimerWithOptions(ctx, n.at.Sub(workflow.Now(ctx)),
			workflow.TimerOptions{Summary: "prévenir les demandeurs sans volontaire du " + name}).Get(ctx, nil); err != nil {
			return err
		}
		left := n.day.Sub(workflow.Now(ctx))
		if left <= 0 {
			lines[i] = fmt.Sprintf("%s du %s : pas prévenus, le tour a commencé", name, french.Date(n.day))
			continue
		}
		lines[i] = fmt.Sprintf("%s du %s : envoi en cours depuis le %s", name, french.Date(n.day), french.Instant(workflow.Now(ctx)))
		show()
		actx := workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
			// Pointless once the round has begun; until then the relay or
			// the database away is waited for.
			ScheduleToCloseTimeout: left, HeartbeatTimeout: time.Minute,
			Summary:     "e-mails aux demandeurs sans volontaire du " + name,
			RetryPolicy: &temporal.RetryPolicy{MaximumInterval: time.Minute},
		})
		var r campaign.NoticeReport
		err := workflow.ExecuteActivity(actx, campaign.ActivityNotifyUnmatched, campaign.Notice{Campaign: in.Campaign,
			Round: n.round.Number, Date: n.round.Date}).Get(ctx, &r)
		switch {
		case temporal.IsCanceledError(err):
			return err
		case err != nil:
			workflow.GetLogger(ctx).Error("unmatched notice not finished", "round", n.round.Number, "error", err)
			lines[i] = fmt.Sprintf("%s du %s : envoi inachevé (%s)", name, french.Date(n.day), french.Instant(workflow.Now(ctx)))
		default:
			lines[i] = fmt.Sprintf("%s du %s : %s le %s", name, french.Date(n.day), plural(r.Told, "prévenu", "prévenus"),
				french.Instant(workflow.Now(ctx)))
			if r.Refused > 0 {
				lines[i] += fmt.Sprintf(" (%s par le serveur de messagerie)", plural(r.Refused, "adresse refusée", "adresses refusées"))
			}
		}
	}
	show()
	return nil
}

// plural counts in French: 0 and 1 take the singular.
func plural(n int, one, many string) string {
	if n < 2 {
		return fmt.Sprintf("%d %s", n, one)
	}
	return fmt.Sprintf("%d %s", n, many)
}

// MatchingRun is what the campaign's schedule starts.
func MatchingRun(ctx workflow.Context, id string) (int, error) {
	ctx = workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: 30 * time.Minute, Summary: "mise en relation de la campagne " + id,
		RetryPolicy: &temporal.RetryPolicy{MaximumAttempts: 3},
	})
	var proposed int
	err := workflow.ExecuteActivity(ctx, campaign.ActivityRunMatching, id).Get(ctx, &proposed)
	return proposed, err
}

// MatchingOffers starts, in the background, the workflows of the proposals
// a campaign's runs stored, a batch at a time and as fast as the Temporal
// server takes them; its progress is its current details and a query. There
// is one per campaign: runs tell it of their proposals by a signal, and a
// match whose dossier failed asks it to run the matching again after
// Offers.RematchDelay, gathering those of the same moment. A crash loses
// nothing: a proposal is marked once its workflow has started.
func MatchingOffers(ctx workflow.Context, in campaign.Offers) (campaign.OffersProgress, error) {
	_ = workflow.UpsertTypedSearchAttributes(ctx, campaign.Attribute.ValueSet(in.Campaign))
	p, rematch := in.Progress, in.Rematch
	if err := workflow.SetQueryHandler(ctx, campaign.QueryOffers, func() (campaign.OffersProgress, error) { return p, nil }); err != nil {
		return p, err
	}
	more := workflow.GetSignalChannel(ctx, campaign.SignalMore)
	drain := func() (got bool) {
		var m campaign.More
		for more.ReceiveAsync(&m) {
			got = true
			p.Proposed += m.Proposed
			rematch = rematch || m.Rematch
			if m.RematchDelay > 0 {
				in.RematchDelay = m.RematchDelay
			}
		}
		return got
	}
	show := func() {
		workflow.SetCurrentDetails(ctx, fmt.Sprintf("Campagne **%s** : %d propositions, %d offres démarrées, %d en attente ; %d nouvelles mises en relation après un dossier qui n'a pas abouti.",
			in.Campaign, p.Proposed, p.Started, p.Left, p.Rematches))
	}
	starts := workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: 10 * time.Minute, HeartbeatTimeout: time.Minute, Summary: "démarrer un lot d'offres",
		// The server busy or down: wait for it, however long.
		RetryPolicy: &temporal.RetryPolicy{MaximumInterval: time.Minute},
	})
	drain()
	for {
		if rematch {
			if err := workflow.NewTimerWithOptions(ctx, in.RematchDelay, workflow.TimerOptions{Summary: "regrouper les demandeurs à remettre en relation"}).
				Get(ctx, nil); err != nil {
				return p, err
			}
			drain()
			rematch = false
			run := workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
				StartToCloseTimeout: 30 * time.Minute, Summary: "mise en relation des demandeurs revenus en tête de file",
				RetryPolicy: &temporal.RetryPolicy{MaximumInterval: time.Minute},
			})
			// The run signals its proposals, as any run does.
			if err := workflow.ExecuteActivity(run, campaign.ActivityRunMatching, in.Campaign).Get(ctx, nil); err != nil {
				return p, err
			}
			p.Rematches++
			drain()
		}
		for {
			var b campaign.OffersBatch
			if err := workflow.ExecuteActivity(starts, campaign.ActivityStartOffers, in.Campaign).Get(ctx, &b); err != nil {
				return p, err
			}
			p.Started += b.Started
			p.Left = b.Left
			show()
			if b.Left == 0 {
				break
			}
			if b.Started == 0 {
				// What is left is another worker's, under its lease.
				if err := workflow.NewTimerWithOptions(ctx, time.Minute, workflow.TimerOptions{Summary: "offres en cours ailleurs"}).Get(ctx, nil); err != nil {
					return p, err
				}
			}
		}
		if !drain() && !rematch {
			return p, nil
		}
		if workflow.GetInfo(ctx).GetContinueAsNewSuggested() {
			return p, workflow.NewContinueAsNewError(ctx, MatchingOffers, campaign.Offers{Campaign: in.Campaign, Progress: p, Rematch: rematch,
				RematchDelay: in.RematchDelay})
		}
	}
}

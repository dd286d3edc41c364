package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/procurations/procuration/internal/service"
)

func reconcileCmd() *cobra.Command {
	var dryRun, orphans bool
	cmd := &cobra.Command{
		Use:   "reconcile",
		Short: "Report and repair every dossier and match whose read model disagrees with its workflow (after a termination, a crash)",
		Long: `Reads every dossier and match the read model holds as live and describes its workflow.
A dossier whose workflow is missing (the API stopped between the create and the start) or was
stopped (terminated, failed, timed out, cancelled before the cancellation path existed) gets a
new run that resumes where the read model stands: its waits, reminders and expiry go on, and no
email already sent goes again. A match whose workflow was stopped ends as cancelled, its people
free for the next run, the requester first in line. --dry-run only reports.`,
	}
	cfg := configured(cmd)
	cmd.RunE = func(cmd *cobra.Command, _ []string) error {
		a, err := open(cmd.Context(), cfg)
		if err != nil {
			return err
		}
		defer a.Close()
		report := func(d service.Disagreement) { fmt.Println(d) }
		r, err := a.Service.Reconcile(cmd.Context(), dryRun, report)
		if err != nil {
			return err
		}
		extra := 0
		if orphans {
			if extra, err = a.Service.Orphans(cmd.Context(), report); err != nil {
				return err
			}
		}
		verb := "repaired"
		if dryRun {
			verb = "to repair"
		}
		fmt.Printf("%d live dossiers and %d live matches read: %d disagreements, %d %s, %d failed; %d workflows without a dossier\n",
			r.Dossiers, r.Matches, r.Disagreements, r.Repaired, verb, r.Failed, extra)
		if r.Failed > 0 {
			return fmt.Errorf("%d repairs failed", r.Failed)
		}
		return nil
	}
	cmd.Flags().BoolVar(&dryRun, "dry-run", false, "report only")
	cmd.Flags().BoolVar(&orphans, "orphans", false, "also list running dossier workflows the read model does not know (reads the whole visibility store)")
	return cmd
}

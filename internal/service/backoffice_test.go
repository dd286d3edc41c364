package service

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/procurations/procuration/internal/errs"
)

// Zero minutes between scheduled runs means on demand, at creation as in
// the back office's settings; only a missing value takes the default.
func TestMatchingEveryZeroMeansOnDemand(t *testing.T) {
	zero := 0
	require.Equal(t, 0, orDefault(&zero, DefaultMatchingEveryMinutes))
	require.Equal(t, DefaultMatchingEveryMinutes, orDefault(nil, DefaultMatchingEveryMinutes))
	require.NoError(t, validateSettings(SettingsChange{AnswerWindowHours: 48, RetentionDays: 30, MatchingEveryMinutes: 0}))
}

func TestSettingsBounds(t *testing.T) {
	err := validateSettings(SettingsChange{AnswerWindowHours: 0, RetentionDays: 400, MatchingEveryMinutes: -1, LinkReminderDays: []int{0}})
	e, ok := errs.As(err)
	require.True(t, ok)
	var where []string
	for _, f := range e.Fields {
		where = append(where, f.Location)
	}
	require.ElementsMatch(t, []string{"answer_window_hours", "retention_days", "matching_every_minutes", "link_reminder_days"}, where)
	require.Error(t, validateSettings(SettingsChange{AnswerWindowHours: 1, RetentionDays: 1, LinkReminderDays: []int{1, 2, 3, 4, 5, 6}}))
}

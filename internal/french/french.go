// Package french writes dates, instants and durations as a French reader
// expects them, in metropolitan France's time. It is pure, so workflows use
// it too.
package french

import (
	"fmt"
	"time"

	"github.com/procurations/procuration/internal/calendar"
)

var (
	months = [...]string{"janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre", "octobre", "novembre", "décembre"}
	days   = [...]string{"dimanche", "lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi"}
)

// Date writes "11 avril 2027" (a calendar date, read as is).
func Date(t time.Time) string {
	day := fmt.Sprint(t.Day())
	if t.Day() == 1 {
		day = "1er"
	}
	return fmt.Sprintf("%s %s %d", day, months[t.Month()-1], t.Year())
}

// Day writes "dimanche 11 avril 2027" (a calendar date, read as is).
func Day(t time.Time) string { return days[t.Weekday()] + " " + Date(t) }

// Round names an election's round: "1er tour", "2d tour".
func Round(n int) string {
	switch n {
	case 1:
		return "1er tour"
	case 2:
		return "2d tour"
	}
	return fmt.Sprintf("%de tour", n)
}

// Instant writes "lundi 12 avril 2027 à 14 h 05", in Paris time.
func Instant(t time.Time) string {
	t = t.In(calendar.Paris)
	return fmt.Sprintf("%s à %d h %02d", Day(t), t.Hour(), t.Minute())
}

// Duration writes "3 jours", "5 heures", "2 jours et 3 heures",
// "moins d'une minute".
func Duration(d time.Duration) string {
	if d < 0 {
		d = -d
	}
	days, hours, minutes := int(d/(24*time.Hour)), int(d%(24*time.Hour)/time.Hour), int(d%time.Hour/time.Minute)
	unit := func(n int, one, many string) string {
		if n == 1 {
			return "1 " + one
		}
		return fmt.Sprintf("%d %s", n, many)
	}
	switch {
	case days > 0 && hours > 0 && days < 7:
		return unit(days, "jour", "jours") + " et " + unit(hours, "heure", "heures")
	case days > 0:
		return unit(days, "jour", "jours")
	case hours > 0 && minutes > 0:
		return unit(hours, "heure", "heures") + " et " + unit(minutes, "minute", "minutes")
	case hours > 0:
		return unit(hours, "heure", "heures")
	case minutes > 0:
		return unit(minutes, "minute", "minutes")
	}
	return "moins d'une minute"
}

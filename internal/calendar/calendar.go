// Package calendar is the one place that turns election dates into
// instants: days begin and end in metropolitan France's time.
package calendar

import (
	"time"
	_ "time/tzdata" // the binary carries the zone: no wrong offset on a host without tzdata
)

// Paris is metropolitan France's time zone.
var Paris = mustLoad("Europe/Paris")

func mustLoad(name string) *time.Location {
	loc, err := time.LoadLocation(name)
	if err != nil {
		panic(err) // embedded by time/tzdata: cannot happen
	}
	return loc
}

// StartOfDay is when d's calendar day begins in Paris.
func StartOfDay(d time.Time) time.Time {
	return time.Date(d.Year(), d.Month(), d.Day(), 0, 0, 0, 0, Paris)
}

// EndOfDay is when d's calendar day ends in Paris: what covers that day
// stops covering anything then.
func EndOfDay(d time.Time) time.Time { return StartOfDay(d).AddDate(0, 0, 1) }

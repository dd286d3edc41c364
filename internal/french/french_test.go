package french

import (
	"testing"
	"time"
)

func TestFrench(t *testing.T) {
	at := time.Date(2027, 4, 12, 12, 5, 0, 0, time.UTC)
	for got, want := range map[string]string{
		Date(time.Date(2027, 4, 1, 0, 0, 0, 0, time.UTC)): "1er avril 2027",
		Day(time.Date(2027, 4, 11, 0, 0, 0, 0, time.UTC)): "dimanche 11 avril 2027",
		Instant(at):                   "lundi 12 avril 2027 à 14 h 05",
		Duration(48 * time.Hour):      "2 jours",
		Round(1) + ", " + Round(2):    "1er tour, 2d tour",
		Duration(27 * time.Hour):      "1 jour et 3 heures",
		Duration(90 * time.Minute):    "1 heure et 30 minutes",
		Duration(10 * 24 * time.Hour): "10 jours",
		Duration(30 * time.Second):    "moins d'une minute",
	} {
		if got != want {
			t.Errorf("got %q, want %q", got, want)
		}
	}
}

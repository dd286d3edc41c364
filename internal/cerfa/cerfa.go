// Package cerfa prints the proxy-vote request form, Cerfa n° 14952*03
// "Demande de procuration", pre-filled with what a matching platform knows
// about the voter who gives the proxy (le mandant) and the voter who receives
// it (le mandataire), and left blank where the person must write.
//
// The form is laid out on an A4 portrait page, followed by a page of notice.
// Its sections and fields follow the official form and article R. 75 of the
// code électoral, which lists what the form holds: identification of the
// mandant (name, given names, sex, birth date, national voter number, commune
// or consulate of registration, phone), of the mandataire (name, given names,
// sex, birth date, national voter number), the validity (type and round of the
// election and its date, or the end of the period), then the name, quality,
// place and date of the authority that establishes the proxy, its visa and its
// stamp. This is a reproduction made from that description, not the official
// PDF: the exact wording of the official labels may differ where noted in
// layout.go.
//
// Text is set in an embedded subset of DejaVu Sans, so that every name written
// in a Latin script prints ("Nguyễn", "Łukasz", "Żółć").
package cerfa

import (
	"errors"
	"fmt"
	"strings"
	"time"
)

// Sex is the sex recorded on the electoral list; the zero value leaves both
// boxes blank.
type Sex string

const (
	Female Sex = "F"
	Male   Sex = "M"
)

// Person is one of the two voters of a proxy. Zero values print as empty
// fields for the person to fill in by hand.
type Person struct {
	Sex        Sex
	BirthName  string // nom de naissance
	UsageName  string // nom d'usage (printed for the mandant only, as on the form)
	GivenNames string // prénom(s)
	BirthDate  time.Time
	// Lieu de naissance: the commune, then the département for a birth in
	// France or the country for a birth abroad (mandant only).
	BirthCommune       string
	BirthDeptOrCountry string
	// Commune (or consulate) of registration on the electoral lists,
	// e.g. "Lyon (69123)" (mandant only).
	Commune string
	NNE     string // numéro national d'électeur
	// Coordonnées (mandant only).
	Email, Phone string
}

// Round is one round of an election covered by the proxy.
type Round struct {
	Number int // 1 or 2
	Date   time.Time
}

// Validity is either one election (Election and Rounds) or a period (From,
// Until: one year at most); the zero value leaves every box blank.
type Validity struct {
	Election    string
	Rounds      []Round
	From, Until time.Time
}

// Form is what the platform knows of a proxy.
type Form struct {
	// Platform is the name of the campaign or platform that pre-filled the
	// form; it is printed on it.
	Platform string
	Grantor  Person // le mandant
	Proxy    Person // le mandataire
	Validity Validity
}

func (v Validity) forElection() bool { return v.Election != "" || len(v.Rounds) > 0 }
func (v Validity) forPeriod() bool   { return !v.From.IsZero() || !v.Until.IsZero() }

// round returns the round with that number, if the proxy covers it.
func (v Validity) round(n int) (Round, bool) {
	for _, r := range v.Rounds {
		if r.Number == n {
			return r, true
		}
	}
	return Round{}, false
}

func (v Validity) check() error {
	if v.forElection() && v.forPeriod() {
		return errors.New("cerfa: a proxy is for one election or for a period, not both")
	}
	seen := map[int]bool{}
	for _, r := range v.Rounds {
		if r.Number != 1 && r.Number != 2 {
			return fmt.Errorf("cerfa: round %d: an election has a 1st and a 2nd round", r.Number)
		}
		if seen[r.Number] {
			return fmt.Errorf("cerfa: round %d given twice", r.Number)
		}
		seen[r.Number] = true
	}
	if !v.From.IsZero() && !v.Until.IsZero() {
		if v.Until.Before(v.From) {
			return errors.New("cerfa: the period ends before it starts")
		}
		if v.Until.After(v.From.AddDate(1, 0, 0)) {
			return errors.New("cerfa: a proxy for a period lasts one year at most")
		}
	}
	return nil
}

// Render prints the form as a two-page A4 PDF: the form, then its notice.
func Render(f Form) ([]byte, error) {
	if err := f.Validity.check(); err != nil {
		return nil, err
	}
	return render(normalize(f))
}

// normalize makes every text printable: composed (NFC), so that a name typed
// with combining accents prints with the font's precomposed letters, on one
// line, trimmed, with what the fonts cannot draw replaced (printableText).
func normalize(f Form) Form {
	s := func(p *string) { *p = printableText(*p) }
	s(&f.Platform)
	for _, p := range []*Person{&f.Grantor, &f.Proxy} {
		for _, t := range []*string{&p.BirthName, &p.UsageName, &p.GivenNames, &p.BirthCommune,
			&p.BirthDeptOrCountry, &p.Commune, &p.NNE, &p.Email, &p.Phone} {
			s(t)
		}
	}
	s(&f.Validity.Election)
	return f
}

// ShortDate prints a date as on a form, JJ/MM/AAAA; the zero time prints as "".
func ShortDate(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.Format("02/01/2006")
}

var months = [...]string{"janvier", "février", "mars", "avril", "mai", "juin", "juillet",
	"août", "septembre", "octobre", "novembre", "décembre"}

// LongDate prints a date in words, "11 avril 2027", "1er mai 2027"; the zero
// time prints as "".
func LongDate(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	day := fmt.Sprint(t.Day())
	if t.Day() == 1 {
		day = "1er"
	}
	return fmt.Sprintf("%s %s %d", day, months[t.Month()-1], t.Year())
}

// fullName is "Prénoms Nom", with the usage name in brackets when it differs.
func (p Person) fullName() string {
	name := strings.TrimSpace(p.GivenNames + " " + p.BirthName)
	if p.UsageName != "" && p.UsageName != p.BirthName {
		name += " (" + p.UsageName + ")"
	}
	return name
}

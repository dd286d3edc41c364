package cerfa

import (
	"slices"
	"time"

	"github.com/procurations/procuration/internal/store"
)

// ForMatch pre-fills the form of a match's procuration: the requester gives
// it, the volunteer receives it, for the rounds of the match. The same for
// the email's attachment and the campaign site's download.
func ForMatch(platform string, requester, volunteer store.Signup, requesterCommune store.Commune, e store.Election, rounds []int16) Form {
	v := Validity{Election: e.Name}
	for _, r := range e.Rounds {
		if slices.Contains(rounds, int16(r.Number)) {
			d, _ := time.Parse(time.DateOnly, r.Date)
			v.Rounds = append(v.Rounds, Round{Number: r.Number, Date: d})
		}
	}
	commune := requesterCommune.Code
	if requesterCommune.Name != "" {
		commune = requesterCommune.Name + " (" + requesterCommune.Code + ")"
	}
	return Form{
		Platform: platform,
		Grantor: Person{BirthName: requester.FamilyName, GivenNames: requester.GivenNames, BirthDate: requester.BirthDate,
			Commune: commune, NNE: requester.NNE, Email: requester.Email, Phone: requester.Phone},
		Proxy:    Person{BirthName: volunteer.FamilyName, GivenNames: volunteer.GivenNames, BirthDate: volunteer.BirthDate, NNE: volunteer.NNE},
		Validity: v,
	}
}

// Package geo holds the official list of communes, embedded, and the
// synthetic register the demo and the tests use.
package geo

import (
	"bufio"
	"bytes"
	"compress/gzip"
	_ "embed"
	"encoding/csv"
	"fmt"
	"hash/fnv"
	"io"
	"math/rand/v2"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/procurations/procuration/internal/store"
)

//go:embed communes.tsv.gz
var communesTSV []byte

// Communes returns the official communes (COG, from @etalab/decoupage-administratif).
func Communes() ([]store.Commune, error) {
	zr, err := gzip.NewReader(bytes.NewReader(communesTSV))
	if err != nil {
		return nil, err
	}
	sc := bufio.NewScanner(zr)
	sc.Scan() // header
	var out []store.Commune
	for sc.Scan() {
		f := strings.Split(sc.Text(), "\t")
		if len(f) != 7 {
			return nil, fmt.Errorf("communes: bad line %q", sc.Text())
		}
		pop, _ := strconv.Atoi(f[6])
		out = append(out, store.Commune{Code: f[0], Name: f[1], Departement: f[2], Region: f[3], Arrondissement: f[4], EPCI: f[5], Population: pop})
	}
	return out, sc.Err()
}

// DemoVoters are fixed register entries the README's walk-through uses.
var DemoVoters = []store.Voter{
	{NNE: "100000001", FamilyName: "DUPONT", GivenNames: "Marie Claire", Sex: "F", BirthDate: date("1985-04-12"), CommuneCode: "75056", PollingStation: "75056_0001"},
	{NNE: "100000002", FamilyName: "MARTIN", GivenNames: "Jean", Sex: "M", BirthDate: date("1979-11-03"), CommuneCode: "75056", PollingStation: "75056_0001"},
	{NNE: "100000003", FamilyName: "BERNARD", GivenNames: "Sophie", Sex: "F", BirthDate: date("1992-06-30"), CommuneCode: "75056", PollingStation: "75056_0002"},
	{NNE: "100000004", FamilyName: "PETIT", GivenNames: "Luc", Sex: "M", BirthDate: date("1968-01-21"), CommuneCode: "69123", PollingStation: "69123_0001"},
	{NNE: "100000005", FamilyName: "ROBERT", GivenNames: "Camille", Sex: "F", BirthDate: date("2001-09-15"), CommuneCode: "69123", PollingStation: "69123_0001"},
}

func date(s string) time.Time {
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		panic(err)
	}
	return t
}

var (
	familyNames = []string{"MARTIN", "BERNARD", "THOMAS", "PETIT", "ROBERT", "RICHARD", "DURAND", "DUBOIS", "MOREAU", "LAURENT",
		"SIMON", "MICHEL", "LEFEBVRE", "LEROY", "ROUX", "DAVID", "BERTRAND", "MOREL", "FOURNIER", "GIRARD", "BONNET", "DUPONT",
		"LAMBERT", "FONTAINE", "ROUSSEAU", "VINCENT", "MULLER", "LEFEVRE", "FAURE", "ANDRE", "MERCIER", "BLANC", "GUERIN",
		"BOYER", "GARNIER", "CHEVALIER", "FRANCOIS", "LEGRAND", "GAUTHIER", "GARCIA", "PERRIN", "ROBIN", "CLEMENT", "MORIN",
		"NICOLAS", "HENRY", "ROUSSEL", "MATHIEU", "GAUTIER", "MASSON"}
	femaleNames = []string{"Marie", "Nathalie", "Isabelle", "Sylvie", "Catherine", "Françoise", "Anne", "Christine", "Sophie",
		"Camille", "Léa", "Manon", "Chloé", "Emma", "Inès", "Sarah", "Julie", "Laura", "Jeanne", "Louise"}
	maleNames = []string{"Jean", "Philippe", "Michel", "Alain", "Patrick", "Nicolas", "Christophe", "Pierre", "Christian",
		"Éric", "Thomas", "Lucas", "Hugo", "Louis", "Gabriel", "Arthur", "Paul", "Julien", "Antoine", "Karim"}
)

// SyntheticRegister writes a register extract of n voters as the import
// expects it, spread over the communes in proportion to their population,
// with one polling station per thousand inhabitants. The same seed gives the
// same register. NNEs start at 200000000 so they never meet DemoVoters.
func SyntheticRegister(w io.Writer, communes []store.Commune, n int, seed uint64) error {
	cw := csv.NewWriter(w)
	if err := cw.Write([]string{"nne", "family_name", "given_names", "sex", "birth_date", "commune_code", "polling_station"}); err != nil {
		return err
	}
	for _, v := range DemoVoters {
		if err := cw.Write(voterRecord(v)); err != nil {
			return err
		}
	}
	rng := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	pick := populationSampler(communes)
	birthStart := date("1930-01-01")
	span := int(date("2008-01-01").Sub(birthStart).Hours() / 24)
	for i := range n {
		c := communes[pick(rng)]
		stations := c.Population/1000 + 1
		v := store.Voter{
			NNE:            strconv.Itoa(200000000 + i),
			FamilyName:     familyNames[rng.IntN(len(familyNames))],
			BirthDate:      birthStart.AddDate(0, 0, rng.IntN(span)),
			CommuneCode:    c.Code,
			PollingStation: fmt.Sprintf("%s_%04d", c.Code, rng.IntN(stations)+1),
		}
		if rng.IntN(2) == 0 {
			v.Sex, v.GivenNames = "F", femaleNames[rng.IntN(len(femaleNames))]
		} else {
			v.Sex, v.GivenNames = "M", maleNames[rng.IntN(len(maleNames))]
		}
		if err := cw.Write(voterRecord(v)); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

func voterRecord(v store.Voter) []string {
	return []string{v.NNE, v.FamilyName, v.GivenNames, v.Sex, v.BirthDate.Format(time.DateOnly), v.CommuneCode, v.PollingStation}
}

func populationSampler(communes []store.Commune) func(*rand.Rand) int {
	cumulative := make([]int, len(communes))
	total := 0
	for i, c := range communes {
		total += c.Population + 1
		cumulative[i] = total
	}
	return func(rng *rand.Rand) int {
		x := rng.IntN(total)
		return sort.SearchInts(cumulative, x+1)
	}
}

// DemoElection is the upcoming election the demo offers.
var DemoElection = store.Election{
	ID:   "presidentielle-2027",
	Name: "Élection présidentielle 2027",
	Rounds: []store.Round{
		{Number: 1, Date: "2027-04-11"},
		{Number: 2, Date: "2027-04-25"},
	},
}

// DemoAgent is a person of the demo's agents' identity provider, with the
// right the demo data grants them (none for the last: support grants it).
type DemoAgent struct {
	GivenName, UsualName, Email, Organization, Siret string
	Role, Unit, Rank                                 string
	Communes                                         []string
	// Campaigns are a back office agent's (the demo campaign's team).
	Campaigns []string
	Admin     bool
}

// DemoAgents are the officer, the town hall agents and the support agent of
// the README's walk-through.
var DemoAgents = []DemoAgent{
	{GivenName: "Paul", UsualName: "LEMAIRE", Email: "paul.lemaire@interieur.gouv.fr", Organization: "Préfecture de police",
		Siret: "11000201100044", Role: "police", Unit: "Commissariat central du 11e arrondissement de Paris", Rank: "brigadier-chef, OPJ"},
	{GivenName: "Inès", UsualName: "GARNIER", Email: "ines.garnier@paris.fr", Organization: "Ville de Paris", Siret: "21750001600019",
		Role: "town_hall", Communes: []string{"75056"}, Admin: true},
	{GivenName: "Karim", UsualName: "BOYER", Email: "karim.boyer@mairie-lyon.fr", Organization: "Ville de Lyon", Siret: "21690123100011",
		Role: "town_hall", Communes: []string{"69123"}},
	{GivenName: "Sarah", UsualName: "ROUX", Email: "sarah.roux@procuration.example", Organization: "Équipe Procurations",
		Siret: "13002526500013", Role: "support"},
	{GivenName: "Nadia", UsualName: "LEFEBVRE", Email: "nadia.lefebvre@paris.fr", Organization: "Ville de Paris", Siret: "21750001600019"},
	{GivenName: "Léa", UsualName: "FONTAINE", Email: "lea.fontaine@planprocu.example", Organization: "Plan Procu", Siret: "90000000000018",
		Role: "back_office", Campaigns: []string{"planprocu-2027"}, Admin: true},
	{GivenName: "Hugo", UsualName: "MERCIER", Email: "hugo.mercier@voterensemble.example", Organization: "Voter ensemble",
		Siret: "90000000100016"},
}

// DemoEmail is the address a demo voter signs in with.
func DemoEmail(v store.Voter) string {
	given, _, _ := strings.Cut(v.GivenNames, " ")
	return strings.ToLower(given+"."+v.FamilyName) + "@example.fr"
}

var (
	stationPlaces = []string{"École élémentaire Jules-Ferry", "École maternelle Louise-Michel", "Groupe scolaire Victor-Hugo",
		"Gymnase Jean-Moulin", "Salle polyvalente", "Maison des associations", "École Jean-Jaurès", "Centre social Simone-Veil",
		"Salle des fêtes", "École primaire Marie-Curie", "Médiathèque Albert-Camus", "Collège Jean-Zay"}
	stationStreets = []string{"rue de la République", "rue Jean-Jaurès", "rue Victor-Hugo", "rue des Écoles", "avenue Pasteur",
		"rue du Général-de-Gaulle", "place de la Paix", "boulevard Gambetta", "rue de la Liberté", "allée des Tilleuls"}
)

// SyntheticStations names the polling stations the register uses, the same
// way every time: schools, gymnasiums and halls at made-up addresses.
func SyntheticStations(stations []store.PollingStation, communeName func(code string) string) []store.PollingStation {
	out := make([]store.PollingStation, 0, len(stations))
	for _, p := range stations {
		h := fnv.New32a()
		_, _ = h.Write([]byte(p.Code))
		n := int(h.Sum32())
		where := communeName(p.CommuneCode)
		p.Name = stationPlaces[n%len(stationPlaces)]
		p.Address = fmt.Sprintf("%d %s, %s", n/7%120+1, stationStreets[n/13%len(stationStreets)], where)
		out = append(out, p)
	}
	return out
}

// LetterName names the i-th synthetic voter with letters only, as a
// register writes names: 0 → "A", 26 → "Ba".
func LetterName(i int) string {
	var b []byte
	for {
		b = append([]byte{byte('a' + i%26)}, b...)
		if i /= 26; i == 0 {
			break
		}
	}
	b[0] -= 'a' - 'A'
	return string(b)
}

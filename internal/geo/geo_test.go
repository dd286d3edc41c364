package geo

import (
	"bytes"
	"encoding/csv"
	"testing"
)

func TestCommunes(t *testing.T) {
	communes, err := Communes()
	if err != nil {
		t.Fatal(err)
	}
	if len(communes) < 34000 {
		t.Fatalf("%d communes, want the whole COG", len(communes))
	}
	byCode := map[string]string{}
	for _, c := range communes {
		byCode[c.Code] = c.Name
	}
	for code, name := range map[string]string{"75056": "Paris", "69123": "Lyon", "2A004": "Ajaccio", "13201": "Marseille 1er Arrondissement"} {
		if byCode[code] != name {
			t.Errorf("%s = %q, want %q", code, byCode[code], name)
		}
	}
}

func TestSyntheticRegisterIsDeterministic(t *testing.T) {
	communes, err := Communes()
	if err != nil {
		t.Fatal(err)
	}
	var a, b bytes.Buffer
	if err := SyntheticRegister(&a, communes, 1000, 7); err != nil {
		t.Fatal(err)
	}
	if err := SyntheticRegister(&b, communes, 1000, 7); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a.Bytes(), b.Bytes()) {
		t.Fatal("same seed, different registers")
	}
	records, err := csv.NewReader(&a).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(records) != 1+len(DemoVoters)+1000 {
		t.Fatalf("%d records", len(records))
	}
	paris := 0
	for _, r := range records[1:] {
		if r[5] == "75056" {
			paris++
		}
	}
	if paris < 10 {
		t.Errorf("only %d voters in Paris: not weighted by population", paris)
	}
}

func TestEveryDepartementHasItsName(t *testing.T) {
	communes, err := Communes()
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range communes {
		if Departement(c.Departement) == c.Departement {
			t.Fatalf("département %q of %s has no name", c.Departement, c.Code)
		}
	}
	if got := Departement("2A"); got != "2A – Corse-du-Sud" {
		t.Errorf("2A reads %q", got)
	}
}

package identity

import (
	"testing"
	"time"
)

func TestNamesCompareAsRegistersWriteThem(t *testing.T) {
	for a, b := range map[string]string{
		"Marie-Claire": "marie claire", "D'HÉROUVILLE": "d herouville", "Zoé  Anaïs": "ZOE ANAIS", "Nguyễn": "nguyen",
		"Łukasz": "łukasz", "ﬁne": "fine", "王伟": "王伟",
	} {
		if !Same(a, b) {
			t.Errorf("%q and %q differ", a, b)
		}
	}
	for a, b := range map[string]string{"Marie Claire": "Marie Sophie", "王伟": "李娜", "Jean": "Jeanne", "": ""} {
		if Same(a, b) {
			t.Errorf("%q and %q taken for one", a, b)
		}
	}
	d := time.Date(1990, 1, 1, 0, 0, 0, 0, time.UTC)
	if Key("王", "伟", d) == Key("李", "娜", d) || Key("MARTIN", "Marie Claire", d) == Key("MARTIN", "Marie Sophie", d) {
		t.Error("two people, one key")
	}
	if Key("Dupont", "Marie-Claire", d) != Key("DUPONT", "marie claire", d) {
		t.Error("one person, two keys")
	}
}

func TestMismatch(t *testing.T) {
	reg := Person{FamilyName: "DUPONT", GivenNames: "Marie Claire", BirthDate: "1985-04-12", BirthPlace: "75056"}
	for want, p := range map[string]Person{
		"":                  {FamilyName: "Dupont", GivenNames: "Marie-Claire", BirthDate: "1985-04-12", BirthPlace: "75056"},
		"date de naissance": {FamilyName: "Dupont", GivenNames: "Marie Claire"},
		"nom de naissance":  {FamilyName: "Durand", GivenNames: "Marie Claire", BirthDate: "1985-04-12"},
		"prénoms":           {FamilyName: "Dupont", GivenNames: "Marie", BirthDate: "1985-04-12"},
		"lieu de naissance": {FamilyName: "Dupont", GivenNames: "Marie Claire", BirthDate: "1985-04-12", BirthPlace: "69123"},
	} {
		if got := Mismatch(p, reg); got != want {
			t.Errorf("%+v: %q, want %q", p, got, want)
		}
	}
}

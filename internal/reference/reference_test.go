package reference

import (
	"strings"
	"testing"
)

func TestAlphabetHasNoLookAlikes(t *testing.T) {
	for _, c := range "01OIL" {
		if strings.ContainsRune(Alphabet, c) {
			t.Errorf("alphabet contains %q", c)
		}
	}
}

func TestNewIsValidAndSpread(t *testing.T) {
	counts := map[rune]int{}
	const n = 30000
	for range n {
		r := New()
		if !Valid(r) {
			t.Fatalf("%q is not a valid reference", r)
		}
		for _, c := range r {
			counts[c]++
		}
	}
	// Each of 30 characters should appear about 6000 times in 180000.
	for _, c := range Alphabet {
		if counts[c] < 5000 || counts[c] > 7000 {
			t.Errorf("%q appears %d times: not uniform", c, counts[c])
		}
	}
}

func TestNormalize(t *testing.T) {
	if got := Normalize(" k7m 2qx "); got != "K7M2QX" {
		t.Errorf("Normalize = %q", got)
	}
	if Valid("K7M2Q0") || Valid("K7M2Q") {
		t.Error("invalid reference accepted")
	}
}

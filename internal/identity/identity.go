// Package identity compares people's names as civil registers write them:
// whatever the accents, the case, the hyphens and apostrophes of compound
// names, in every script.
package identity

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"time"
	"unicode"

	"golang.org/x/text/unicode/norm"
)

// Normalize folds a name: compatibility forms decomposed, marks dropped,
// lower case, hyphens, apostrophes, dots and underscores read as spaces,
// spaces collapsed. Letters of every script are kept: 王伟 stays 王伟.
func Normalize(s string) string {
	var b strings.Builder
	space := true
	for _, r := range norm.NFKD.String(s) {
		switch {
		case unicode.Is(unicode.Mn, r):
			continue
		case unicode.IsLetter(r) || unicode.IsDigit(r):
			b.WriteRune(unicode.ToLower(r))
			space = false
		case !space:
			b.WriteByte(' ')
			space = true
		}
	}
	return strings.TrimSpace(b.String())
}

// Same reports whether two names are one after normalisation.
func Same(a, b string) bool { return Normalize(a) != "" && Normalize(a) == Normalize(b) }

// Person is who an identity provider or a register says someone is.
type Person struct {
	FamilyName string
	GivenNames string
	BirthDate  string // YYYY-MM-DD
	// BirthPlace is an INSEE code; empty when unknown.
	BirthPlace string
}

// Mismatch says, in French, what part of a signed-in identity the register
// entry does not bear out, or "" when it does. A register without the
// birthplace does not compare it.
func Mismatch(signedIn, register Person) string {
	switch {
	case signedIn.BirthDate == "" || signedIn.BirthDate != register.BirthDate:
		return "date de naissance"
	case !Same(signedIn.FamilyName, register.FamilyName):
		return "nom de naissance"
	case !Same(signedIn.GivenNames, register.GivenNames):
		return "prénoms"
	case register.BirthPlace != "" && signedIn.BirthPlace != "" && register.BirthPlace != signedIn.BirthPlace:
		return "lieu de naissance"
	}
	return ""
}

// Key identifies a person within a campaign: every letter of every name,
// normalised, and the birth date. Twins Marie Claire and Marie Sophie are
// two people.
func Key(familyName, givenNames string, birth time.Time) string {
	sum := sha256.Sum256([]byte(Normalize(familyName) + "|" + Normalize(givenNames) + "|" + birth.Format(time.DateOnly)))
	return hex.EncodeToString(sum[:16])
}

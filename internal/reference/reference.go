// Package reference draws dossier references: 6 characters from an alphabet
// without look-alikes, so that a grantor can read one over a counter.
package reference

import (
	"crypto/rand"
	"math/big"
	"strings"
)

// Alphabet leaves out 0/O, 1/I/L and U (read as V), as Crockford's base 32 does.
const Alphabet = "23456789ABCDEFGHJKMNPQRSTVWXYZ"

const Length = 6

// New draws a reference uniformly at random: 30^6, about 729 million, so that
// references reveal nothing of how many dossiers exist and cannot be guessed
// from one another. Uniqueness is the database's primary key; callers draw
// again on a collision.
func New() string {
	var b strings.Builder
	max := big.NewInt(int64(len(Alphabet)))
	for range Length {
		n, err := rand.Int(rand.Reader, max)
		if err != nil {
			panic(err) // crypto/rand does not fail on supported platforms
		}
		b.WriteByte(Alphabet[n.Int64()])
	}
	return b.String()
}

// Normalize reads a reference as typed: case-insensitive, spaces ignored.
func Normalize(s string) string {
	return strings.ToUpper(strings.Join(strings.Fields(s), ""))
}

// Valid reports whether s could be a reference.
func Valid(s string) bool {
	if len(s) != Length {
		return false
	}
	for _, r := range s {
		if !strings.ContainsRune(Alphabet, r) {
			return false
		}
	}
	return true
}

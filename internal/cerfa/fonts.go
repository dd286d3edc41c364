package cerfa

import (
	_ "embed"
	"encoding/binary"
	"strings"
	"unicode"

	"golang.org/x/text/unicode/norm"
)

// The fonts: subsets of DejaVu Sans, see fonts/README.md.
var (
	//go:embed fonts/DejaVuSans.ttf
	fontRegular []byte
	//go:embed fonts/DejaVuSans-Bold.ttf
	fontBold []byte
)

// printable holds the characters that both fonts draw.
var printable = func() map[rune]bool {
	regular, bold := coverage(fontRegular), coverage(fontBold)
	both := map[rune]bool{}
	for r := range regular {
		if bold[r] {
			both[r] = true
		}
	}
	return both
}()

// coverage reads the characters of a TrueType font from its Unicode BMP
// cmap (platform 3, encoding 1, format 4), the one fpdf reads too.
func coverage(ttf []byte) map[rune]bool {
	u16 := func(o int) int { return int(binary.BigEndian.Uint16(ttf[o:])) }
	u32 := func(o int) int { return int(binary.BigEndian.Uint32(ttf[o:])) }
	cmap := -1
	for i, n := 0, u16(4); i < n; i++ {
		rec := 12 + 16*i
		if string(ttf[rec:rec+4]) == "cmap" {
			cmap = u32(rec + 8)
		}
	}
	if cmap < 0 {
		panic("cerfa: embedded font without a cmap")
	}
	sub := -1
	for i, n := 0, u16(cmap+2); i < n; i++ {
		rec := cmap + 4 + 8*i
		if u16(rec) == 3 && u16(rec+2) == 1 && u16(cmap+u32(rec+4)) == 4 {
			sub = cmap + u32(rec+4)
		}
	}
	if sub < 0 {
		panic("cerfa: embedded font without a Unicode BMP cmap")
	}
	segs := u16(sub+6) / 2
	ends, starts := sub+14, sub+16+2*segs
	deltas, offsets := starts+2*segs, starts+4*segs
	set := map[rune]bool{}
	for i := 0; i < segs; i++ {
		end, start := u16(ends+2*i), u16(starts+2*i)
		delta, offset := u16(deltas+2*i), u16(offsets+2*i)
		for c := start; c <= end && c != 0xFFFF; c++ {
			glyph := 0
			if offset == 0 {
				glyph = (c + delta) & 0xFFFF
			} else if g := u16(offsets + 2*i + offset + 2*(c-start)); g != 0 {
				glyph = (g + delta) & 0xFFFF
			}
			if glyph != 0 {
				set[rune(c)] = true
			}
		}
	}
	return set
}

// printableText composes s (NFC) and makes every character one the fonts
// draw: a character they lack is decomposed if its parts are drawn (a base
// letter and combining accents), and otherwise printed as U+FFFD, the
// replacement character, so that the reader sees that something is missing.
// Control characters and line breaks become spaces.
func printableText(s string) string {
	s = norm.NFC.String(s)
	var b strings.Builder
	for _, r := range s {
		switch {
		case unicode.IsControl(r) || unicode.IsSpace(r):
			b.WriteRune(' ')
		case printable[r]:
			b.WriteRune(r)
		default:
			parts := norm.NFD.String(string(r))
			ok := true
			for _, p := range parts {
				ok = ok && printable[p]
			}
			if ok {
				b.WriteString(parts)
			} else {
				b.WriteRune('\uFFFD')
			}
		}
	}
	return strings.Join(strings.Fields(b.String()), " ")
}

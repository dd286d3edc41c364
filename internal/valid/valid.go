// Package valid holds the checks every input passes before it reaches a
// workflow, the database or an email: text a person could have typed,
// addresses a mail server accepts, dates a life can hold. Each check
// returns a French message, empty when the value is acceptable.
package valid

import (
	"fmt"
	"math"
	"net"
	"net/mail"
	"net/url"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// Text accepts valid UTF-8 of at most max characters, with no control,
// format (bidirectional overrides, zero-width joiners) or private-use
// character, and not blank when required.
func Text(s string, max int, required bool) string {
	switch {
	case !utf8.ValidString(s):
		return "texte illisible (encodage UTF-8 attendu)"
	case required && strings.TrimSpace(s) == "":
		return "obligatoire"
	case utf8.RuneCountInString(s) > max:
		return "trop long (" + itoa(max) + " caractères au plus)"
	}
	for _, r := range s {
		if unicode.IsControl(r) || unicode.Is(unicode.Cf, r) || unicode.Is(unicode.Co, r) || r == utf8.RuneError {
			return "caractère interdit (caractère de contrôle ou de mise en forme)"
		}
	}
	return ""
}

// Paragraph is Text that may hold line breaks: the reasons agents type.
func Paragraph(s string, max int, required bool) string {
	return Text(strings.NewReplacer("\r\n", " ", "\n", " ", "\t", " ").Replace(s), max, required)
}

// Name accepts a person's name: letters of any script, spaces, hyphens,
// apostrophes and dots, at most 100 characters.
func Name(s string) string {
	if msg := Text(s, 100, true); msg != "" {
		return msg
	}
	for _, r := range s {
		if !unicode.IsLetter(r) && !unicode.Is(unicode.Mn, r) && !strings.ContainsRune(" -'’.", r) {
			return "seuls les lettres, espaces, traits d'union et apostrophes sont acceptés"
		}
	}
	return ""
}

// Email accepts what RFC 5321 lets a mail server deliver to: a bare
// address of at most 254 characters whose domain has a dot, no IP literal.
func Email(s string) string {
	if msg := Text(s, 254, true); msg != "" {
		return msg
	}
	addr, err := mail.ParseAddress(s)
	if err != nil || addr.Address != s || addr.Name != "" {
		return "adresse électronique invalide"
	}
	return mailbox(addr.Address)
}

// Sender accepts a From header: an optional display name and an address.
func Sender(s string) string {
	if msg := Text(s, 320, true); msg != "" {
		return msg
	}
	addr, err := mail.ParseAddress(s)
	if err != nil {
		return "adresse d'expédition invalide"
	}
	return mailbox(addr.Address)
}

func mailbox(address string) string {
	local, domain, ok := strings.Cut(address, "@")
	if !ok || local == "" || len(local) > 64 || len(domain) > 253 {
		return "adresse électronique invalide"
	}
	if strings.HasPrefix(domain, "[") || net.ParseIP(domain) != nil {
		return "adresse électronique invalide : un nom de domaine est attendu"
	}
	labels := strings.Split(domain, ".")
	if len(labels) < 2 {
		return "adresse électronique invalide : le domaine doit comporter un point"
	}
	for _, l := range labels {
		if l == "" || len(l) > 63 || strings.HasPrefix(l, "-") || strings.HasSuffix(l, "-") {
			return "adresse électronique invalide"
		}
		for _, r := range l {
			if !(r == '-' || r >= '0' && r <= '9' || unicode.IsLetter(r)) {
				return "adresse électronique invalide"
			}
		}
	}
	return ""
}

// Phone accepts digits, spaces, dots, dashes, parentheses and a leading +.
func Phone(s string) string {
	if s == "" {
		return ""
	}
	if msg := Text(s, 30, false); msg != "" {
		return msg
	}
	digits := 0
	for i, r := range s {
		switch {
		case r >= '0' && r <= '9':
			digits++
		case r == '+' && i == 0, strings.ContainsRune(" .-()", r):
		default:
			return "numéro de téléphone invalide"
		}
	}
	if digits < 6 || digits > 15 {
		return "numéro de téléphone invalide"
	}
	return ""
}

// Station accepts a polling station's code: letters, digits, dashes and
// underscores, as the register writes them (75056_0001).
func Station(s string) string {
	if msg := Text(s, 64, false); msg != "" {
		return msg
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_' || r == '-') {
			return "code de bureau de vote attendu (lettres, chiffres, tirets)"
		}
	}
	return ""
}

// BirthDate accepts a YYYY-MM-DD date of someone alive: after 1900, not
// in the future.
func BirthDate(s string, today time.Time) (time.Time, string) {
	d, err := time.Parse(time.DateOnly, s)
	if err != nil {
		return d, "date AAAA-MM-JJ attendue"
	}
	if d.Year() < 1900 || d.After(today) {
		return d, "date de naissance invraisemblable"
	}
	return d, ""
}

func itoa(n int) string {
	if n == 0 {
		return "0"
	}
	var b [20]byte
	i := len(b)
	for n > 0 {
		i--
		b[i] = byte('0' + n%10)
		n /= 10
	}
	return string(b[i:])
}

// Color accepts a #rrggbb colour that white text can sit on, and that can
// sit on white, at WCAG AA contrast (4.5:1).
func Color(s string) string {
	var r, g, b uint8
	if len(s) != 7 || s[0] != '#' {
		return "couleur attendue au format #rrggbb"
	}
	if _, err := fmt.Sscanf(s, "#%02x%02x%02x", &r, &g, &b); err != nil {
		return "couleur attendue au format #rrggbb"
	}
	channel := func(c uint8) float64 {
		v := float64(c) / 255
		if v <= 0.03928 {
			return v / 12.92
		}
		return math.Pow((v+0.055)/1.055, 2.4)
	}
	luminance := 0.2126*channel(r) + 0.7152*channel(g) + 0.0722*channel(b)
	if contrast := 1.05 / (luminance + 0.05); contrast < 4.5 {
		return fmt.Sprintf("trop claire : contraste %.1f:1 avec le blanc, 4,5:1 au moins", contrast)
	}
	return ""
}

// WebAddress accepts an absolute http(s) address, or empty.
func WebAddress(s string) string {
	if s == "" {
		return ""
	}
	if msg := Text(s, 500, false); msg != "" {
		return msg
	}
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return "adresse web attendue (https://…)"
	}
	return ""
}

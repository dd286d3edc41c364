package cerfa

import (
	"bytes"
	"math"
	"os"
	"sort"
	"strings"
	"testing"
	"time"
	"unicode/utf16"

	"github.com/ledongthuc/pdf"
)

func day(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, 0, 0, 0, 0, time.UTC) }

func sample() Form {
	return Form{
		Platform: "Procurations Solidaires 2027",
		Grantor: Person{
			Sex: Female, BirthName: "Nguyễn", UsageName: "D'Hérouville", GivenNames: "Thị Minh Khai",
			BirthDate: day(1987, time.March, 15), Commune: "Saint-Étienne (42218)", NNE: "123456789",
			Email: "minh-khai@example.org", Phone: "06 12 34 56 78",
		},
		Proxy: Person{
			Sex: Male, BirthName: "Żółć", GivenNames: "Łukasz", BirthDate: day(1990, time.January, 1), NNE: "987654321",
		},
		Validity: Validity{
			Election: "Élection présidentielle",
			Rounds:   []Round{{Number: 1, Date: day(2027, time.April, 11)}, {Number: 2, Date: day(2027, time.April, 25)}},
		},
	}
}

// extracted is the text of one page, as lines read top to bottom, each line
// the texts on one baseline from left to right, joined by spaces.
type extracted struct {
	lines  []string
	width  float64 // page size, in points
	height float64
}

func (e extracted) text() string { return strings.Join(e.lines, "\n") }

// extract reads the PDF back with github.com/ledongthuc/pdf, a reader
// independent of the writer: it parses the file, its objects and streams and
// tokenizes the content streams. The text is decoded here through each
// font's own ToUnicode CMap, because that library's decoder adds a range's
// offset to the last byte only, and so garbles every code past U+00FF of a
// range as wide as fpdf's <0000> <FFFF>. Texts are placed by their Td and Tm
// operators, which is how fpdf positions them (it does not use cm for text).
func extract(t *testing.T, b []byte) []extracted {
	t.Helper()
	r, err := pdf.NewReader(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatalf("reading the PDF back: %v", err)
	}
	var pages []extracted
	for i := 1; i <= r.NumPage(); i++ {
		p := r.Page(i)
		box := inherited(p.V, "MediaBox")
		e := extracted{
			width:  box.Index(2).Float64() - box.Index(0).Float64(),
			height: box.Index(3).Float64() - box.Index(1).Float64(),
		}
		fonts := inherited(p.V, "Resources").Key("Font")
		cmaps := map[string]*toUnicode{}
		type segment struct {
			x, y float64
			s    string
		}
		var segs []segment
		var cm *toUnicode
		var x, y float64 // start of the current text line
		pdf.Interpret(p.V.Key("Contents"), func(stk *pdf.Stack, op string) {
			args := make([]pdf.Value, stk.Len())
			for j := len(args) - 1; j >= 0; j-- {
				args[j] = stk.Pop()
			}
			show := func(v pdf.Value) {
				if cm == nil {
					t.Fatalf("page %d: text shown before any font is set", i)
				}
				segs = append(segs, segment{x, y, cm.decode(t, v.RawString())})
			}
			switch op {
			case "Tf":
				name := args[0].Name()
				if cmaps[name] == nil {
					cmaps[name] = readToUnicode(t, fonts.Key(name))
				}
				cm = cmaps[name]
			case "BT":
				x, y = 0, 0
			case "Td", "TD":
				x, y = x+args[0].Float64(), y+args[1].Float64()
			case "Tm":
				x, y = args[4].Float64(), args[5].Float64()
			case "Tj", "'":
				show(args[0])
			case "\"":
				show(args[2])
			case "TJ":
				for j := 0; j < args[0].Len(); j++ {
					if v := args[0].Index(j); v.Kind() == pdf.String {
						show(v)
					}
				}
			}
		})
		sort.SliceStable(segs, func(a, b int) bool {
			if math.Abs(segs[a].y-segs[b].y) > 0.5 {
				return segs[a].y > segs[b].y
			}
			return segs[a].x < segs[b].x
		})
		var line []string
		for j, s := range segs {
			if j > 0 && math.Abs(segs[j-1].y-s.y) > 0.5 {
				e.lines = append(e.lines, strings.Join(line, " "))
				line = nil
			}
			line = append(line, s.s)
		}
		e.lines = append(e.lines, strings.Join(line, " "))
		pages = append(pages, e)
	}
	return pages
}

// toUnicode is a font's ToUnicode CMap: codes of n bytes to text.
type toUnicode struct {
	n      int
	chars  map[uint32][]rune
	ranges []cmapRange
}

type cmapRange struct {
	lo, hi uint32
	dst    []uint16 // UTF-16 of lo; the following codes add to its last unit
}

func readToUnicode(t *testing.T, font pdf.Value) *toUnicode {
	t.Helper()
	strm := font.Key("ToUnicode")
	if strm.IsNull() {
		t.Fatalf("font %s has no ToUnicode CMap: its text cannot be read back", font.Key("BaseFont").Name())
	}
	m := &toUnicode{chars: map[uint32][]rune{}}
	code := func(s string) uint32 {
		var c uint32
		for _, b := range []byte(s) {
			c = c<<8 | uint32(b)
		}
		return c
	}
	units := func(s string) []uint16 {
		var u []uint16
		for j := 0; j+1 < len(s); j += 2 {
			u = append(u, uint16(s[j])<<8|uint16(s[j+1]))
		}
		return u
	}
	var count int
	pdf.Interpret(strm, func(stk *pdf.Stack, op string) {
		switch op {
		case "begincodespacerange", "beginbfchar", "beginbfrange":
			count = int(stk.Pop().Int64())
		case "endcodespacerange":
			for j := 0; j < count; j++ {
				stk.Pop()
				m.n = len(stk.Pop().RawString())
			}
		case "endbfchar":
			for j := 0; j < count; j++ {
				dst, src := stk.Pop().RawString(), stk.Pop().RawString()
				m.chars[code(src)] = utf16.Decode(units(dst))
			}
		case "endbfrange":
			for j := 0; j < count; j++ {
				dst, hi, lo := stk.Pop(), stk.Pop().RawString(), stk.Pop().RawString()
				if dst.Kind() != pdf.String {
					t.Fatalf("bfrange to an array: not read by this test")
				}
				m.ranges = append(m.ranges, cmapRange{code(lo), code(hi), units(dst.RawString())})
			}
		case "findresource": // "/CIDInit /ProcSet findresource begin": any dictionary will do
			stk.Pop()
			stk.Pop()
			stk.Push(font)
		case "defineresource":
			stk.Pop()
			v := stk.Pop()
			stk.Pop()
			stk.Push(v)
		}
	})
	if m.n == 0 {
		t.Fatalf("font %s: ToUnicode CMap without a code space", font.Key("BaseFont").Name())
	}
	return m
}

func (m *toUnicode) decode(t *testing.T, raw string) string {
	t.Helper()
	var out []rune
	for ; len(raw) >= m.n; raw = raw[m.n:] {
		var c uint32
		for _, b := range []byte(raw[:m.n]) {
			c = c<<8 | uint32(b)
		}
		if r, ok := m.chars[c]; ok {
			out = append(out, r...)
			continue
		}
		found := false
		for _, rg := range m.ranges {
			if rg.lo <= c && c <= rg.hi && len(rg.dst) > 0 {
				u := append([]uint16(nil), rg.dst...)
				u[len(u)-1] += uint16(c - rg.lo)
				out = append(out, utf16.Decode(u)...)
				found = true
				break
			}
		}
		if !found {
			t.Fatalf("code %04X has no Unicode value", c)
		}
	}
	return string(out)
}

// inherited is a key of a page or, failing that, of its nearest ancestor in
// the page tree.
func inherited(v pdf.Value, key string) pdf.Value {
	for ; !v.IsNull(); v = v.Key("Parent") {
		if r := v.Key(key); !r.IsNull() {
			return r
		}
	}
	return pdf.Value{}
}

func renderRead(t *testing.T, f Form) []extracted {
	t.Helper()
	b, err := Render(f)
	if err != nil {
		t.Fatal(err)
	}
	pages := extract(t, b)
	if len(pages) != 2 {
		t.Fatalf("%d pages, want the form and its notice", len(pages))
	}
	for i, p := range pages {
		if strings.ContainsRune(p.text(), '\uFFFD') {
			t.Errorf("page %d has a character that the font cannot print:\n%s", i+1, p.text())
		}
	}
	return pages
}

// between is the text from the first line holding from to the first line
// after it holding to.
func between(t *testing.T, text, from, to string) string {
	t.Helper()
	i := strings.Index(text, from)
	if i < 0 {
		t.Fatalf("no %q in:\n%s", from, text)
	}
	j := strings.Index(text[i:], to)
	if j < 0 {
		t.Fatalf("no %q after %q in:\n%s", to, from, text)
	}
	return text[i : i+j]
}

func contains(t *testing.T, where, text string, want ...string) {
	t.Helper()
	for _, w := range want {
		if !strings.Contains(text, w) {
			t.Errorf("%s: no %q in:\n%s", where, w, text)
		}
	}
}

func lacks(t *testing.T, where, text string, unwanted ...string) {
	t.Helper()
	for _, u := range unwanted {
		if strings.Contains(text, u) {
			t.Errorf("%s: %q should not be in:\n%s", where, u, text)
		}
	}
}

func TestTheFormPrintsWhatThePlatformKnowsAccentsIncluded(t *testing.T) {
	pages := renderRead(t, sample())
	for i, p := range pages {
		// A4 portrait: 210 × 297 mm.
		if math.Abs(p.width-595.28) > 0.5 || math.Abs(p.height-841.89) > 0.5 {
			t.Errorf("page %d is %.2f × %.2f pt, not A4 portrait", i+1, p.width, p.height)
		}
	}
	form, notice := pages[0].text(), pages[1].text()
	grantor := between(t, form, "LE MANDANT", "LE MANDATAIRE")
	contains(t, "mandant", grantor, "Nguyễn", "D'Hérouville", "Thị Minh Khai", "15/03/1987",
		"Saint-Étienne (42218)", "123456789", "06 12 34 56 78", "minh-khai@example.org")
	proxy := between(t, form, "LE MANDATAIRE", "DURÉE DE VALIDITÉ")
	contains(t, "mandataire", proxy, "Żółć", "Łukasz", "01/01/1990", "987654321")
	validity := between(t, form, "DURÉE DE VALIDITÉ", "ÉTABLISSEMENT")
	contains(t, "validité", validity, "Élection présidentielle", "11/04/2027", "25/04/2027")
	contains(t, "form", form, "Formulaire pré-rempli par Procurations Solidaires 2027.")

	contains(t, "notice", notice, "Procurations Solidaires 2027", "Thị Minh Khai Nguyễn (D'Hérouville)", "Łukasz Żółć",
		"Élection présidentielle, 1er tour le 11 avril 2027 et 2d tour le 25 avril 2027",
		"pièce d'identité", "commissariat", "gendarmerie", "tribunal judiciaire", "consulat",
		"inscrit sur les listes électorales", "n'importe quelle commune", "dans votre bureau de vote",
		"maprocuration.gouv.fr")
}

func TestTheSectionsComeInTheOrderOfTheOfficialForm(t *testing.T) {
	form := renderRead(t, sample())[0].text()
	// The title block, side by side, comes first.
	title := between(t, form, "RÉPUBLIQUE", "LE MANDANT")
	contains(t, "title block", title, "FRANÇAISE", "DEMANDE DE PROCURATION", "Vote par procuration", "N° 14952*03",
		"Articles L. 71 à L. 78 et R. 72 à R. 80 du code électoral")
	order := []string{"LE MANDANT", "Sexe", "Nom de naissance", "Nom d'usage", "Prénom(s)", "Date de naissance", "Lieu de naissance",
		"Département (ou pays", "Commune d'inscription sur les listes électorales (ou consulat)", "Numéro national d'électeur",
		"Coordonnées", "Courriel",
		"LE MANDATAIRE", "Sexe", "Nom de naissance", "Prénom(s)", "Date de naissance", "Numéro national d'électeur",
		"DURÉE DE VALIDITÉ", "Pour une élection", "1er tour", "2d tour", "les deux tours", "Pour une durée déterminée (un an au plus)",
		"Cadre réservé à l'autorité habilitée", "Signature du mandant", "Nom et prénom de l'autorité", "Qualité",
		"Lieu d'établissement", "Date", "Signature et cachet de l'autorité"}
	rest := form
	for _, s := range order {
		i := strings.Index(rest, s)
		if i < 0 {
			t.Fatalf("%q missing, or not after what comes before it, in:\n%s", s, form)
		}
		rest = rest[i+len(s):]
	}
}

func TestTheBoxesThePlatformKnowsAreTicked(t *testing.T) {
	form := renderRead(t, sample())[0].text()
	grantor := between(t, form, "LE MANDANT", "LE MANDATAIRE")
	contains(t, "mandant", grantor, "X Féminin")
	lacks(t, "mandant", grantor, "X Masculin")
	proxy := between(t, form, "LE MANDATAIRE", "DURÉE DE VALIDITÉ")
	contains(t, "mandataire", proxy, "X Masculin")
	lacks(t, "mandataire", proxy, "X Féminin")
	validity := between(t, form, "DURÉE DE VALIDITÉ", "ÉTABLISSEMENT")
	contains(t, "validité", validity, "X Pour une élection", "X les deux tours")
	lacks(t, "validité", validity, "X 1er tour", "X 2d tour", "X Pour une durée")

	f := sample()
	f.Validity.Rounds = f.Validity.Rounds[1:]
	pages := renderRead(t, f)
	validity = between(t, pages[0].text(), "DURÉE DE VALIDITÉ", "ÉTABLISSEMENT")
	contains(t, "2d tour seul", validity, "X Pour une élection", "X 2d tour", "25/04/2027")
	lacks(t, "2d tour seul", validity, "X 1er tour", "X les deux tours", "11/04/2027")
	contains(t, "notice, 2d tour seul", pages[1].text(), "Élection présidentielle, 2d tour le 25 avril 2027")
}

func TestAProxyForAPeriodPrintsItsDates(t *testing.T) {
	f := sample()
	f.Proxy = Person{Sex: Female, BirthName: "D'Hérouville", GivenNames: "Zoé-Anaïs"}
	f.Validity = Validity{From: day(2027, time.May, 1), Until: day(2028, time.April, 30)}
	pages := renderRead(t, f)
	form := pages[0].text()
	contains(t, "mandataire", between(t, form, "LE MANDATAIRE", "DURÉE DE VALIDITÉ"), "D'Hérouville", "Zoé-Anaïs", "X Féminin")
	validity := between(t, form, "DURÉE DE VALIDITÉ", "ÉTABLISSEMENT")
	contains(t, "validité", validity, "X Pour une durée déterminée", "01/05/2027", "30/04/2028")
	lacks(t, "validité", validity, "X Pour une élection", "X 1er tour", "X 2d tour", "X les deux tours")
	contains(t, "notice", pages[1].text(), "Zoé-Anaïs D'Hérouville", "Validité : du 1er mai 2027 au 30 avril 2028")
}

func TestAnEmptyFormLeavesEveryFieldToTheHand(t *testing.T) {
	pages := renderRead(t, Form{})
	form := pages[0].text()
	for _, line := range pages[0].lines {
		for _, w := range strings.Fields(line) {
			if w == "X" {
				t.Errorf("a box is ticked on an empty form: %q", line)
			}
		}
	}
	// Every date is the pale hint for the hand: mandant, mandataire, each
	// round, the period's two ends, and the authority's date.
	if n := strings.Count(form, "JJ / MM / AAAA"); n != 7 {
		t.Errorf("%d dates to write by hand, want 7:\n%s", n, form)
	}
	lacks(t, "form", form, "0001", "01/01/", "Formulaire pré-rempli par .")
	contains(t, "form", form, "Formulaire pré-rempli par la plateforme de mise en relation.", "LE MANDANT", "LE MANDATAIRE",
		"DURÉE DE VALIDITÉ", "Signature du mandant")
	lacks(t, "notice", pages[1].text(), "Mandant (vous donnez procuration)", "Validité :")
}

func TestTheExtractionSeesAMissingValue(t *testing.T) {
	// The negative control of the assertions above: a value that the form
	// does not hold is not found in what is read back.
	f := sample()
	f.Proxy.BirthName = ""
	form := renderRead(t, f)[0].text()
	lacks(t, "form", form, "Żółć")
	contains(t, "form", form, "Łukasz")
}

func TestTextIsMadePrintable(t *testing.T) {
	f := sample()
	f.Grantor.BirthName = "Nguye\u0302\u0303n"     // typed with combining accents
	f.Grantor.Commune = "Saint-Étienne\n(42218)\t" // on several lines
	f.Platform = "Procurations 🗳 Solidaires"       // a character the font lacks
	b, err := Render(f)
	if err != nil {
		t.Fatal(err)
	}
	form := extract(t, b)[0].text()
	contains(t, "form", form, "Nguyễn", "Saint-Étienne (42218)", "Procurations \uFFFD Solidaires")
	if got := printableText("Ǹ 𝔸 a\u0308"); got != "Ǹ \uFFFD ä" {
		t.Errorf("printableText = %q", got)
	}
}

func TestTheValidityIsOneElectionOrOnePeriod(t *testing.T) {
	for name, v := range map[string]Validity{
		"both":          {Election: "Législatives", From: day(2027, time.May, 1)},
		"round 3":       {Rounds: []Round{{Number: 3}}},
		"round twice":   {Rounds: []Round{{Number: 1}, {Number: 1}}},
		"backwards":     {From: day(2027, time.May, 1), Until: day(2027, time.April, 1)},
		"over one year": {From: day(2027, time.May, 1), Until: day(2028, time.May, 2)},
	} {
		if _, err := Render(Form{Validity: v}); err == nil {
			t.Errorf("%s: rendered", name)
		}
	}
	if _, err := Render(Form{Validity: Validity{From: day(2027, time.May, 1), Until: day(2028, time.May, 1)}}); err != nil {
		t.Errorf("one year exactly: %v", err)
	}
}

func TestDatesAreFrench(t *testing.T) {
	for _, c := range []struct {
		t           time.Time
		short, long string
	}{
		{day(2027, time.April, 11), "11/04/2027", "11 avril 2027"},
		{day(2027, time.May, 1), "01/05/2027", "1er mai 2027"},
		{day(2027, time.August, 15), "15/08/2027", "15 août 2027"},
		{day(2027, time.December, 31), "31/12/2027", "31 décembre 2027"},
		{time.Time{}, "", ""},
	} {
		if got := ShortDate(c.t); got != c.short {
			t.Errorf("ShortDate(%v) = %q, want %q", c.t, got, c.short)
		}
		if got := LongDate(c.t); got != c.long {
			t.Errorf("LongDate(%v) = %q, want %q", c.t, got, c.long)
		}
	}
}

func TestALongValueStaysInItsField(t *testing.T) {
	f := sample()
	f.Grantor.Commune = "Saint-Remy-en-Bouzemont-Saint-Genest-et-Isson, Marne (51474), bureau de vote n° 1 de la mairie annexe"
	f.Platform = strings.Repeat("Procurations Solidaires ", 8)
	pages := renderRead(t, f)
	grantor := between(t, pages[0].text(), "LE MANDANT", "LE MANDATAIRE")
	// Shrunk, then cut with an ellipsis rather than run over its neighbour.
	contains(t, "mandant", grantor, "Saint-Remy-en-Bouzemont-Saint-Genest-et-Isson, Marne (51474)", "…")
}

func TestRenderRunsConcurrently(t *testing.T) {
	done := make(chan error)
	for i := 0; i < 4; i++ {
		go func() { _, err := Render(sample()); done <- err }()
	}
	for i := 0; i < 4; i++ {
		if err := <-done; err != nil {
			t.Error(err)
		}
	}
}

// TestSample writes the sample form where CERFA_SAMPLE_PDF says, to look at
// it (pdftoppm -png -r 70); it checks nothing more than Render succeeding.
func TestSample(t *testing.T) {
	b, err := Render(sample())
	if err != nil {
		t.Fatal(err)
	}
	if path := os.Getenv("CERFA_SAMPLE_PDF"); path != "" {
		if err := os.WriteFile(path, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

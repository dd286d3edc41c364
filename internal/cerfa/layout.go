package cerfa

import (
	"bytes"
	"fmt"
	"strings"

	"github.com/go-pdf/fpdf"
)

// Page geometry, in millimetres.
const (
	pageW   = 210.0
	pageH   = 297.0
	margin  = 12.0
	contW   = pageW - 2*margin
	gap     = 2.0  // between two fields of a row
	rowH    = 12.0 // height of a field
	rowStep = rowH + 1.8
	family  = "DejaVu"
)

// Colours: the blue of the French state's identity for the bars, greys for
// the labels and the frames.
var (
	blue      = [3]int{0, 0, 145}
	tint      = [3]int{232, 237, 255}
	labelGrey = [3]int{85, 85, 85}
	hintGrey  = [3]int{175, 175, 175}
	frameGrey = [3]int{120, 120, 120}
	black     = [3]int{0, 0, 0}
)

type page struct {
	*fpdf.Fpdf
	form Form
	y    float64
}

func render(f Form) ([]byte, error) {
	pdf := fpdf.New("P", "mm", "A4", "")
	pdf.AddUTF8FontFromBytes(family, "", fontRegular)
	pdf.AddUTF8FontFromBytes(family, "B", fontBold)
	pdf.SetAutoPageBreak(false, 0)
	pdf.SetMargins(margin, margin, margin)
	pdf.SetTitle("Demande de procuration (Cerfa n° 14952*03)", true)
	pdf.SetSubject("Vote par procuration", true)
	pdf.SetLang("fr-FR")
	if f.Platform != "" {
		pdf.SetCreator(f.Platform, true)
	}
	p := &page{Fpdf: pdf, form: f}
	p.formPage()
	p.noticePage()
	var out bytes.Buffer
	if err := pdf.Output(&out); err != nil {
		return nil, fmt.Errorf("cerfa: %w", err)
	}
	return out.Bytes(), nil
}

func (p *page) font(bold bool, size float64, c [3]int) {
	style := ""
	if bold {
		style = "B"
	}
	p.SetFont(family, style, size)
	p.SetTextColor(c[0], c[1], c[2])
}

// text writes s with its baseline at y, starting at x.
func (p *page) text(x, y float64, s string) { p.Text(x, y, s) }

// centred writes s centred on the page.
func (p *page) centred(y float64, s string) { p.Text((pageW-p.GetStringWidth(s))/2, y, s) }

// fit sets the font at the largest size, from size down to 6 pt, at which s
// fits in w, and cuts s with an ellipsis if it does not fit at 6 pt.
func (p *page) fit(s string, w, size float64, bold bool, c [3]int) string {
	for ; size > 6 && p.width(s, size, bold) > w; size -= 0.5 {
	}
	p.font(bold, size, c)
	for p.GetStringWidth(s) > w && len([]rune(s)) > 1 {
		r := []rune(s)
		s = string(r[:len(r)-2]) + "…"
	}
	return s
}

func (p *page) width(s string, size float64, bold bool) float64 {
	p.font(bold, size, black)
	return p.GetStringWidth(s)
}

func (p *page) frame(x, y, w, h float64) {
	p.SetDrawColor(frameGrey[0], frameGrey[1], frameGrey[2])
	p.SetLineWidth(0.25)
	p.Rect(x, y, w, h, "D")
}

// field is a framed box with its label at the top and the value, if known,
// below it; an unknown value leaves the box blank, or shows a pale hint of
// the expected format.
func (p *page) field(x, y, w float64, label, value, hint string) {
	p.frame(x, y, w, rowH)
	p.font(false, 6.5, labelGrey)
	p.text(x+1.5, y+3.1, label)
	switch {
	case value != "":
		s := p.fit(value, w-4, 10.5, true, black)
		p.text(x+2, y+rowH-2.8, s)
	case hint != "":
		p.font(false, 9, hintGrey)
		p.text(x+2, y+rowH-2.8, hint)
	}
}

// checkbox draws a box of side 3.6 mm with its top left at x, y, crossed when
// checked, and its label to the right; it returns the x after the label.
func (p *page) checkbox(x, y float64, checked bool, label string, size float64) float64 {
	const side = 3.6
	p.SetDrawColor(black[0], black[1], black[2])
	p.SetLineWidth(0.3)
	p.Rect(x, y, side, side, "D")
	if checked {
		p.font(true, 9, black)
		p.text(x+(side-p.GetStringWidth("X"))/2, y+side-0.55, "X")
	}
	p.font(false, size, black)
	p.text(x+side+1.4, y+side-0.5, label)
	return x + side + 1.4 + p.GetStringWidth(label)
}

// sexField is the field of the two sex boxes.
func (p *page) sexField(x, y, w float64, s Sex) {
	p.frame(x, y, w, rowH)
	p.font(false, 6.5, labelGrey)
	p.text(x+1.5, y+3.1, "Sexe")
	cx := p.checkbox(x+2, y+5.8, s == Female, "Féminin", 9)
	p.checkbox(cx+4, y+5.8, s == Male, "Masculin", 9)
}

// bar is the title bar of a section.
func (p *page) bar(number, title, subtitle string) {
	const h = 6.6
	p.SetFillColor(blue[0], blue[1], blue[2])
	p.Rect(margin, p.y, contW, h, "F")
	p.font(true, 10, [3]int{255, 255, 255})
	p.text(margin+2, p.y+4.7, number)
	p.text(margin+8, p.y+4.7, title)
	x := margin + 8 + p.GetStringWidth(title)
	p.font(false, 8.5, [3]int{255, 255, 255})
	p.text(x+2, p.y+4.6, subtitle)
	p.y += h + 2
}

// cell is one field of a row: a fraction of the row's width, and either a
// labelled value or the sex boxes.
type cell struct {
	frac               float64
	label, value, hint string
	sex                *Sex
}

// row lays fields side by side on the current line, their fractions adding
// up to 1.
func (p *page) row(cells ...cell) {
	x := margin
	n := float64(len(cells))
	free := contW - gap*(n-1)
	for _, c := range cells {
		w := free * c.frac
		if c.sex != nil {
			p.sexField(x, p.y, w, *c.sex)
		} else {
			p.field(x, p.y, w, c.label, c.value, c.hint)
		}
		x += w + gap
	}
	p.y += rowStep
}

const dateHint = "JJ / MM / AAAA"

// formPage is the form itself. Its fields are those that article R. 75 lists
// and that public descriptions of the Cerfa 14952*03 give, in their order.
// Unconfirmed: the labels' exact words on the official form, in particular
// for the birthplace ("Département (ou pays…)"), the contact details, and
// whether it asks for the mandataire's usage name (R. 75 does not; it is
// left out here).
func (p *page) formPage() {
	f := p.form
	p.AddPage()
	p.header()

	g := f.Grantor
	p.bar("1", "LE MANDANT", "l'électeur qui donne procuration")
	p.row(cell{frac: 0.26, sex: &g.Sex}, cell{frac: 0.74, label: "Nom de naissance", value: g.BirthName})
	p.row(cell{frac: 0.5, label: "Nom d'usage (facultatif)", value: g.UsageName},
		cell{frac: 0.5, label: "Prénom(s)", value: g.GivenNames})
	p.row(cell{frac: 0.26, label: "Date de naissance", value: ShortDate(g.BirthDate), hint: dateHint},
		cell{frac: 0.41, label: "Lieu de naissance : commune", value: g.BirthCommune},
		cell{frac: 0.33, label: "Département (ou pays si né(e) à l'étranger)", value: g.BirthDeptOrCountry})
	p.row(cell{frac: 0.67, label: "Commune d'inscription sur les listes électorales (ou consulat)", value: g.Commune},
		cell{frac: 0.33, label: "Numéro national d'électeur", value: g.NNE})
	p.row(cell{frac: 0.33, label: "Coordonnées : téléphone", value: g.Phone},
		cell{frac: 0.67, label: "Courriel", value: g.Email})
	p.y += 1.5

	m := f.Proxy
	p.bar("2", "LE MANDATAIRE", "l'électeur qui votera à la place du mandant")
	p.row(cell{frac: 0.26, sex: &m.Sex}, cell{frac: 0.74, label: "Nom de naissance", value: m.BirthName})
	p.row(cell{frac: 0.41, label: "Prénom(s)", value: m.GivenNames},
		cell{frac: 0.26, label: "Date de naissance", value: ShortDate(m.BirthDate), hint: dateHint},
		cell{frac: 0.33, label: "Numéro national d'électeur", value: m.NNE})
	p.y += 1.5

	p.bar("3", "DURÉE DE VALIDITÉ", "de la procuration : cochez l'une des deux options")
	p.validity()
	p.y += 1.5

	// Unconfirmed: this section's title is ours; the official form has the
	// authority's frame and the mandant's signature, not this wording.
	p.bar("4", "ÉTABLISSEMENT DE LA PROCURATION", "")
	p.establishment()

	p.footer(1)
}

// header is the title block: the State's signature, the form's number and
// its title with its legal basis.
// Unconfirmed: the exact typography of the official block (Marianne logo,
// ministry line) is not reproduced; only its words are.
func (p *page) header() {
	top := margin
	p.font(true, 9.5, black)
	p.text(margin, top+4, "RÉPUBLIQUE")
	p.text(margin, top+8, "FRANÇAISE")
	p.font(false, 6.5, labelGrey)
	p.text(margin, top+11.5, "Liberté")
	p.text(margin, top+14.3, "Égalité")
	p.text(margin, top+17.1, "Fraternité")

	const bw, bh = 36.0, 17.0
	bx := pageW - margin - bw
	p.SetDrawColor(black[0], black[1], black[2])
	p.SetLineWidth(0.4)
	p.RoundedRect(bx, top, bw, bh, 2, "1234", "D")
	p.font(true, 16, black)
	p.text(bx+(bw-p.GetStringWidth("cerfa"))/2, top+7.5, "cerfa")
	p.font(true, 9.5, black)
	p.text(bx+(bw-p.GetStringWidth("N° 14952*03"))/2, top+13.5, "N° 14952*03")

	p.font(true, 16, black)
	p.centred(top+6, "DEMANDE DE PROCURATION")
	p.font(false, 10.5, black)
	p.centred(top+11.5, "Vote par procuration")
	p.font(false, 7.5, labelGrey)
	p.centred(top+16, "Articles L. 71 à L. 78 et R. 72 à R. 80 du code électoral")

	p.y = top + bh + 4
	by := p.form.Platform
	if by == "" {
		by = "la plateforme de mise en relation"
	}
	p.SetFillColor(tint[0], tint[1], tint[2])
	p.Rect(margin, p.y, contW, 9, "F")
	p.text(margin+2, p.y+3.8, p.fit("Formulaire pré-rempli par "+by+".", contW-4, 8, true, black))
	p.font(false, 8, black)
	p.text(margin+2, p.y+7.3, "Vérifiez chaque information, complétez à la main les cases restées vides, puis signez. Notice en page 2.")
	p.y += 9 + 3
}

// validity is section 3: one election, with its rounds, or a period.
// Unconfirmed: the official form's exact words for the two options and for
// the rounds ("1er tour", "2d tour", "les deux tours") are taken from its
// public descriptions.
func (p *page) validity() {
	v := p.form.Validity
	top := p.y
	const h = 34.0
	p.frame(margin, top, contW, h)

	x := margin + 2
	p.checkbox(x, top+3, v.forElection(), "Pour une élection", 9.5)
	p.field(margin+48, top+1.5, contW-50, "Scrutin (type d'élection)", v.Election, "")

	r1, has1 := v.round(1)
	r2, has2 := v.round(2)
	y := top + 17
	cx := p.checkbox(x+6, y, has1 && !has2, "1er tour, le", 9)
	p.dateLine(cx+1.5, y, ShortDate(r1.Date))
	cx = p.checkbox(x+66, y, has2 && !has1, "2d tour, le", 9)
	p.dateLine(cx+1.5, y, ShortDate(r2.Date))
	p.checkbox(x+126, y, has1 && has2, "les deux tours", 9)

	p.SetDrawColor(frameGrey[0], frameGrey[1], frameGrey[2])
	p.SetLineWidth(0.2)
	p.SetDashPattern([]float64{1, 1}, 0)
	p.Line(margin+2, top+23.5, margin+contW-2, top+23.5)
	p.SetDashPattern(nil, 0)

	y = top + 27
	cx = p.checkbox(x, y, v.forPeriod(), "Pour une durée déterminée (un an au plus) : du", 9.5)
	p.dateLine(cx+1.5, y, ShortDate(v.From))
	p.font(false, 9.5, black)
	p.text(cx+33, y+3.1, "au")
	p.dateLine(cx+39, y, ShortDate(v.Until))
	p.y = top + h + 2
}

// dateLine is a date written on a line after a label: the date if known,
// else the pale JJ / MM / AAAA for the hand.
func (p *page) dateLine(x, y float64, date string) {
	const w = 29.0
	p.SetDrawColor(frameGrey[0], frameGrey[1], frameGrey[2])
	p.SetLineWidth(0.2)
	p.Line(x, y+4.2, x+w, y+4.2)
	if date != "" {
		p.font(true, 10, black)
		p.text(x+1, y+3.4, date)
	} else {
		p.font(false, 8, hintGrey)
		p.text(x+1, y+3.4, dateHint)
	}
}

// establishment is section 4: the frame that the authority fills in (article
// R. 75: its name, first name and quality, the date and place, its visa and
// stamp) beside the mandant's signature.
func (p *page) establishment() {
	top := p.y
	const h = 64.0
	lw := contW * 0.62
	rw := contW - lw - gap

	p.frame(margin, top, lw, h)
	p.font(true, 8.5, black)
	p.text(margin+2, top+4.2, "Cadre réservé à l'autorité habilitée")
	fx, fw := margin+2, lw-4
	p.field(fx, top+6, fw, "Nom et prénom de l'autorité", "", "")
	half := (fw - gap) / 2
	p.field(fx, top+6+rowStep, half, "Qualité", "", "")
	p.field(fx+half+gap, top+6+rowStep, half, "Lieu d'établissement", "", "")
	p.field(fx, top+6+2*rowStep, half, "Date", "", dateHint)
	p.frame(fx+half+gap, top+6+2*rowStep, half, h-8-2*rowStep)
	p.font(false, 6.5, labelGrey)
	p.text(fx+half+gap+1.5, top+6+2*rowStep+3.1, "Signature et cachet de l'autorité")

	rx := margin + lw + gap
	p.frame(rx, top, rw, h)
	p.font(true, 8.5, black)
	p.text(rx+2, top+4.2, "Signature du mandant")
	p.y = top + h + 2
}

func (p *page) footer(n int) {
	by := ""
	if p.form.Platform != "" {
		by = " par " + p.form.Platform
	}
	p.SetDrawColor(frameGrey[0], frameGrey[1], frameGrey[2])
	p.SetLineWidth(0.2)
	p.Line(margin, pageH-11, pageW-margin, pageH-11)
	num := fmt.Sprintf("%d/2", n)
	p.font(false, 6.5, labelGrey)
	p.text(pageW-margin-p.GetStringWidth(num), pageH-7.5, num)
	s := p.fit(fr("Cerfa n° 14952*03 — reproduction pré-remplie"+by+" ; modèle officiel sur service-public.fr"),
		contW-12, 6.5, false, labelGrey)
	p.text(margin, pageH-7.5, s)
}

// noticePage is the second page: what the platform filled in, in words, and
// how to go on with the request.
func (p *page) noticePage() {
	f := p.form
	p.AddPage()
	p.y = margin
	p.font(true, 14, black)
	p.text(margin, p.y+5, "NOTICE")
	p.font(false, 9, labelGrey)
	p.text(margin, p.y+10, "de la demande de procuration, Cerfa n° 14952*03 : cette page est pour vous, elle n'est pas à remettre.")
	p.y += 15

	// What the platform filled in, in words.
	var lines []string
	if s := f.Grantor.fullName(); s != "" {
		lines = append(lines, "Mandant (vous donnez procuration) : "+s)
	}
	if s := f.Proxy.fullName(); s != "" {
		lines = append(lines, "Mandataire (votera à votre place) : "+s)
	}
	if s := validityWords(f.Validity); s != "" {
		lines = append(lines, "Validité : "+s)
	}
	if len(lines) > 0 {
		h := 4.0 + 5.2*float64(len(lines))
		p.SetFillColor(tint[0], tint[1], tint[2])
		p.Rect(margin, p.y, contW, h, "F")
		y := p.y + 5
		for _, l := range lines {
			s := p.fit(l, contW-4, 9.5, false, black)
			p.text(margin+2, y, s)
			y += 5.2
		}
		p.y += h + 4
	}

	by := "la plateforme qui vous l'a envoyé"
	if f.Platform != "" {
		by = f.Platform
	}
	p.para("Ce document", "Ce formulaire a été pré-rempli par "+by+" avec les informations que vous et votre "+
		"mandataire lui avez confiées. Vérifiez-les : elles doivent être celles de la liste électorale. "+
		"Complétez à la main ce qui reste vide (nom d'usage, lieu de naissance…), puis imprimez la page 1. "+
		"La plateforme n'établit pas la procuration : seule l'autorité habilitée le fait, devant vous.")
	p.para("Ce qu'il faut apporter", "• Une pièce d'identité (carte nationale d'identité, passeport, permis de conduire…).\n"+
		"• Ce formulaire imprimé ou, si vous avez fait la demande en ligne, la référence d'enregistrement de votre demande.")
	p.para("Où aller", "Vous devez vous présenter en personne : dans un commissariat de police ou une brigade de gendarmerie, "+
		"au tribunal judiciaire de votre domicile ou de votre lieu de travail, ou, hors de France, à l'ambassade ou au consulat. "+
		"L'autorité vérifie votre identité, remplit le cadre qui lui est réservé, vous remet un récépissé et transmet la "+
		"procuration à la mairie de votre commune d'inscription.")
	p.para("Votre mandataire", "Il doit être inscrit sur les listes électorales ; depuis 2022, il peut l'être dans n'importe "+
		"quelle commune. Il vote à votre place dans votre bureau de vote, pas dans le sien, muni de sa propre pièce "+
		"d'identité. Il ne reçoit aucun document : prévenez-le vous-même.")
	p.para("Faire la demande en ligne", "Au lieu de ce formulaire, vous pouvez saisir votre demande sur maprocuration.gouv.fr. "+
		"Il faut aussi le numéro national d'électeur et la date de naissance de votre mandataire. Vous vous présentez "+
		"ensuite au commissariat, à la gendarmerie ou au consulat avec votre pièce d'identité et la référence "+
		"d'enregistrement reçue par courriel.")
	p.para("Bon à savoir", "Faites la démarche au plus tôt : la procuration doit parvenir à votre mairie avant le scrutin. "+
		"Elle vaut pour une élection (un tour ou les deux) ou pour une durée d'un an au plus, et peut être résiliée "+
		"selon la même démarche. Votre numéro national d'électeur figure sur votre carte électorale et sur "+
		"service-public.fr (« Interroger sa situation électorale »).")

	p.footer(2)
}

// para is a titled paragraph of the notice; a line of the body that starts
// with "• " is a bullet, indented.
func (p *page) para(title, body string) {
	p.font(true, 10.5, blue)
	p.text(margin, p.y+4, title)
	p.y += 5.8
	p.SetCellMargin(0)
	for _, line := range strings.Split(body, "\n") {
		p.font(false, 10, black)
		x, w := margin, contW
		if rest, ok := strings.CutPrefix(line, "• "); ok {
			p.text(margin+1, p.y+3.7, "•")
			line, x, w = rest, margin+4.5, contW-4.5
		}
		p.SetXY(x, p.y)
		p.MultiCell(w, 5, fr(line), "", "L", false)
		p.y = p.GetY()
	}
	p.y += 3.5
}

// validityWords describes the validity in words: "Élection présidentielle,
// 1er tour le 11 avril 2027 et 2d tour le 25 avril 2027".
func validityWords(v Validity) string {
	switch {
	case v.forElection():
		var rounds []string
		for n, name := range []string{1: "1er tour", 2: "2d tour"} {
			r, ok := v.round(n)
			if !ok {
				continue
			}
			s := name
			if d := LongDate(r.Date); d != "" {
				s += " le " + d
			}
			rounds = append(rounds, s)
		}
		parts := []string{}
		if v.Election != "" {
			parts = append(parts, v.Election)
		}
		if len(rounds) > 0 {
			parts = append(parts, strings.Join(rounds, " et "))
		}
		return strings.Join(parts, ", ")
	case v.forPeriod():
		return "du " + orDots(LongDate(v.From)) + " au " + orDots(LongDate(v.Until))
	}
	return ""
}

// fr puts the no-break spaces of French typography before : ; ? ! » and
// after «, so that a line never starts with one of them.
func fr(s string) string {
	return strings.NewReplacer(" :", "\u00a0:", " ;", "\u00a0;", " ?", "\u00a0?", " !", "\u00a0!",
		" »", "\u00a0»", "« ", "«\u00a0").Replace(s)
}

func orDots(s string) string {
	if s == "" {
		return "…"
	}
	return s
}

package cerfa

import (
	"bytes"
	"fmt"

	"github.com/go-pdf/fpdf"
)

// Receipt is the récépissé of an official dossier, for its grantor to keep:
// its reference, the people, what it covers and each of its steps.
type Receipt struct {
	Reference string
	Status    string
	Grantor   string
	Proxy     string
	Commune   string
	Scope     string
	Steps     []ReceiptStep
	// Issued is when it was printed, in French.
	Issued string
}

type ReceiptStep struct {
	At   string
	What string
}

// RenderReceipt prints the récépissé on one A4 page.
func RenderReceipt(r Receipt) ([]byte, error) {
	pdf := fpdf.New("P", "mm", "A4", "")
	pdf.AddUTF8FontFromBytes(family, "", fontRegular)
	pdf.AddUTF8FontFromBytes(family, "B", fontBold)
	pdf.SetMargins(20, 20, 20)
	pdf.SetTitle("Récépissé de procuration "+r.Reference, true)
	pdf.SetLang("fr-FR")
	pdf.AddPage()
	text := func(style string, size float64, s string) {
		pdf.SetFont(family, style, size)
		pdf.MultiCell(0, size*0.55, printableText(s), "", "L", false)
		pdf.Ln(1.5)
	}
	text("B", 11, "RÉPUBLIQUE FRANÇAISE")
	pdf.Ln(4)
	text("B", 18, "Récépissé de demande de procuration")
	text("", 11, "Vote par procuration — articles L71 à L78 du code électoral")
	pdf.Ln(4)
	text("B", 14, "Référence du dossier : "+r.Reference)
	text("", 11, "Statut : "+r.Status)
	pdf.Ln(2)
	for _, line := range [][2]string{{"Mandant", r.Grantor}, {"Commune d'inscription", r.Commune}, {"Mandataire", r.Proxy}, {"Validité", r.Scope}} {
		text("B", 10, line[0])
		text("", 11, line[1])
	}
	pdf.Ln(3)
	text("B", 12, "Étapes du dossier")
	for _, s := range r.Steps {
		text("", 10, s.At+" — "+s.What)
	}
	pdf.Ln(6)
	text("", 9, "Ce récépissé résume l'état du dossier le "+r.Issued+". Il ne remplace pas la vérification d'identité "+
		"par la police ou la gendarmerie, ni la décision de la mairie.")
	var out bytes.Buffer
	if err := pdf.Output(&out); err != nil {
		return nil, fmt.Errorf("récépissé : %w", err)
	}
	return out.Bytes(), nil
}

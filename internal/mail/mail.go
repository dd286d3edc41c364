// Package mail renders the French emails from embedded templates and sends
// them over SMTP.
package mail

import (
	"bytes"
	"context"
	"embed"
	"errors"
	"fmt"
	htmltemplate "html/template"
	"strings"
	texttemplate "text/template"
	"time"

	gomail "github.com/wneessen/go-mail"

	"github.com/procurations/procuration/internal/french"
)

// Config is the SMTP relay and the sender address.
type Config struct {
	Host     string
	Port     int
	Username string
	Password string
	From     string
	// TLS is "none" (a local inbox), "starttls" or "tls" (implicit, port 465).
	TLS string
}

// Message is one email, rendered.
type Message struct {
	// From overrides the configured sender (a campaign's own address).
	From      string
	To        string
	Subject   string
	Text      string
	HTML      string
	MessageID string
	// Attachments are PDF files.
	Attachments []Attachment
}

type Attachment struct {
	Name string
	PDF  []byte
}

type Sender struct {
	cfg Config
}

func NewSender(cfg Config) (*Sender, error) {
	switch cfg.TLS {
	case "none", "starttls", "tls":
	default:
		return nil, fmt.Errorf("SMTP_TLS %q: want none, starttls or tls", cfg.TLS)
	}
	return &Sender{cfg: cfg}, nil
}

func (s *Sender) From() string { return s.cfg.From }

// Send delivers one message. The Message-ID is the caller's, so that a copy
// re-sent after a crash carries the same identity.
func (s *Sender) Send(ctx context.Context, m Message) error {
	msg := gomail.NewMsg()
	from := s.cfg.From
	if m.From != "" {
		from = m.From
	}
	if err := msg.From(from); err != nil {
		return &Refused{Reason: "adresse d'expédition invalide"}
	}
	if err := msg.To(m.To); err != nil {
		return &Refused{Reason: "adresse du destinataire invalide"}
	}
	msg.Subject(m.Subject)
	msg.SetMessageIDWithValue(m.MessageID)
	msg.SetDate()
	msg.SetBodyString(gomail.TypeTextPlain, m.Text)
	msg.AddAlternativeString(gomail.TypeTextHTML, m.HTML)
	for _, a := range m.Attachments {
		msg.AttachReadSeeker(a.Name, bytes.NewReader(a.PDF), gomail.WithFileContentType("application/pdf"))
	}
	opts := []gomail.Option{gomail.WithPort(s.cfg.Port), gomail.WithTimeout(20 * time.Second)}
	switch s.cfg.TLS {
	case "none":
		opts = append(opts, gomail.WithTLSPolicy(gomail.NoTLS))
	case "starttls":
		opts = append(opts, gomail.WithTLSPolicy(gomail.TLSMandatory))
	case "tls":
		opts = append(opts, gomail.WithSSL())
	}
	if s.cfg.Username != "" {
		opts = append(opts, gomail.WithSMTPAuth(gomail.SMTPAuthPlain),
			gomail.WithUsername(s.cfg.Username), gomail.WithPassword(s.cfg.Password))
	}
	client, err := gomail.NewClient(s.cfg.Host, opts...)
	if err != nil {
		return err
	}
	err = client.DialAndSendWithContext(ctx, msg)
	var sendErr *gomail.SendError
	if errors.As(err, &sendErr) && sendErr.ErrorCode() >= 500 && sendErr.ErrorCode() < 600 {
		return &Refused{Code: sendErr.ErrorCode(), Reason: fmt.Sprintf("réponse SMTP %d %s", sendErr.ErrorCode(), sendErr.EnhancedStatusCode())}
	}
	return err
}

// Refused is a mail server's refusal for good (a 5xx answer, an address it
// cannot take): sending again would be refused again. Reason names no address.
type Refused struct {
	Code   int
	Reason string
}

func (r *Refused) Error() string { return "email refused: " + r.Reason }

//go:embed templates
var templates embed.FS

var (
	texts = texttemplate.Must(texttemplate.New("").Funcs(funcs).ParseFS(templates, "templates/*.txt"))
	htmls = htmltemplate.Must(htmltemplate.New("").Funcs(htmltemplate.FuncMap(funcs)).ParseFS(templates, "templates/*.html"))
)

var funcs = texttemplate.FuncMap{
	"date":    french.Date,
	"instant": french.Instant,
}

// Render produces the subject, plain text and HTML of a template. Each
// template's text file starts with a "Sujet :" line.
func Render(kind string, data any) (subject, text, html string, err error) {
	var tb, hb bytes.Buffer
	if err := texts.ExecuteTemplate(&tb, kind+".txt", data); err != nil {
		return "", "", "", err
	}
	if err := htmls.ExecuteTemplate(&hb, kind+".html", data); err != nil {
		return "", "", "", err
	}
	first, body, _ := strings.Cut(tb.String(), "\n")
	subject, ok := strings.CutPrefix(first, "Sujet : ")
	if !ok {
		return "", "", "", fmt.Errorf("template %s.txt must start with \"Sujet : \"", kind)
	}
	return strings.TrimSpace(subject), strings.TrimLeft(body, "\n"), hb.String(), nil
}

// Dossier is what the procuration templates show.
type Dossier struct {
	Reference    string
	GrantorName  string
	ProxyName    string
	CommuneName  string
	CommuneCode  string
	Scope        string
	FirstRound   time.Time
	CreatedAt    time.Time
	WaitingSince time.Time
	Police       *Police
	Reason       string
	Automatic    bool
	WasValidated bool
	Count        int
	// Digital: France Identité stood for the visit to the police.
	Digital bool
	// Link is the dossier's page on the grantor's portal.
	Link string
	// Station is the grantor's polling station, by name and address, where
	// the holder votes; "" when the register does not say.
	Station string
}

// Police is the receipt's content (R75: agent's name, rank, date, place).
type Police struct {
	AgentName string
	Rank      string
	Unit      string
	At        time.Time
}

// Signup is what the sign-up confirmation shows.
type Signup struct {
	Name      string
	Campaign  string
	Volunteer bool
	Link      string
	// Color is the campaign's.
	Color string
}

// MatchMail is what the match emails show the person they go to.
type MatchMail struct {
	Name      string
	Campaign  string
	Volunteer bool
	// The other party, as far as the stage allows: first name and commune
	// in an offer, everything once both accepted.
	OtherFirstName string
	OtherCommune   string
	Proximity      string
	Rounds         string
	Deadline       time.Time
	AcceptLink     string
	DeclineLink    string
	Contact        *Contact
	Reason         string
	// Paused: the person missed the deadline and left the pool.
	Paused    bool
	Count     int
	Reference string
	// Station is where the vote is cast: the requester's polling station,
	// by name and address.
	Station string
	// MatchLink opens the match's page on the campaign's site.
	MatchLink string
	// Color is the campaign's: its emails carry its identity, not the State's.
	Color string
}

// Contact is the other party's details, disclosed after both accepted.
type Contact struct {
	Name           string
	Email          string
	Phone          string
	BirthDate      time.Time
	Commune        string
	PollingStation string
	NNE            string
}

// Unmatched is what the notice to a requester still without a volunteer,
// some days before a round, shows.
type Unmatched struct {
	Name     string
	Campaign string
	// Round is "1er tour" or "2d tour", on Date.
	Round string
	Date  time.Time
	// OfficialURL is where the requester makes the official request with
	// someone they know (the campaign's choice, or this deployment's portal).
	OfficialURL string
	Color       string
}

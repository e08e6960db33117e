package notify

import (
	"context"
	"fmt"
	"strings"
	"time"

	ics "github.com/arran4/golang-ical"
	"github.com/wneessen/go-mail"

	"github.com/moffman/moffman"
	"github.com/moffman/moffman/config"
)

// mailer sends notifications over SMTP with github.com/wneessen/go-mail:
// net/smtp is frozen and leaves MIME, header encoding, dot-stuffing,
// STARTTLS policy and timeouts to the caller; go-mail is maintained, made
// for exactly this, and takes a context. Approvers get the events they
// are configured for; the person gets their approval with the day as an
// .ics attachment.
type mailer struct {
	host      string
	opts      []mail.Option
	from      string
	approvers []string
}

func newMailer(e config.NotifyEmail) (*mailer, error) {
	opts := []mail.Option{mail.WithPort(e.SMTP.Port), mail.WithTimeout(sendTimeout)}
	switch {
	case e.SMTP.Port == 465:
		opts = append(opts, mail.WithSSL()) // TLS from the first byte
	case e.SMTP.StartTLS:
		opts = append(opts, mail.WithTLSPolicy(mail.TLSMandatory))
	default:
		opts = append(opts, mail.WithTLSPolicy(mail.NoTLS))
	}
	if e.SMTP.Username != "" && e.SMTP.PasswordFile != nil {
		pw, err := readPassword(*e.SMTP.PasswordFile)
		if err != nil {
			return nil, err
		}
		// The strongest mechanism the server offers; go-mail refuses
		// PLAIN and LOGIN without TLS.
		opts = append(opts, mail.WithSMTPAuth(mail.SMTPAuthAutoDiscover),
			mail.WithUsername(e.SMTP.Username), mail.WithPassword(pw))
	}
	return &mailer{host: e.SMTP.Host, opts: opts, from: e.From, approvers: e.Approvers}, nil
}

func (m *mailer) sendApprovers(ctx context.Context, d moffman.Delivery) error {
	msg, err := m.message(d, m.approvers...)
	if err != nil {
		return err
	}
	return m.send(ctx, msg)
}

func (m *mailer) sendPerson(ctx context.Context, d moffman.Delivery) error {
	n := d.Notification
	msg, err := m.message(d, n.PersonEmail)
	if err != nil {
		return err
	}
	cal, err := ICS(n)
	if err != nil {
		return err
	}
	name := fmt.Sprintf("office-%s.ics", n.Start)
	if err := msg.AttachReader(name, strings.NewReader(cal),
		mail.WithFileContentType(`text/calendar; method=PUBLISH; charset="utf-8"`)); err != nil {
		return err
	}
	return m.send(ctx, msg)
}

// message is the plain-text mail of a delivery. Its Message-ID is the
// same on every retry, so a mail that was accepted twice can be told.
func (m *mailer) message(d moffman.Delivery, to ...string) (*mail.Msg, error) {
	n := d.Notification
	msg := mail.NewMsg()
	if err := msg.From(m.from); err != nil {
		return nil, fmt.Errorf("notifications.email.from: %w", err)
	}
	if err := msg.To(to...); err != nil {
		return nil, err
	}
	msg.Subject(Text(n))
	msg.SetMessageIDWithValue(n.ID + "." + strings.TrimPrefix(d.Destination, "email:") + "@moffman")
	msg.SetDateWithValue(n.At)
	msg.SetBulk()
	var b strings.Builder
	b.WriteString(Text(n) + "\n\n")
	for _, f := range [][2]string{
		{"Office", n.Office}, {"Days", Days(n.Start, n.End)}, {"Person", n.PersonName}, {"E-mail", n.PersonEmail},
		{"Status", n.Status}, {"Reservation", n.EventID}, {"Detail", n.Detail},
	} {
		if f[1] != "" && (f[0] != "Days" || n.Start != "") {
			fmt.Fprintf(&b, "%s: %s\n", f[0], f[1])
		}
	}
	msg.SetBodyString(mail.TypeTextPlain, b.String())
	return msg, nil
}

func (m *mailer) send(ctx context.Context, msg *mail.Msg) error {
	c, err := mail.NewClient(m.host, m.opts...)
	if err != nil {
		return err
	}
	return c.DialAndSendWithContext(ctx, msg)
}

// ICS is the notification's day as an iCalendar object with one all-day
// event, METHOD:PUBLISH, and the UID the office feed (httpapi/feed.go)
// gives the same event, so calendars that have both show it once.
func ICS(n moffman.Notification) (string, error) {
	start, err1 := time.Parse(moffman.DateLayout, n.Start)
	end, err2 := time.Parse(moffman.DateLayout, n.End)
	if err1 != nil || err2 != nil || n.EventID == "" {
		return "", fmt.Errorf("notification %s has no event dates for a calendar attachment", n.ID)
	}
	cal := ics.NewCalendarFor("moffman")
	cal.SetProductId("-//moffman//Who's in//EN")
	cal.SetMethod(ics.MethodPublish)
	ev := cal.AddEvent(n.EventID + "@moffman")
	ev.SetDtStampTime(n.At)
	ev.SetAllDayStartAt(start)
	ev.SetAllDayEndAt(end)
	ev.SetSummary("In the office: " + strings.Map(func(r rune) rune {
		if r < ' ' || r == 0x7f {
			return ' '
		}
		return r
	}, n.Office))
	ev.SetStatus(ics.ObjectStatusConfirmed)
	ev.SetTimeTransparency(ics.TransparencyTransparent)
	return cal.Serialize(ics.WithNewLineWindows), nil
}

package notify

import (
	"bytes"
	"context"
	"encoding/base64"
	"io"
	"log/slog"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net"
	"net/mail"
	"strconv"
	"strings"
	"sync"
	"testing"

	ics "github.com/arran4/golang-ical"
	"github.com/emersion/go-smtp"

	"github.com/moffman/moffman"
	"github.com/moffman/moffman/config"
)

// smtpBackend collects the mails an in-process go-smtp server accepts.
type smtpBackend struct {
	mu    sync.Mutex
	mails []sentMail
	got   chan struct{}
}

type sentMail struct {
	from string
	to   []string
	data []byte
}

func (b *smtpBackend) NewSession(*smtp.Conn) (smtp.Session, error) { return &smtpSession{b: b}, nil }

type smtpSession struct {
	b    *smtpBackend
	mail sentMail
}

func (s *smtpSession) Mail(from string, _ *smtp.MailOptions) error { s.mail.from = from; return nil }
func (s *smtpSession) Rcpt(to string, _ *smtp.RcptOptions) error {
	s.mail.to = append(s.mail.to, to)
	return nil
}
func (s *smtpSession) Data(r io.Reader) error {
	data, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	s.mail.data = data
	s.b.mu.Lock()
	s.b.mails = append(s.b.mails, s.mail)
	s.b.mu.Unlock()
	s.b.got <- struct{}{}
	return nil
}
func (s *smtpSession) Reset()        { s.mail = sentMail{} }
func (s *smtpSession) Logout() error { return nil }

func startSMTP(t *testing.T) (*smtpBackend, int) {
	be := &smtpBackend{got: make(chan struct{}, 10)}
	srv := smtp.NewServer(be)
	srv.Domain = "localhost"
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(l)
	t.Cleanup(func() { srv.Close() })
	return be, l.Addr().(*net.TCPAddr).Port
}

// decodePart reads a MIME part's body per its Content-Transfer-Encoding.
func decodePart(t *testing.T, enc string, r io.Reader) string {
	t.Helper()
	switch strings.ToLower(enc) {
	case "base64":
		r = base64.NewDecoder(base64.StdEncoding, r)
	case "quoted-printable":
		r = quotedprintable.NewReader(r)
	}
	b, err := io.ReadAll(r)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestEmailApproversAndPersonWithICS(t *testing.T) {
	be, port := startSMTP(t)
	cfg := config.Notifications{Email: config.NotifyEmail{
		SMTP: config.SMTP{Host: "127.0.0.1", Port: port},
		From: "moffman@example.com", Approvers: []string{"office@example.com", "boss@example.com"},
		Events: []string{"reservation.pending"}, ToPerson: true,
	}}
	svc, err := New(cfg, openStore(t, ""), Options{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	run(t, svc)
	ctx := context.Background()
	pending := notification(moffman.NotifyReservationPending, "evt01")
	pending.PersonName = "Jana Nováková"
	approved := pending
	approved.Type, approved.Status = moffman.NotifyReservationApproved, "approved"
	approved.ID = moffman.NotificationID(approved.Type, "c@group", "evt01")
	cancelled := pending
	cancelled.Type, cancelled.ID = moffman.NotifyReservationCancelled, moffman.NotificationID(moffman.NotifyReservationCancelled, "c@group", "evt01")
	for _, n := range []moffman.Notification{pending, approved, cancelled} { // nobody wants the cancellation
		if err := svc.Notify(ctx, n); err != nil {
			t.Fatal(err)
		}
	}
	<-be.got
	<-be.got
	be.mu.Lock()
	mails := be.mails
	be.mu.Unlock()
	if len(mails) != 2 {
		t.Fatalf("%d mails, want 2", len(mails))
	}
	var toApprovers, toPerson sentMail
	for _, m := range mails {
		if m.from != "moffman@example.com" {
			t.Errorf("envelope sender %q", m.from)
		}
		if len(m.to) == 2 {
			toApprovers = m
		} else {
			toPerson = m
		}
	}

	// The approvers' mail: plain text saying who, where, when.
	msg, err := mail.ReadMessage(bytes.NewReader(toApprovers.data))
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(toApprovers.to, ",") != "office@example.com,boss@example.com" {
		t.Errorf("approvers' mail went to %v", toApprovers.to)
	}
	subject, _ := new(mime.WordDecoder).DecodeHeader(msg.Header.Get("Subject"))
	if subject != "Jana Nováková asks to be in prague on Mon 6 May – Tue 7 May 2024; waiting for approval." {
		t.Errorf("subject %q", subject)
	}
	ct, _, _ := mime.ParseMediaType(msg.Header.Get("Content-Type"))
	body := decodePart(t, msg.Header.Get("Content-Transfer-Encoding"), msg.Body)
	if ct != "text/plain" || !strings.Contains(body, "Office: prague") || !strings.Contains(body, "Reservation: evt01") {
		t.Errorf("approvers' mail is %s:\n%s", ct, body)
	}

	// The person's mail: multipart with the text and the .ics.
	if len(toPerson.to) != 1 || toPerson.to[0] != "jana@example.com" {
		t.Fatalf("person's mail went to %v", toPerson.to)
	}
	msg, err = mail.ReadMessage(bytes.NewReader(toPerson.data))
	if err != nil {
		t.Fatal(err)
	}
	ct, params, err := mime.ParseMediaType(msg.Header.Get("Content-Type"))
	if err != nil || ct != "multipart/mixed" {
		t.Fatalf("person's mail is %q, %v; want multipart/mixed", ct, err)
	}
	mr := multipart.NewReader(msg.Body, params["boundary"])
	var text, calendar, calType string
	for {
		p, err := mr.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		pt, pp, _ := mime.ParseMediaType(p.Header.Get("Content-Type"))
		content := decodePart(t, p.Header.Get("Content-Transfer-Encoding"), p)
		switch pt {
		case "text/plain":
			text = content
		case "text/calendar":
			calendar, calType = content, pp["method"]
			if _, dp, _ := mime.ParseMediaType(p.Header.Get("Content-Disposition")); !strings.HasSuffix(dp["filename"], ".ics") {
				t.Errorf("attachment named %q", dp["filename"])
			}
		}
	}
	if !strings.Contains(text, "will be in prague on Mon 6 May – Tue 7 May 2024: approved") {
		t.Errorf("person's text:\n%s", text)
	}
	if calType != "PUBLISH" {
		t.Errorf("calendar part method=%q, want PUBLISH", calType)
	}
	cal, err := ics.ParseCalendar(strings.NewReader(calendar))
	if err != nil {
		t.Fatalf("the .ics does not parse: %v\n%s", err, calendar)
	}
	if m := cal.CalendarProperties; !hasProp(m, ics.PropertyMethod, "PUBLISH") {
		t.Errorf("calendar lacks METHOD:PUBLISH:\n%s", calendar)
	}
	events := cal.Events()
	if len(events) != 1 {
		t.Fatalf("%d events in the .ics, want 1", len(events))
	}
	ev := events[0]
	if ev.Id() != "evt01@moffman" {
		t.Errorf("UID %q, want the feed's evt01@moffman", ev.Id())
	}
	start, err1 := ev.GetAllDayStartAt()
	end, err2 := ev.GetAllDayEndAt()
	if err1 != nil || err2 != nil || start.Format(moffman.DateLayout) != "2024-05-06" || end.Format(moffman.DateLayout) != "2024-05-08" {
		t.Errorf("all-day event %v – %v (%v, %v), want 2024-05-06 to 2024-05-08", start, end, err1, err2)
	}
	if p := ev.GetProperty(ics.ComponentPropertyDtStart); p == nil || !strings.Contains(strconv.Quote(p.ICalParameters["VALUE"][0]), "DATE") {
		t.Errorf("DTSTART is not a DATE: %+v", p)
	}
}

func hasProp(props []ics.CalendarProperty, name ics.Property, value string) bool {
	for _, p := range props {
		if p.IANAToken == string(name) && p.Value == value {
			return true
		}
	}
	return false
}

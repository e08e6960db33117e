package config

import (
	"reflect"
	"strings"
	"testing"
)

const goodSecret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"

func TestNotificationsLoad(t *testing.T) {
	t.Parallel()
	c := mustLoad(t, `
notifications:
  webhooks:
    - url: https://hooks.example.com/moffman
      secret: `+goodSecret+`
      events: [reservation.pending, reservation.approved]
  slack:
    - url: https://hooks.slack.com/services/T0/B0/XXXX
  email:
    smtp: {host: smtp.example.com, port: 465, username: moffman, password_file: /run/secrets/smtp, starttls: false}
    from: moffman@example.com
    approvers: [office@example.com, boss@example.com]
    events: [reservation.pending, form.stuck]
    to_person: false
`, nil)
	want := Notifications{
		Webhooks: []WebhookDest{{URL: "https://hooks.example.com/moffman", Secret: goodSecret,
			Events: []string{"reservation.pending", "reservation.approved"}}},
		Slack: []SlackDest{{URL: "https://hooks.slack.com/services/T0/B0/XXXX"}},
		Email: NotifyEmail{
			SMTP: SMTP{Host: "smtp.example.com", Port: 465, Username: "moffman", PasswordFile: ptr("/run/secrets/smtp")},
			From: "moffman@example.com", Approvers: []string{"office@example.com", "boss@example.com"},
			Events: []string{"reservation.pending", "form.stuck"},
		},
	}
	if !reflect.DeepEqual(c.Notifications, want) {
		t.Errorf("notifications\n got %+v\nwant %+v", c.Notifications, want)
	}

	// The secret and the Slack URL (its own credential) never show.
	b, err := c.Masked()
	if err != nil {
		t.Fatal(err)
	}
	for _, secret := range []string{goodSecret, "XXXX"} {
		if strings.Contains(string(b), secret) {
			t.Errorf("Masked shows %q:\n%s", secret, b)
		}
	}
	if !strings.Contains(string(b), "https://hooks.example.com/moffman") {
		t.Errorf("Masked lacks the webhook URL:\n%s", b)
	}
}

func TestNotificationsFromEnvironment(t *testing.T) {
	t.Parallel()
	c := mustLoad(t, "", []string{
		`MOFFMAN_NOTIFICATIONS__WEBHOOKS=[{"url": "http://127.0.0.1:9000/hook", "secret": "` + goodSecret + `"}]`,
		`MOFFMAN_NOTIFICATIONS__EMAIL__APPROVERS=["a@example.com"]`,
	})
	if len(c.Notifications.Webhooks) != 1 || c.Notifications.Webhooks[0].URL != "http://127.0.0.1:9000/hook" ||
		!reflect.DeepEqual(c.Notifications.Email.Approvers, []string{"a@example.com"}) {
		t.Errorf("from the environment: %+v", c.Notifications)
	}
}

func TestNotificationsProblems(t *testing.T) {
	t.Parallel()
	_, err := load(t, `
notifications:
  webhooks:
    - url: /relative/hook
      secret: MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw
      events: [reservation.pendng]
    - url: https://ok.example.com/
      secret: whsec_not*base64
    - url: https://ok.example.com/
      secret: whsec_c2hvcnQ=
      colour: red
  slack:
    - url: hooks.slack.com/services/x
      events: sync.failing
  email:
    smtp: {host: smtp.example.com, port: 70000, username: moffman}
    from: not an address
    approvers: [office]
    events: [form.stuck, nope]
`, nil)
	wantProblems(t, err,
		`notifications.webhooks[0].url: expected an absolute http(s) URL, got "/relative/hook"`,
		`notifications.webhooks[0].secret: expected a secret written whsec_<base64>`,
		`notifications.webhooks[0].events: unknown event "reservation.pendng"; did you mean reservation.pending?`,
		`notifications.webhooks[1].secret: the part after whsec_ is not base64`,
		`notifications.webhooks[2].colour: unknown key`,
		`notifications.slack[0].url: expected an absolute http(s) URL`,
		`notifications.slack[0].events: expected a list of event names`,
		`notifications.email.smtp.port: must be 1 to 65535, got 70000`,
		`notifications.email.smtp.password_file: smtp.username is set but password_file is not`,
		`notifications.email.from: expected the sender's e-mail address`,
		`notifications.email.approvers: "office" is not an e-mail address`,
		`notifications.email.events: unknown event "nope"`,
	)
	// A secret never appears in a message.
	if strings.Contains(err.Error(), "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw") {
		t.Errorf("a secret is in the problems:\n%v", err)
	}
	// A too short key is named, without the key.
	_, err = load(t, "notifications: {webhooks: [{url: 'https://x.example/', secret: whsec_c2hvcnQ=}]}", nil)
	wantProblems(t, err, `notifications.webhooks[0].secret: the key after whsec_ has 5 bytes; use 24 to 64`)
}

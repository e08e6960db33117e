package config

import (
	"encoding/base64"
	"fmt"
	"net/url"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/moffman/moffman"
)

// Notifications holds notifications.* keys: where the notify package
// delivers what happened (issue 14).
type Notifications struct {
	Webhooks []WebhookDest
	Slack    []SlackDest
	Email    NotifyEmail
}

// WebhookDest is one entry of notifications.webhooks. Events empty: all.
type WebhookDest struct {
	URL    string
	Secret string // whsec_<base64>
	Events []string
}

// SlackDest is one entry of notifications.slack. Events empty: all.
type SlackDest struct {
	URL    string
	Events []string
}

// NotifyEmail holds notifications.email.* keys. E-mail is off while
// smtp.host is empty.
type NotifyEmail struct {
	SMTP      SMTP
	From      string
	Approvers []string
	Events    []string // e-mailed to the approvers
	ToPerson  bool     // the person gets their approvals with an .ics
}

// SMTP holds notifications.email.smtp.* keys.
type SMTP struct {
	Host         string
	Port         int
	Username     string
	PasswordFile *string
	StartTLS     bool
}

// notificationKeys are the notifications.* keys, in the order of
// defaults.yaml.
var notificationKeys = []key{
	{"notifications.webhooks", kindWebhooks, func(c *Config) any { return &c.Notifications.Webhooks }},
	{"notifications.slack", kindSlack, func(c *Config) any { return &c.Notifications.Slack }},
	{"notifications.email.smtp.host", kindString, func(c *Config) any { return &c.Notifications.Email.SMTP.Host }},
	{"notifications.email.smtp.port", kindInt, func(c *Config) any { return &c.Notifications.Email.SMTP.Port }},
	{"notifications.email.smtp.username", kindString, func(c *Config) any { return &c.Notifications.Email.SMTP.Username }},
	{"notifications.email.smtp.password_file", kindNullString, func(c *Config) any { return &c.Notifications.Email.SMTP.PasswordFile }},
	{"notifications.email.smtp.starttls", kindBool, func(c *Config) any { return &c.Notifications.Email.SMTP.StartTLS }},
	{"notifications.email.from", kindString, func(c *Config) any { return &c.Notifications.Email.From }},
	{"notifications.email.approvers", kindStringList, func(c *Config) any { return &c.Notifications.Email.Approvers }},
	{"notifications.email.events", kindStringList, func(c *Config) any { return &c.Notifications.Email.Events }},
	{"notifications.email.to_person", kindBool, func(c *Config) any { return &c.Notifications.Email.ToPerson }},
}

// decodeNotifications converts the values of the notification kinds;
// false for any other kind.
func (d *decoder) decodeNotifications(path string, k kind, n *yaml.Node, ref any) bool {
	switch k {
	case kindWebhooks:
		var out []WebhookDest
		d.items(path, n, "webhooks", func(ip string, f []field) {
			var w WebhookDest
			d.fields(ip, f, []string{"url", "secret"}, []*string{&w.URL, &w.Secret}, "events")
			w.Events = d.events(ip, f)
			out = append(out, w)
		})
		*ref.(*[]WebhookDest) = out
	case kindSlack:
		var out []SlackDest
		d.items(path, n, "Slack destinations", func(ip string, f []field) {
			var s SlackDest
			d.fields(ip, f, []string{"url"}, []*string{&s.URL}, "events")
			s.Events = d.events(ip, f)
			out = append(out, s)
		})
		*ref.(*[]SlackDest) = out
	default:
		return false
	}
	return true
}

func (d *decoder) events(path string, f []field) []string {
	if n, ok := lookup(f, "events"); ok {
		l, ok := d.structured(path+".events", n, yaml.SequenceNode, "a list of event names")
		if !ok || l == nil {
			return nil
		}
		var out []string
		for _, it := range l.Content {
			if v, ok := d.str(path+".events", it); ok {
				out = append(out, v)
			}
		}
		return out
	}
	return nil
}

type webhookYAML struct {
	URL    string   `yaml:"url"`
	Secret string   `yaml:"secret"`
	Events []string `yaml:"events,flow"`
}

type slackYAML struct {
	URL    string   `yaml:"url"`
	Events []string `yaml:"events,flow"`
}

// shownNotifications shows the notification kinds with their secrets
// masked: a webhook's secret and a Slack URL, which is its own credential.
func shownNotifications(ref any) (any, bool) {
	switch v := ref.(type) {
	case *[]string:
		if *v == nil {
			return []string{}, true
		}
		return *v, true
	case *[]WebhookDest:
		out := []webhookYAML{}
		for _, w := range *v {
			out = append(out, webhookYAML{URL: w.URL, Secret: mask, Events: w.Events})
		}
		return out, true
	case *[]SlackDest:
		out := []slackYAML{}
		for _, s := range *v {
			out = append(out, slackYAML{URL: mask, Events: s.Events})
		}
		return out, true
	}
	return nil, false
}

// notifications checks the notifications.* keys.
func (k checker) notifications(n *Notifications) {
	for i, w := range n.Webhooks {
		path := fmt.Sprintf("notifications.webhooks[%d]", i)
		if k.bad[path] {
			continue // not a mapping
		}
		k.absoluteURL(path+".url", w.URL)
		if _, err := WebhookSecret(w.Secret); err != nil && k.ok(path+".secret") {
			k.p.add(path+".secret", "%v", err)
		}
		k.eventNames(path+".events", w.Events)
	}
	for i, s := range n.Slack {
		path := fmt.Sprintf("notifications.slack[%d]", i)
		if !k.bad[path] {
			k.absoluteURL(path+".url", s.URL)
			k.eventNames(path+".events", s.Events)
		}
	}
	e := &n.Email
	k.eventNames("notifications.email.events", e.Events)
	if e.SMTP.Host == "" {
		return // e-mail is off
	}
	if p := e.SMTP.Port; k.ok("notifications.email.smtp.port") && (p < 1 || p > 65535) {
		k.p.add("notifications.email.smtp.port", "must be 1 to 65535, got %d", p)
	}
	if k.ok("notifications.email.from") && !moffman.IsEmail(e.From) {
		k.p.add("notifications.email.from", "expected the sender's e-mail address, got %q", e.From)
	}
	for _, a := range e.Approvers {
		if !moffman.IsEmail(a) {
			k.p.add("notifications.email.approvers", "%q is not an e-mail address", a)
		}
	}
	if e.SMTP.Username != "" && e.SMTP.PasswordFile == nil {
		k.p.add("notifications.email.smtp.password_file", "smtp.username is set but password_file is not")
	}
}

func (k checker) absoluteURL(path, s string) {
	if !k.ok(path) {
		return
	}
	u, err := url.Parse(s)
	if err != nil || u.Scheme != "http" && u.Scheme != "https" || u.Host == "" {
		k.p.add(path, "expected an absolute http(s) URL, got %q", s)
	}
}

func (k checker) eventNames(path string, events []string) {
	if !k.ok(path) {
		return
	}
	var names []string
	for _, t := range moffman.NotificationTypes {
		names = append(names, string(t))
	}
	for _, e := range events {
		if indexOf(names, e) < 0 {
			k.p.add(path, "unknown event %q%s (the events: %s)", e, didYouMean(e, names), strings.Join(names, ", "))
		}
	}
}

// WebhookSecret decodes a Standard Webhooks secret, "whsec_" and the key
// in base64. The error says what is wrong, never the secret.
func WebhookSecret(s string) ([]byte, error) {
	b64, ok := strings.CutPrefix(s, "whsec_")
	if !ok {
		return nil, fmt.Errorf("expected a secret written whsec_<base64>, e.g. from \"printf whsec_; head -c 32 /dev/urandom | base64\"")
	}
	key, err := base64.StdEncoding.DecodeString(b64)
	if err != nil {
		return nil, fmt.Errorf("the part after whsec_ is not base64")
	}
	if len(key) < 24 || len(key) > 64 {
		return nil, fmt.Errorf("the key after whsec_ has %d bytes; use 24 to 64 (32 is usual)", len(key))
	}
	return key, nil
}

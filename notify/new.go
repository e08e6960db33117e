package notify

import (
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/moffman/moffman"
	"github.com/moffman/moffman/config"
)

// New builds the destinations of cfg (already checked by config.Load)
// over outbox. It reads the SMTP password file; the error names the key.
// With no destination configured the Service records nothing (Enabled
// reports false) and Run returns at once.
func New(cfg config.Notifications, outbox moffman.Outbox, opts Options) (*Service, error) {
	s := newService(outbox, opts)
	client := opts.HTTPClient
	if client == nil {
		client = &http.Client{
			Timeout: sendTimeout,
			// Standard Webhooks: a redirect is not a delivery.
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		}
	}
	for i, w := range cfg.Webhooks {
		key, err := config.WebhookSecret(w.Secret)
		if err != nil {
			return nil, moffman.WrapError(moffman.Invalid, err, "notifications.webhooks[%d].secret", i)
		}
		h := &webhook{url: w.URL, key: key, client: client, now: s.now}
		s.add(&destination{name: destName("webhook", w.URL), wants: wantsTypes(w.Events), send: h.send})
	}
	for _, c := range cfg.Slack {
		h := &slack{url: c.URL, client: client}
		s.add(&destination{name: destName("slack", c.URL), wants: wantsTypes(c.Events), send: h.send, minGap: time.Second})
	}
	if e := cfg.Email; e.SMTP.Host != "" {
		m, err := newMailer(e)
		if err != nil {
			return nil, err
		}
		if len(e.Approvers) > 0 {
			s.add(&destination{name: "email:approvers", wants: wantsTypes(e.Events), send: m.sendApprovers})
		}
		if e.ToPerson {
			approvals := wantsTypes([]string{string(moffman.NotifyReservationApproved), string(moffman.NotifyManualApproved)})
			s.add(&destination{name: "email:person", send: m.sendPerson,
				wants: func(n moffman.Notification) bool { return n.PersonEmail != "" && approvals(n) }})
		}
	}
	return s, nil
}

// destName names a destination by its kind, host and a short hash of its
// URL: stable across restarts and list reordering, and without the path,
// which for Slack is the credential.
func destName(kind, rawURL string) string {
	host := rawURL
	if u, err := url.Parse(rawURL); err == nil {
		host = u.Host
	}
	sum := sha256.Sum256([]byte(rawURL))
	return kind + ":" + host + "/" + hex.EncodeToString(sum[:4])
}

// wantsTypes accepts the listed types; all of them for an empty list.
func wantsTypes(events []string) func(moffman.Notification) bool {
	return func(n moffman.Notification) bool {
		return len(events) == 0 || slices.Contains(events, string(n.Type))
	}
}

// readPassword reads the first line of the password file.
func readPassword(path string) (string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return "", moffman.WrapError(moffman.Invalid, err, "notifications.email.smtp.password_file: cannot read %q", path)
	}
	line, _, _ := strings.Cut(string(b), "\n")
	line = strings.TrimSuffix(line, "\r")
	if line == "" {
		return "", moffman.Errorf(moffman.Invalid, "notifications.email.smtp.password_file: %q is empty", path)
	}
	return line, nil
}

package config

import (
	"crypto/sha256"
	"crypto/tls"
	"encoding/hex"
	"fmt"
	"net/netip"
	"net/url"
	"os"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/moffman/moffman"
	"github.com/moffman/moffman/byroapi"
)

var (
	logLevels   = []string{"DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"}
	tokenScopes = []string{"read", "write", "admin", "feed"}
)

// minTokenLength keeps guessable tokens out.
const minTokenLength = 16

// checker checks values, skipping those that could not be decoded.
type checker struct {
	p   *problems
	bad map[string]bool // paths that failed to decode
}

// ok reports whether the values at paths, and everything under them,
// were decoded.
func (k checker) ok(paths ...string) bool {
	for _, p := range paths {
		for b := range k.bad {
			if b == p || strings.HasPrefix(b, p+".") || strings.HasPrefix(b, p+"[") {
				return false
			}
		}
	}
	return true
}

func (k checker) positive(path string, n int) {
	if k.ok(path) && n <= 0 {
		k.p.add(path, "must be greater than 0, got %d", n)
	}
}

func (k checker) endpoint(path, s string) {
	if !k.ok(path) {
		return
	}
	u, err := url.Parse(s)
	if err != nil || u.Scheme != "http" && u.Scheme != "https" || u.Host == "" || !strings.HasSuffix(s, "/") {
		k.p.add(path, "expected an absolute http(s) URL ending in \"/\", got %q", s)
	}
}

// databaseURL accepts a postgres:// or postgresql:// URL naming a host or
// socket. The message never shows a password.
func (k checker) databaseURL(path, s string) {
	if !k.ok(path) {
		return
	}
	u, err := url.Parse(s)
	switch {
	case err != nil:
		k.p.add(path, "expected a postgres:// or postgresql:// URL, e.g. postgres://moffman@db.example.com/moffman; the value cannot be parsed as a URL")
	case u.Scheme != "postgres" && u.Scheme != "postgresql":
		k.p.add(path, "expected a postgres:// or postgresql:// URL, e.g. postgres://moffman@db.example.com/moffman, got %q", redactURL(s))
	case u.Host == "" && u.Query().Get("host") == "":
		k.p.add(path, "the URL %q names no server: add a host, e.g. postgres://moffman@db.example.com/moffman", redactURL(s))
	}
}

// external reports an error of a check done by another package, which
// names the key itself.
func (k checker) external(path string, err error) {
	if err == nil {
		return
	}
	msg := err.Error()
	if !strings.HasPrefix(msg, path) {
		msg = path + ": " + msg
	}
	k.p.line(msg)
}

func (c *Config) validate(bad map[string]bool, p *problems) {
	k := checker{p: p, bad: bad}

	if k.ok("general.log_level") {
		lvl := strings.ToUpper(strings.TrimSpace(c.General.LogLevel))
		if lvl == "WARN" {
			lvl = "WARNING"
		}
		if indexOf(logLevels, lvl) < 0 {
			p.add("general.log_level", "unknown level %q (use %s)", c.General.LogLevel, strings.Join(logLevels, ", "))
		}
		c.General.LogLevel = lvl
	}
	k.positive("general.manual_calendar_check_interval", c.General.ManualCalendarCheckInterval)
	if c.General.DatabaseURL != nil {
		k.databaseURL("general.database_url", *c.General.DatabaseURL)
	}

	k.endpoint("google_api.calendar_endpoint", c.GoogleAPI.CalendarEndpoint)
	k.endpoint("google_api.sheets_endpoint", c.GoogleAPI.SheetsEndpoint)

	k.caldav(c)

	k.sheet("manual_users.google_config", c.ManualUsers.GoogleConfig)
	k.sheet("offices.google_config", c.Offices.GoogleConfig)
	k.users(c.ManualUsers.UserList)
	k.offices(c.Offices.OfficeList)
	k.closures(c.Offices.Closures)

	for _, f := range []struct {
		path string
		s    *string
	}{
		{"forms.date_format", &c.Forms.DateFormat},
		{"forms.attachment_date_format", &c.Forms.AttachmentDateFormat},
		{"calendar.date_format", &c.Calendar.DateFormat},
	} {
		if k.ok(f.path) {
			k.external(f.path, byroapi.ValidateDateFormat(f.path, *f.s))
		}
	}
	for _, f := range []struct {
		path string
		s    *string
	}{
		{"forms.email.subject", &c.Forms.Email.Subject},
		{"forms.email.contents", &c.Forms.Email.Contents},
		{"forms.email.attachments", c.Forms.Email.Attachments},
	} {
		if f.s != nil && k.ok(f.path) {
			k.external(f.path, byroapi.ValidateTemplate(f.path, *f.s))
		}
	}

	k.color("calendar.colors.unapproved", c.Calendar.Colors.Unapproved)
	k.color("calendar.colors.approved", c.Calendar.Colors.Approved)
	k.color("calendar.colors.waitlisted", c.Calendar.Colors.Waitlisted)
	if r := c.Calendar.CheckingRange; k.ok("calendar.checking_range.min", "calendar.checking_range.max") {
		// A fixed day keeps the check repeatable; months vary little enough.
		ref := time.Date(2001, 1, 1, 0, 0, 0, 0, time.UTC)
		if !r.Min.Apply(ref).Before(r.Max.Apply(ref)) {
			p.add("calendar.checking_range", "min must come before max")
		}
	}
	k.positive("calendar.max_reservation_days", c.Calendar.MaxReservationDays)

	if c.Forms.URL != nil && k.ok("forms.url") {
		if u, err := url.Parse(*c.Forms.URL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			p.add("forms.url", "expected the absolute http(s) URL of the Byroapi endpoint, e.g. http://byroapi:8080/api/v1/forms, got %q", *c.Forms.URL)
		}
	}
	k.restAPI(c)
}

// restAPI checks the rest_api section.
func (k checker) restAPI(c *Config) {
	p := k.p
	if k.ok("rest_api.port") && (c.RESTAPI.Port < 0 || c.RESTAPI.Port > 65535) {
		p.add("rest_api.port", "must be 0 to 65535, got %d", c.RESTAPI.Port)
	}
	k.tokens(c.RESTAPI.Tokens)
	k.notifications(&c.Notifications)
	if k.ok("forms.timeout") && c.Forms.Timeout <= 0 {
		p.add("forms.timeout", "must be greater than 0 seconds, got %v", c.Forms.Timeout.Seconds())
	}
	if k.ok("rest_api.shutdown_timeout") && c.RESTAPI.ShutdownTimeout <= 0 {
		p.add("rest_api.shutdown_timeout", "must be greater than 0, got %v", c.RESTAPI.ShutdownTimeout.Seconds())
	}
	k.listenAddr("rest_api.addr", c.RESTAPI.Addr)
	k.tls(c.RESTAPI.TLS)
	if u := c.RESTAPI.PublicURL; u != nil && k.ok("rest_api.public_url") {
		k.publicURL(u)
	}
	if k.ok("rest_api.trusted_proxies") {
		for i, cidr := range c.RESTAPI.TrustedProxies {
			if _, err := netip.ParsePrefix(strings.TrimSpace(cidr)); err != nil {
				p.add(fmt.Sprintf("rest_api.trusted_proxies[%d]", i), "expected a CIDR such as 10.0.0.0/8 or 192.0.2.7/32, got %q", cidr)
			}
		}
	}
}

// listenAddr accepts what the server can listen on: an IP address, a host
// name, or "" for every interface; never a port or a URL.
func (k checker) listenAddr(path, s string) {
	if !k.ok(path) || s == "" {
		return
	}
	if _, err := netip.ParseAddr(s); err == nil {
		return
	}
	if hostName(s) && strings.ContainsFunc(s, func(r rune) bool { return (r < '0' || r > '9') && r != '.' }) {
		return
	}
	k.p.add(path, "expected an IP address such as 127.0.0.1, 0.0.0.0 or ::, or a host name, without a port (that is rest_api.port), got %q", s)
}

// hostName reports whether s is made of DNS labels: letters, digits and
// hyphens separated by dots.
func hostName(s string) bool {
	for label := range strings.SplitSeq(s, ".") {
		if label == "" || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return false
		}
		for _, r := range label {
			if !('a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || '0' <= r && r <= '9' || r == '-') {
				return false
			}
		}
	}
	return true
}

// tls checks that the certificate and key are readable and a pair, as
// serving HTTPS will need them.
func (k checker) tls(t TLS) {
	if !k.ok("rest_api.tls") {
		return
	}
	switch {
	case t.CertFile == nil && t.KeyFile == nil:
		return
	case t.KeyFile == nil:
		k.p.add("rest_api.tls", "cert_file is set but key_file is not; give both to serve HTTPS")
		return
	case t.CertFile == nil:
		k.p.add("rest_api.tls", "key_file is set but cert_file is not; give both to serve HTTPS")
		return
	}
	cert, errCert := os.ReadFile(*t.CertFile)
	if errCert != nil {
		k.p.add("rest_api.tls.cert_file", "cannot read the certificate: %v", errCert)
	}
	key, errKey := os.ReadFile(*t.KeyFile)
	if errKey != nil {
		k.p.add("rest_api.tls.key_file", "cannot read the private key: %v", errKey)
	}
	if errCert == nil && errKey == nil {
		if _, err := tls.X509KeyPair(cert, key); err != nil {
			k.p.add("rest_api.tls", "%s and %s are not a usable certificate and private key (PEM): %v", *t.CertFile, *t.KeyFile, err)
		}
	}
}

// publicURL accepts an absolute http(s) URL without query or fragment and
// drops a trailing "/", so that links are made by appending a path.
func (k checker) publicURL(s *string) {
	u, err := url.Parse(*s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" || u.User != nil {
		k.p.add("rest_api.public_url", "expected the absolute http(s) URL people reach the service at, e.g. https://moffman.example.com, got %q", *s)
		return
	}
	*s = strings.TrimRight(*s, "/")
}

// caldav checks the caldav section and reads caldav.password_file.
func (k checker) caldav(c *Config) {
	d := &c.CalDAV
	if !k.ok("caldav", "google_api.service_account_key_path") {
		return
	}
	if d.URL == nil {
		if d.Username != "" || d.Password != nil || d.PasswordFile != nil {
			k.p.add("caldav.url", "is not set, but other caldav keys are: set it to use a CalDAV server")
		}
		return
	}
	if c.GoogleAPI.ServiceAccountKeyPath != nil {
		k.p.add("caldav", "caldav.url and google_api.service_account_key_path are mutually exclusive: "+
			"the office calendars are either on Google or on a CalDAV server; remove one")
	}
	if u, err := url.Parse(*d.URL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		k.p.add("caldav.url", "expected an absolute http(s) URL, got %q", *d.URL)
	}
	switch {
	case d.Password != nil && d.PasswordFile != nil:
		k.p.add("caldav", "both password and password_file are set; give one")
	case d.Password != nil:
		d.Secret = *d.Password
	case d.PasswordFile != nil:
		b, err := os.ReadFile(*d.PasswordFile)
		secret := strings.TrimSuffix(strings.TrimSuffix(string(b), "\n"), "\r")
		switch {
		case err != nil:
			k.p.add("caldav.password_file", "cannot read the password: %v", err)
		case secret == "":
			k.p.add("caldav.password_file", "%s is empty", *d.PasswordFile)
		default:
			d.Secret = secret
		}
	}
}

func (k checker) color(path string, n int) {
	if k.ok(path) && (n < 1 || n > 11) {
		k.p.add(path, "Google event colours are 1 to 11, got %d", n)
	}
}

func (k checker) sheet(path string, s SheetSource) {
	switch {
	case !k.ok(path+".sheet_id", path+".range"):
	case s.SheetID != nil && s.Range == nil:
		k.p.add(path, "sheet_id is set but range is not")
	case s.SheetID == nil && s.Range != nil:
		k.p.add(path, "range is set but sheet_id is not")
	}
	if s.UpdateInterval != nil {
		k.positive(path+".update_interval", *s.UpdateInterval)
	}
}

func (k checker) offices(list []OfficeEntry) {
	seen := map[string]int{}
	for i, o := range list {
		path := fmt.Sprintf("offices.office_list[%d]", i)
		if k.bad[path] {
			continue
		}
		switch {
		case !k.ok(path + ".name"):
		case o.Name == "":
			k.p.add(path, "office has no name (key name)")
		default:
			if j, dup := seen[o.Name]; dup {
				k.p.add(path, "office %q is listed twice (also offices.office_list[%d])", o.Name, j)
			} else {
				seen[o.Name] = i
			}
		}
		if o.ID == "" && k.ok(path+".id") {
			k.p.add(path, "office %q has no calendar id (key id)", o.Name)
		}
		if o.Capacity != nil && *o.Capacity < 0 && k.ok(path+".capacity") {
			k.p.add(path+".capacity", "must be 0 or more desks (empty: unlimited), got %d", *o.Capacity)
		}
	}
}

func (k checker) closures(list []ClosureEntry) {
	for i, c := range list {
		path := fmt.Sprintf("offices.closures[%d]", i)
		if !k.ok(path) {
			continue
		}
		if c.Office == "" {
			k.p.add(path+".office", "closure has no office name")
		}
		from, errFrom := moffman.ParseDate("from", c.From)
		to, errTo := moffman.ParseDate("to", c.To)
		switch {
		case errFrom != nil:
			k.p.add(path+".from", "%s", moffman.ErrorMessage(errFrom))
		case errTo != nil:
			k.p.add(path+".to", "%s", moffman.ErrorMessage(errTo))
		case !to.After(from):
			k.p.add(path+".to", "must be after from (%s): to is exclusive, so a one-day closure on %s ends %s",
				c.From, c.From, from.AddDate(0, 0, 1).Format(moffman.DateLayout))
		}
	}
}

func (k checker) users(list []User) {
	seen := map[string]int{}
	for i, u := range list {
		path := fmt.Sprintf("manual_users.user_list[%d]", i)
		id := strings.ToLower(u.ID) // e-mails compare case-insensitively, as in the directory
		switch {
		case !k.ok(path, path+".id"):
		case u.ID == "":
			k.p.add(path, "user has no id (key id, the e-mail)")
		case !moffman.IsEmail(u.ID):
			k.p.add(path+".id", "%q is not an e-mail address", u.ID)
		default:
			if j, dup := seen[id]; dup {
				k.p.add(path, "user %q is listed twice (also manual_users.user_list[%d])", u.ID, j)
			} else {
				seen[id] = i
			}
		}
	}
}

func (k checker) tokens(list []Token) {
	names, secrets := map[string]int{}, map[string]int{}
	for i := range list {
		t := &list[i]
		path := fmt.Sprintf("rest_api.tokens[%d]", i)
		if !k.ok(path) {
			continue // a field failed to decode: its checks would mislead
		}
		if t.Name == "" {
			k.p.add(path, "token has no name (key name)")
		} else if j, dup := names[t.Name]; dup {
			k.p.add(path, "token name %q is used twice (also rest_api.tokens[%d])", t.Name, j)
		} else {
			names[t.Name] = i
		}
		// Compare hashes so that a token and its own hash are caught too;
		// never print a token.
		secret := ""
		switch {
		case t.Token == "" && t.TokenSHA256 == "":
			k.p.add(path, "token %q has neither token nor token_sha256", t.Name)
		case t.Token != "" && t.TokenSHA256 != "":
			k.p.add(path, "token %q has both token and token_sha256; give one", t.Name)
		case t.Token != "":
			if utf8.RuneCountInString(t.Token) < minTokenLength {
				k.p.add(path+".token", "token %q is too short: use at least %d characters", t.Name, minTokenLength)
			}
			sum := sha256.Sum256([]byte(t.Token))
			secret = hex.EncodeToString(sum[:])
		default:
			h := strings.ToLower(t.TokenSHA256)
			if b, err := hex.DecodeString(h); err != nil || len(b) != sha256.Size {
				k.p.add(path+".token_sha256", "token %q: expected 64 hex digits (a SHA-256)", t.Name)
			} else {
				t.TokenSHA256, secret = h, h
			}
		}
		if secret != "" {
			if j, dup := secrets[secret]; dup {
				k.p.add(path, "token %q has the same secret as rest_api.tokens[%d]", t.Name, j)
			} else {
				secrets[secret] = i
			}
		}
		if len(t.Scopes) == 0 {
			k.p.add(path+".scopes", "token %q has no scopes (use %s)", t.Name, strings.Join(tokenScopes, ", "))
		}
		for _, s := range t.Scopes {
			if indexOf(tokenScopes, s) < 0 {
				k.p.add(path+".scopes", "token %q: unknown scope %q (use %s)", t.Name, s, strings.Join(tokenScopes, ", "))
			}
		}
	}
}

// Package config loads moffman's configuration in the layers of the Python
// service it succeeds: the embedded commented defaults (defaults.yaml),
// the user's YAML file, MOFFMAN_ environment variables and command-line
// options, later layers winning. Load checks everything and reports every
// problem at once, each line naming the offending key.
package config

import (
	_ "embed"
	"log/slog"
	"time"

	"github.com/moffman/moffman"
)

// Template is the commented default configuration. Load starts from it and
// `moffman --get-config-template FILE` writes it unchanged, so it documents
// every key. Do not modify.
//
//go:embed defaults.yaml
var Template []byte

// Config is the whole configuration. The YAML key of each field is its
// name in snake case (RESTAPI is rest_api, CCToCreator is cc_to_creator).
type Config struct {
	General     General
	GoogleAPI   GoogleAPI
	CalDAV      CalDAV
	ManualUsers ManualUsers
	Offices     Offices
	Forms       Forms
	Calendar    Calendar
	RESTAPI     RESTAPI
	// Notifications: notifications.go.
	Notifications Notifications
}

// General holds general.* keys.
type General struct {
	LogLevel                    string  // DEBUG, INFO, WARNING, ERROR or CRITICAL (normalised to upper case)
	ManualCalendarCheckInterval int     // seconds
	StoragePath                 *string // nil: keep state in memory
	DatabaseURL                 *string // nil: state in the SQLite store at StoragePath; else a postgres:// URL
}

// GoogleAPI holds google_api.* keys.
type GoogleAPI struct {
	ServiceAccountKeyPath *string // nil: no Google, calendars live in the local store
	CalendarEndpoint      string  // absolute URL ending in "/"
	SheetsEndpoint        string  // absolute URL ending in "/"
}

// CalDAV holds caldav.* keys: the office calendars on a CalDAV server
// instead of Google (the two are mutually exclusive).
type CalDAV struct {
	URL          *string // nil: no CalDAV
	Username     string
	Password     *string
	PasswordFile *string
	// Secret is the password to send: Password, or the content of
	// PasswordFile without its final line break, read by Load.
	Secret string
}

// ManualUsers holds manual_users.* keys.
type ManualUsers struct {
	UserList     []User
	GoogleConfig SheetSource
}

// Offices holds offices.* keys.
type Offices struct {
	OfficeList   []OfficeEntry
	GoogleConfig SheetSource
	Closures     []ClosureEntry
}

// Forms holds forms.* keys: the Byroapi form requests.
type Forms struct {
	Template             *string
	URL                  *string
	DateFormat           string
	AttachmentDateFormat string
	CCToCreator          bool
	Timeout              time.Duration // seconds in YAML: one form request's limit
	Email                Email
}

// Email holds forms.email.* keys. From, To and CC map e-mail to name.
type Email struct {
	From, To, CC      map[string]string
	Subject, Contents string
	Attachments       *string
}

// Calendar holds calendar.* keys.
type Calendar struct {
	Colors             Colors
	CheckingRange      CheckingRange
	DateFormat         string
	EndDateCorrective  moffman.Shift
	MaxReservationDays int
}

// Colors are Google Calendar event colour ids (1..11).
type Colors struct {
	Unapproved, Approved, Waitlisted int
}

// CheckingRange is the window searched for manual events, relative to
// today 00:00 UTC.
type CheckingRange struct {
	Min, Max moffman.Shift
}

// RESTAPI holds rest_api.* keys.
type RESTAPI struct {
	Addr            string
	Port            int // 0: any free port
	Tokens          []Token
	ShutdownTimeout time.Duration // seconds in YAML, environment and options
	TLS             TLS
	PublicURL       *string  // e.g. https://moffman.example.com; nil: links are relative
	TrustedProxies  []string // CIDRs whose X-Forwarded-For/-Proto are believed
}

// TLS holds rest_api.tls.* keys: both set serves HTTPS.
type TLS struct {
	CertFile, KeyFile *string
}

// Enabled reports whether HTTPS is configured.
func (t TLS) Enabled() bool { return t.CertFile != nil && t.KeyFile != nil }

// SheetSource names a spreadsheet range holding dynamic lists.
type SheetSource struct {
	SheetID        *string
	Range          *string
	UpdateInterval *int // seconds; nil: reload only at start and on request
}

// Enabled reports whether the spreadsheet is configured.
func (s SheetSource) Enabled() bool { return s.SheetID != nil && s.Range != nil }

// User is one entry of manual_users.user_list.
type User struct {
	ID, FirstName, LastName, EmployeeNumber string
}

// OfficeEntry is one entry of offices.office_list: ID is the calendar id.
type OfficeEntry struct {
	Name, ID string
	Capacity *int // nil: unlimited
}

// ClosureEntry is one entry of offices.closures: days [From, To) the
// office takes nobody.
type ClosureEntry struct {
	Office, From, To, Reason string
}

// Token is one entry of rest_api.tokens. Exactly one of Token and
// TokenSHA256 (lower-case hex) is set.
type Token struct {
	Name        string
	Token       string
	TokenSHA256 string
	Scopes      []string
}

// DirectoryLists returns the static office and manual-user lists in the
// domain's terms, ready for moffman.NewDirectory. (Not Offices() and
// ManualUsers(): those names are the sections.)
func (c *Config) DirectoryLists() moffman.DirectoryLists {
	var l moffman.DirectoryLists
	for _, o := range c.Offices.OfficeList {
		l.Offices = append(l.Offices, moffman.Office{Name: o.Name, CalendarID: o.ID, Capacity: o.Capacity})
	}
	for _, c := range c.Offices.Closures {
		l.Closures = append(l.Closures, moffman.Closure{Office: c.Office, From: c.From, To: c.To, Reason: c.Reason})
	}
	for _, u := range c.ManualUsers.UserList {
		l.ManualUsers = append(l.ManualUsers, moffman.Person{
			Email: u.ID, FirstName: u.FirstName, LastName: u.LastName, EmployeeNumber: u.EmployeeNumber,
		})
	}
	return l
}

// SlogLevel maps general.log_level to a slog level; CRITICAL, which slog
// lacks, is above ERROR.
func (c *Config) SlogLevel() slog.Level {
	switch c.General.LogLevel {
	case "DEBUG":
		return slog.LevelDebug
	case "WARNING":
		return slog.LevelWarn
	case "ERROR":
		return slog.LevelError
	case "CRITICAL":
		return slog.LevelError + 4
	}
	return slog.LevelInfo
}

package config

import (
	"strings"

	"github.com/moffman/moffman"
)

// kind is the type of a key's value; it decides how YAML, environment and
// option values are converted.
type kind int

const (
	kindString     kind = iota
	kindNullString      // nil for null (and for "")
	kindInt
	kindNullInt
	kindBool
	kindSeconds   // a number of seconds, into a time.Duration
	kindStringMap // e-mail -> name
	kindShift     // {weeks: -1, ...}, into a moffman.Shift
	kindUsers
	kindOffices
	kindClosures
	kindTokens
	kindStringList // a list of strings
	kindWebhooks
	kindSlack
)

// key is one configuration key. Every key is a leaf: a layer that sets it
// replaces its whole value, so lists and maps are never merged.
type key struct {
	path string
	kind kind
	ref  func(*Config) any // pointer to the field holding the value
}

// keys lists every key in the order of defaults.yaml, which Masked keeps.
var keys = append([]key{
	{"general.log_level", kindString, func(c *Config) any { return &c.General.LogLevel }},
	{"general.manual_calendar_check_interval", kindInt, func(c *Config) any { return &c.General.ManualCalendarCheckInterval }},
	{"general.storage_path", kindNullString, func(c *Config) any { return &c.General.StoragePath }},
	{"general.database_url", kindNullString, func(c *Config) any { return &c.General.DatabaseURL }},

	{"google_api.service_account_key_path", kindNullString, func(c *Config) any { return &c.GoogleAPI.ServiceAccountKeyPath }},
	{"google_api.calendar_endpoint", kindString, func(c *Config) any { return &c.GoogleAPI.CalendarEndpoint }},
	{"google_api.sheets_endpoint", kindString, func(c *Config) any { return &c.GoogleAPI.SheetsEndpoint }},

	{"caldav.url", kindNullString, func(c *Config) any { return &c.CalDAV.URL }},
	{"caldav.username", kindString, func(c *Config) any { return &c.CalDAV.Username }},
	{"caldav.password", kindNullString, func(c *Config) any { return &c.CalDAV.Password }},
	{"caldav.password_file", kindNullString, func(c *Config) any { return &c.CalDAV.PasswordFile }},

	{"manual_users.user_list", kindUsers, func(c *Config) any { return &c.ManualUsers.UserList }},
	{"manual_users.google_config.sheet_id", kindNullString, func(c *Config) any { return &c.ManualUsers.GoogleConfig.SheetID }},
	{"manual_users.google_config.range", kindNullString, func(c *Config) any { return &c.ManualUsers.GoogleConfig.Range }},
	{"manual_users.google_config.update_interval", kindNullInt, func(c *Config) any { return &c.ManualUsers.GoogleConfig.UpdateInterval }},

	{"offices.office_list", kindOffices, func(c *Config) any { return &c.Offices.OfficeList }},
	{"offices.google_config.sheet_id", kindNullString, func(c *Config) any { return &c.Offices.GoogleConfig.SheetID }},
	{"offices.google_config.range", kindNullString, func(c *Config) any { return &c.Offices.GoogleConfig.Range }},
	{"offices.google_config.update_interval", kindNullInt, func(c *Config) any { return &c.Offices.GoogleConfig.UpdateInterval }},
	{"offices.closures", kindClosures, func(c *Config) any { return &c.Offices.Closures }},

	{"forms.template", kindNullString, func(c *Config) any { return &c.Forms.Template }},
	{"forms.url", kindNullString, func(c *Config) any { return &c.Forms.URL }},
	{"forms.date_format", kindString, func(c *Config) any { return &c.Forms.DateFormat }},
	{"forms.attachment_date_format", kindString, func(c *Config) any { return &c.Forms.AttachmentDateFormat }},
	{"forms.cc_to_creator", kindBool, func(c *Config) any { return &c.Forms.CCToCreator }},
	{"forms.timeout", kindSeconds, func(c *Config) any { return &c.Forms.Timeout }},
	{"forms.email.from", kindStringMap, func(c *Config) any { return &c.Forms.Email.From }},
	{"forms.email.to", kindStringMap, func(c *Config) any { return &c.Forms.Email.To }},
	{"forms.email.cc", kindStringMap, func(c *Config) any { return &c.Forms.Email.CC }},
	{"forms.email.subject", kindString, func(c *Config) any { return &c.Forms.Email.Subject }},
	{"forms.email.contents", kindString, func(c *Config) any { return &c.Forms.Email.Contents }},
	{"forms.email.attachments", kindNullString, func(c *Config) any { return &c.Forms.Email.Attachments }},

	{"calendar.colors.unapproved", kindInt, func(c *Config) any { return &c.Calendar.Colors.Unapproved }},
	{"calendar.colors.approved", kindInt, func(c *Config) any { return &c.Calendar.Colors.Approved }},
	{"calendar.colors.waitlisted", kindInt, func(c *Config) any { return &c.Calendar.Colors.Waitlisted }},
	{"calendar.checking_range.min", kindShift, func(c *Config) any { return &c.Calendar.CheckingRange.Min }},
	{"calendar.checking_range.max", kindShift, func(c *Config) any { return &c.Calendar.CheckingRange.Max }},
	{"calendar.date_format", kindString, func(c *Config) any { return &c.Calendar.DateFormat }},
	{"calendar.end_date_corrective", kindShift, func(c *Config) any { return &c.Calendar.EndDateCorrective }},
	{"calendar.max_reservation_days", kindInt, func(c *Config) any { return &c.Calendar.MaxReservationDays }},

	{"rest_api.addr", kindString, func(c *Config) any { return &c.RESTAPI.Addr }},
	{"rest_api.port", kindInt, func(c *Config) any { return &c.RESTAPI.Port }},
	{"rest_api.tokens", kindTokens, func(c *Config) any { return &c.RESTAPI.Tokens }},
	{"rest_api.shutdown_timeout", kindSeconds, func(c *Config) any { return &c.RESTAPI.ShutdownTimeout }},
	{"rest_api.tls.cert_file", kindNullString, func(c *Config) any { return &c.RESTAPI.TLS.CertFile }},
	{"rest_api.tls.key_file", kindNullString, func(c *Config) any { return &c.RESTAPI.TLS.KeyFile }},
	{"rest_api.public_url", kindNullString, func(c *Config) any { return &c.RESTAPI.PublicURL }},
	{"rest_api.trusted_proxies", kindStringList, func(c *Config) any { return &c.RESTAPI.TrustedProxies }},
}, notificationKeys...)

// shiftUnits are the units of a shift map, in the order they are applied
// when set one by one.
var shiftUnits = []string{"years", "months", "weeks", "days", "hours", "minutes", "seconds"}

func shiftUnit(s *moffman.Shift, unit string) *int {
	switch unit {
	case "years":
		return &s.Years
	case "months":
		return &s.Months
	case "weeks":
		return &s.Weeks
	case "days":
		return &s.Days
	case "hours":
		return &s.Hours
	case "minutes":
		return &s.Minutes
	case "seconds":
		return &s.Seconds
	}
	return nil
}

var (
	keyByPath = map[string]*key{}
	sections  = map[string]bool{} // every proper prefix of a key path
	envNames  = map[string]string{}
	optNames  = map[string]string{}
)

func init() {
	for i := range keys {
		k := &keys[i]
		keyByPath[k.path] = k
		for p := k.path; strings.Contains(p, "."); {
			p = p[:strings.LastIndex(p, ".")]
			sections[p] = true
		}
		paths := []string{k.path}
		if k.kind == kindShift {
			// The Python service accepted one unit at a time, e.g.
			// MOFFMAN_CALENDAR__CHECKING_RANGE__MIN__WEEKS=-2.
			for _, u := range shiftUnits {
				paths = append(paths, k.path+"."+u)
			}
		}
		for _, p := range paths {
			envNames[envName(p)] = p
			optNames[optName(p)] = p
		}
	}
}

// envName is the environment variable for a key path.
func envName(path string) string {
	return "MOFFMAN_" + strings.ToUpper(strings.ReplaceAll(path, ".", "__"))
}

// optName is the command-line option for a key path, without the dashes
// in front.
func optName(path string) string {
	return strings.ReplaceAll(strings.ReplaceAll(path, "_", "-"), ".", "--")
}

// kindOf returns the kind of a key path or of a shift unit path.
func kindOf(path string) kind {
	if k, ok := keyByPath[path]; ok {
		return k.kind
	}
	return kindInt
}

func nullable(k kind) bool { return k == kindNullString || k == kindNullInt }

// suggest returns the candidate closest to s by edit distance, or "" when
// none is close enough to be a likely typo.
func suggest(s string, candidates []string) string {
	best, bestD := "", -1
	for _, c := range candidates {
		if d := distance(s, c); bestD < 0 || d < bestD {
			best, bestD = c, d
		}
	}
	if bestD < 0 || bestD > max(2, len(s)/3) {
		return ""
	}
	return best
}

// distance is the Levenshtein distance between a and b.
func distance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(rb)]
}

func didYouMean(s string, candidates []string) string {
	if c := suggest(s, candidates); c != "" {
		return "; did you mean " + c + "?"
	}
	return ""
}

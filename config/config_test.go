package config

import (
	"errors"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/moffman/moffman"
)

func ptr[T any](v T) *T { return &v }

// wantDefaults is the configuration documented in defaults.yaml.
func wantDefaults() *Config {
	return &Config{
		General: General{LogLevel: "INFO", ManualCalendarCheckInterval: 7200, StoragePath: ptr("moffman_store.dbm")},
		GoogleAPI: GoogleAPI{
			CalendarEndpoint: "https://www.googleapis.com/calendar/v3/",
			SheetsEndpoint:   "https://sheets.googleapis.com/",
		},
		Forms: Forms{
			DateFormat: "DD.MM.YYYY", AttachmentDateFormat: "YYYY-MM-DD", CCToCreator: true, Timeout: 120 * time.Second,
			Email: Email{From: map[string]string{}, To: map[string]string{}, CC: map[string]string{}},
		},
		Calendar: Calendar{
			Colors:             Colors{Unapproved: 4, Approved: 5, Waitlisted: 8},
			CheckingRange:      CheckingRange{Min: moffman.Shift{Weeks: -1}, Max: moffman.Shift{Weeks: 2}},
			DateFormat:         "YYYY-MM-DD",
			EndDateCorrective:  moffman.Shift{Days: -1},
			MaxReservationDays: 366,
		},
		RESTAPI: RESTAPI{Addr: "0.0.0.0", Port: 8080, ShutdownTimeout: 15 * time.Second, TrustedProxies: []string{}},
		Notifications: Notifications{Email: NotifyEmail{
			SMTP: SMTP{Port: 587, StartTLS: true}, Events: []string{"reservation.pending"}, ToPerson: true, Approvers: []string{},
		}},
	}
}

// load loads with file as the user's file ("" for none).
func load(t testing.TB, file string, env []string, args ...string) (*Config, error) {
	t.Helper()
	opts := LoadOptions{Environ: env, Args: args}
	if file != "" {
		opts.File = filepath.Join(t.TempDir(), "moffman.yaml")
		if err := os.WriteFile(opts.File, []byte(file), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return Load(opts)
}

func mustLoad(t *testing.T, file string, env []string, args ...string) *Config {
	t.Helper()
	c, err := load(t, file, env, args...)
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	return c
}

// wantProblems checks that err is an Invalid error and that each wanted
// text is on a line of its own starting with the key.
func wantProblems(t *testing.T, err error, want ...string) {
	t.Helper()
	if err == nil {
		t.Fatalf("Load succeeded, want problems %q", want)
	}
	if code := moffman.ErrorCode(err); code != moffman.Invalid {
		t.Fatalf("code %q, want invalid: %v", code, err)
	}
	lines := strings.Split(err.Error(), "\n")
	for i, l := range lines { // the file's directory varies
		if j := strings.Index(l, "moffman.yaml"); strings.HasPrefix(l, "/") && j > 0 {
			lines[i] = l[j:]
		}
	}
	for _, w := range want {
		if !slices.ContainsFunc(lines, func(l string) bool { return strings.HasPrefix(l, w) }) {
			t.Errorf("no line starts with %q in:\n%v", w, err)
		}
	}
}

func TestDefaults(t *testing.T) {
	t.Parallel()
	got := mustLoad(t, "", nil)
	if want := wantDefaults(); !reflect.DeepEqual(got, want) {
		t.Errorf("defaults\n got %+v\nwant %+v", got, want)
	}
	if got.SlogLevel().String() != "INFO" {
		t.Errorf("SlogLevel %v", got.SlogLevel())
	}
}

// The template is what --get-config-template writes: loaded as a user's
// file it must give exactly the defaults, and it must list every key.
func TestTemplateIsTheDefaults(t *testing.T) {
	t.Parallel()
	got := mustLoad(t, string(Template), nil)
	if want := wantDefaults(); !reflect.DeepEqual(got, want) {
		t.Errorf("template as a file\n got %+v\nwant %+v", got, want)
	}
	values := map[string]value{}
	var p problems
	readYAML(Template, "defaults.yaml", nil, values, &p)
	if len(p.lines) > 0 {
		t.Fatal(p.lines)
	}
	for _, k := range keys {
		if _, ok := values[k.path]; !ok {
			t.Errorf("defaults.yaml lacks %s", k.path)
		}
	}
	// Every key is explained by a comment right above it.
	var doc yaml.Node
	if err := yaml.Unmarshal(Template, &doc); err != nil {
		t.Fatal(err)
	}
	var walk func(n *yaml.Node, prefix string)
	walk = func(n *yaml.Node, prefix string) {
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			path := strings.TrimPrefix(prefix+"."+k.Value, ".")
			if keyByPath[path] != nil && k.HeadComment == "" {
				t.Errorf("defaults.yaml: %s has no comment", path)
			}
			if v.Kind == yaml.MappingNode && keyByPath[path] == nil {
				walk(v, path)
			}
		}
	}
	walk(doc.Content[0], "")
}

func TestFileAlone(t *testing.T) {
	t.Parallel()
	c := mustLoad(t, `
general:
  log_level: debug
rest_api:
  port: 9000
offices:
  office_list:
    - {name: prague, id: prague@group.calendar.google.com}
`, nil)
	if c.General.LogLevel != "DEBUG" || c.RESTAPI.Port != 9000 || len(c.Offices.OfficeList) != 1 {
		t.Errorf("got %+v", c)
	}
	if c.RESTAPI.Addr != "0.0.0.0" || c.General.ManualCalendarCheckInterval != 7200 {
		t.Errorf("keys not in the file must keep their defaults: %+v", c)
	}
}

func TestCapacityAndClosures(t *testing.T) {
	t.Parallel()
	c := mustLoad(t, `
offices:
  office_list:
    - {name: prague, id: p@g, capacity: 20}
    - {name: brno, id: b@g, capacity: 0}
    - {name: ostrava, id: o@g, capacity: }
    - {name: plzen, id: z@g}
  closures:
    - {office: prague, from: 2025-12-24, to: 2025-12-27, reason: Christmas}
calendar:
  colors:
    waitlisted: 3
`, nil)
	l := c.DirectoryLists()
	caps := map[string]string{}
	for _, o := range l.Offices {
		caps[o.Name] = "unlimited"
		if o.Capacity != nil {
			caps[o.Name] = strconv.Itoa(*o.Capacity)
		}
	}
	if want := map[string]string{"prague": "20", "brno": "0", "ostrava": "unlimited", "plzen": "unlimited"}; !reflect.DeepEqual(caps, want) {
		t.Errorf("capacities %v, want %v", caps, want)
	}
	if want := []moffman.Closure{{Office: "prague", From: "2025-12-24", To: "2025-12-27", Reason: "Christmas"}}; !reflect.DeepEqual(l.Closures, want) {
		t.Errorf("closures %+v, want %+v", l.Closures, want)
	}
	if c.Calendar.Colors.Waitlisted != 3 {
		t.Errorf("waitlisted colour %d, want 3", c.Calendar.Colors.Waitlisted)
	}
}

func TestLogLevels(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{"debug": "DEBUG", "Info": "INFO", "warn": "WARNING", "WARNING": "WARNING", "error": "ERROR", "critical": "CRITICAL"} {
		c := mustLoad(t, "", []string{"MOFFMAN_GENERAL__LOG_LEVEL=" + in})
		if c.General.LogLevel != want {
			t.Errorf("%s: got %s, want %s", in, c.General.LogLevel, want)
		}
	}
	c := mustLoad(t, "", []string{"MOFFMAN_GENERAL__LOG_LEVEL=critical"})
	if c.SlogLevel() <= slog.LevelError {
		t.Errorf("CRITICAL is %v", c.SlogLevel())
	}
}

func TestEnvAlone(t *testing.T) {
	t.Parallel()
	c := mustLoad(t, "", []string{
		"PATH=/bin",
		"MOFFMAN_REST_API__PORT=9000",
		"MOFFMAN_GENERAL__LOG_LEVEL=DEBUG",
		"MOFFMAN_GOOGLE_API__SERVICE_ACCOUNT_KEY_PATH=/etc/moffman/key.json",
		`MOFFMAN_OFFICES__OFFICE_LIST=[{"name":"prague","id":"x@group.calendar.google.com"}]`,
		`MOFFMAN_FORMS__EMAIL__TO={"a@b.c":"A"}`,
	})
	want := wantDefaults()
	want.RESTAPI.Port = 9000
	want.General.LogLevel = "DEBUG"
	want.GoogleAPI.ServiceAccountKeyPath = ptr("/etc/moffman/key.json")
	want.Offices.OfficeList = []OfficeEntry{{Name: "prague", ID: "x@group.calendar.google.com"}}
	want.Forms.Email.To = map[string]string{"a@b.c": "A"}
	if !reflect.DeepEqual(c, want) {
		t.Errorf("\n got %+v\nwant %+v", c, want)
	}
}

func TestArgsAlone(t *testing.T) {
	t.Parallel()
	c := mustLoad(t, "", nil,
		"--rest-api--port", "9000",
		"--general--manual-calendar-check-interval", "60",
		"--general--storage-path=x.db",
		"--forms--cc_to_creator", "no", // "_" works as well as "-"
	)
	if c.RESTAPI.Port != 9000 || c.General.ManualCalendarCheckInterval != 60 || *c.General.StoragePath != "x.db" || c.Forms.CCToCreator {
		t.Errorf("got %+v", c)
	}
}

func TestPrecedence(t *testing.T) {
	t.Parallel()
	file := "rest_api:\n  port: 1001\n"
	env := []string{"MOFFMAN_REST_API__PORT=1002"}
	args := []string{"--rest-api--port", "1003"}
	for _, tc := range []struct {
		file string
		env  []string
		args []string
		want int
	}{
		{"", nil, nil, 8080},
		{file, nil, nil, 1001},
		{file, env, nil, 1002},
		{"", env, nil, 1002},
		{file, env, args, 1003},
		{file, nil, args, 1003},
		{"", nil, append(args, "--rest-api--port=1004"), 1004}, // the last option wins
	} {
		if c := mustLoad(t, tc.file, tc.env, tc.args...); c.RESTAPI.Port != tc.want {
			t.Errorf("file %q env %q args %q: port %d, want %d", tc.file, tc.env, tc.args, c.RESTAPI.Port, tc.want)
		}
	}
}

// Each type converts from an environment or option string.
func TestConversions(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		env   string
		check func(c *Config) bool
	}{
		{"MOFFMAN_GENERAL__MANUAL_CALENDAR_CHECK_INTERVAL= 60", func(c *Config) bool { return c.General.ManualCalendarCheckInterval == 60 }},
		{"MOFFMAN_GENERAL__STORAGE_PATH=null", func(c *Config) bool { return c.General.StoragePath == nil }},
		{"MOFFMAN_GENERAL__STORAGE_PATH=~", func(c *Config) bool { return c.General.StoragePath == nil }},
		{"MOFFMAN_GENERAL__STORAGE_PATH=", func(c *Config) bool { return c.General.StoragePath == nil }},
		{"MOFFMAN_GENERAL__STORAGE_PATH=NULL.db", func(c *Config) bool { return *c.General.StoragePath == "NULL.db" }},
		{"MOFFMAN_FORMS__EMAIL__SUBJECT=null", func(c *Config) bool { return c.Forms.Email.Subject == "null" }}, // not nullable
		{"MOFFMAN_FORMS__EMAIL__SUBJECT=a: b # c", func(c *Config) bool { return c.Forms.Email.Subject == "a: b # c" }},
		{"MOFFMAN_OFFICES__GOOGLE_CONFIG__UPDATE_INTERVAL=600", func(c *Config) bool { return *c.Offices.GoogleConfig.UpdateInterval == 600 }},
		{"MOFFMAN_OFFICES__GOOGLE_CONFIG__UPDATE_INTERVAL=null", func(c *Config) bool { return c.Offices.GoogleConfig.UpdateInterval == nil }},
		{"MOFFMAN_FORMS__CC_TO_CREATOR=FALSE", func(c *Config) bool { return !c.Forms.CCToCreator }},
		{"MOFFMAN_FORMS__CC_TO_CREATOR=No", func(c *Config) bool { return !c.Forms.CCToCreator }},
		{"MOFFMAN_FORMS__CC_TO_CREATOR=0", func(c *Config) bool { return !c.Forms.CCToCreator }},
		{"MOFFMAN_REST_API__SHUTDOWN_TIMEOUT=2.5", func(c *Config) bool { return c.RESTAPI.ShutdownTimeout == 2500*time.Millisecond }},
		{"MOFFMAN_REST_API__SHUTDOWN_TIMEOUT=1m", func(c *Config) bool { return c.RESTAPI.ShutdownTimeout == time.Minute }},
		{`MOFFMAN_CALENDAR__CHECKING_RANGE__MIN={"days": -3}`, func(c *Config) bool { return c.Calendar.CheckingRange.Min == moffman.Shift{Days: -3} }},
		{"MOFFMAN_CALENDAR__CHECKING_RANGE__MIN__WEEKS=-2", func(c *Config) bool { return c.Calendar.CheckingRange.Min == moffman.Shift{Weeks: -2} }},
		{"MOFFMAN_CALENDAR__END_DATE_CORRECTIVE__HOURS=-1", func(c *Config) bool { return c.Calendar.EndDateCorrective == moffman.Shift{Days: -1, Hours: -1} }},
		{`MOFFMAN_FORMS__EMAIL__CC={'x@y.z': 'X Y'}`, func(c *Config) bool { return c.Forms.Email.CC["x@y.z"] == "X Y" }},
		{`MOFFMAN_MANUAL_USERS__USER_LIST=[{"id":"a@b.c","first_name":"A","last_name":"B","employee_number":12}]`, func(c *Config) bool {
			return reflect.DeepEqual(c.ManualUsers.UserList, []User{{ID: "a@b.c", FirstName: "A", LastName: "B", EmployeeNumber: "12"}})
		}},
		{`MOFFMAN_REST_API__TOKENS=[{"name":"ci","token":"0123456789abcdef","scopes":["read","write"]}]`, func(c *Config) bool {
			return reflect.DeepEqual(c.RESTAPI.Tokens, []Token{{Name: "ci", Token: "0123456789abcdef", Scopes: []string{"read", "write"}}})
		}},
		{"MOFFMAN_OFFICES__OFFICE_LIST=[]", func(c *Config) bool { return len(c.Offices.OfficeList) == 0 }},
	} {
		c, err := load(t, "", []string{tc.env})
		if err != nil {
			t.Errorf("%s: %v", tc.env, err)
			continue
		}
		if !tc.check(c) {
			t.Errorf("%s: got %+v", tc.env, c)
		}
		// The same as an option.
		name, val, _ := strings.Cut(strings.TrimPrefix(tc.env, "MOFFMAN_"), "=")
		opt := "--" + strings.ReplaceAll(strings.ToLower(name), "_", "-")
		c, err = load(t, "", nil, opt, val)
		if val == "" {
			c, err = load(t, "", nil, opt+"=")
		}
		if err != nil || !tc.check(c) {
			t.Errorf("%s %q: %v %+v", opt, val, err, c)
		}
	}
}

func TestFileValueTypes(t *testing.T) {
	t.Parallel()
	c := mustLoad(t, `
general:
  storage_path:          # empty: null
  manual_calendar_check_interval: "60"
forms:
  template: ""           # empty: null
  cc_to_creator: yes
manual_users:
  user_list:
    - id: a@b.c
      first_name: A
      last_name: B
      employee_number: 00123
    - id: c@d.e
      first_name: C
      last_name: D
      employee_number:
rest_api:
  shutdown_timeout: 0.5
`, nil)
	if c.General.StoragePath != nil || c.General.ManualCalendarCheckInterval != 60 || c.Forms.Template != nil || !c.Forms.CCToCreator {
		t.Errorf("got %+v", c)
	}
	if got := c.ManualUsers.UserList; got[0].EmployeeNumber != "00123" || got[1].EmployeeNumber != "" {
		t.Errorf("employee numbers %+v", got)
	}
	if c.RESTAPI.ShutdownTimeout != 500*time.Millisecond {
		t.Errorf("shutdown timeout %v", c.RESTAPI.ShutdownTimeout)
	}
}

func TestListsReplaceLists(t *testing.T) {
	t.Parallel()
	file := `
offices:
  office_list:
    - {name: prague, id: prague@group.calendar.google.com}
    - {name: brno, id: brno@group.calendar.google.com}
`
	c := mustLoad(t, file, []string{`MOFFMAN_OFFICES__OFFICE_LIST=[{"name":"ostrava","id":"o@group.calendar.google.com"}]`})
	if want := []OfficeEntry{{Name: "ostrava", ID: "o@group.calendar.google.com"}}; !reflect.DeepEqual(c.Offices.OfficeList, want) {
		t.Errorf("office list %+v, want %+v", c.Offices.OfficeList, want)
	}
	// A map from the file replaces the default {}; one from the
	// environment replaces the file's.
	c = mustLoad(t, "forms:\n  email:\n    to: {a@b.c: A, c@d.e: C}\n", nil)
	if len(c.Forms.Email.To) != 2 {
		t.Errorf("to %v", c.Forms.Email.To)
	}
	c = mustLoad(t, "forms:\n  email:\n    to: {a@b.c: A, c@d.e: C}\n", []string{`MOFFMAN_FORMS__EMAIL__TO={"x@y.z":"X"}`})
	if !reflect.DeepEqual(c.Forms.Email.To, map[string]string{"x@y.z": "X"}) {
		t.Errorf("to %v", c.Forms.Email.To)
	}
	// A shift given whole replaces the default's units.
	c = mustLoad(t, "calendar:\n  checking_range:\n    min: {days: -10}\n", nil)
	if c.Calendar.CheckingRange.Min != (moffman.Shift{Days: -10}) {
		t.Errorf("min %+v", c.Calendar.CheckingRange.Min)
	}
	// A whole shift from an option replaces single units set below it.
	c = mustLoad(t, "", []string{"MOFFMAN_CALENDAR__CHECKING_RANGE__MIN__DAYS=-3"}, "--calendar--checking-range--min", `{"hours": -5}`)
	if c.Calendar.CheckingRange.Min != (moffman.Shift{Hours: -5}) {
		t.Errorf("min %+v", c.Calendar.CheckingRange.Min)
	}
}

func TestOcEnv(t *testing.T) {
	t.Parallel()
	file := `
general:
  storage_path: ${oc_env:STATE_DIR}/moffman.db
  manual_calendar_check_interval: ${oc_env:INTERVAL}
google_api:
  service_account_key_path: "${ oc_env : KEY_PATH }"
forms:
  email:
    to: {"${oc_env:OFFICE_MAIL}": Office}
rest_api:
  addr: "${oc_env:ADDR}"
offices:
  office_list: ${oc_env:OFFICES}
`
	env := []string{
		"STATE_DIR=/var/lib/moffman", "INTERVAL=60", "KEY_PATH=/k.json", "OFFICE_MAIL=office@acme.com",
		"ADDR=127.0.0.1", `OFFICES=[{"name": "${oc_env:NOT_AGAIN} 42", "id": "p@group.calendar.google.com"}]`,
	}
	c := mustLoad(t, file, env)
	if *c.General.StoragePath != "/var/lib/moffman/moffman.db" || c.General.ManualCalendarCheckInterval != 60 ||
		*c.GoogleAPI.ServiceAccountKeyPath != "/k.json" || c.Forms.Email.To["office@acme.com"] != "Office" ||
		c.RESTAPI.Addr != "127.0.0.1" || len(c.Offices.OfficeList) != 1 || c.Offices.OfficeList[0].Name != "${oc_env:NOT_AGAIN} 42" {
		t.Errorf("got %+v", c)
	}

	_, err := load(t, "general:\n  storage_path: ${oc_env:NOPE}/x\n", nil)
	wantProblems(t, err, "general.storage_path: environment variable NOPE is not set")

	// The defaults and the environment's own values are not substituted.
	c = mustLoad(t, "", []string{"MOFFMAN_GENERAL__STORAGE_PATH=${oc_env:X}"})
	if *c.General.StoragePath != "${oc_env:X}" {
		t.Errorf("storage_path %q", *c.General.StoragePath)
	}
}

func TestValidation(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		file string
		env  []string
		args []string
		want string
	}{
		{"type", "rest_api:\n  port: abc\n", nil, nil, `rest_api.port: expected an integer, got "abc"`},
		{"type env", "", []string{"MOFFMAN_REST_API__PORT=abc"}, nil, `rest_api.port: expected an integer, got "abc" (MOFFMAN_REST_API__PORT)`},
		{"type arg", "", nil, []string{"--rest-api--port", "1.5"}, `rest_api.port: expected an integer, got "1.5" (--rest-api--port)`},
		{"bool", "forms:\n  cc_to_creator: maybe\n", nil, nil, `forms.cc_to_creator: expected true or false, got "maybe"`},
		{"string", "rest_api:\n  addr: [a]\n", nil, nil, `rest_api.addr: expected a string, got a list`},
		{"null", "rest_api:\n  addr: null\n", nil, nil, `rest_api.addr: expected a string, got null`},
		{"section", "rest_api: 5\n", nil, nil, `rest_api: expected a mapping of keys, got 5`},
		{"top", "- a\n", nil, nil, `moffman.yaml: expected a mapping of keys, got a list`},
		{"yaml", "general: [\n", nil, nil, `moffman.yaml: yaml: `},
		{"duplicate key", "rest_api:\n  port: 1\n  port: 2\n", nil, nil, `rest_api.port: given twice`},
		{"unknown key", "rest_api:\n  prot: 9000\n", nil, nil, "rest_api.prot: unknown key; did you mean rest_api.port?"},
		{"unknown section", "rest_apii:\n  port: 9000\n", nil, nil, "rest_apii: unknown key; did you mean rest_api?"},
		{"unknown far", "colour: 1\n", nil, nil, "colour: unknown key ("},
		{"unknown env", "", []string{"MOFFMAN_REST_API__PROT=1"}, nil, "MOFFMAN_REST_API__PROT: unknown key; did you mean MOFFMAN_REST_API__PORT?"},
		{"unknown option", "", nil, []string{"--rest-api--prot", "1"}, "--rest-api--prot: unknown option; did you mean --rest-api--port?"},
		{"missing value", "", nil, []string{"--rest-api--port"}, "--rest-api--port: missing value"},
		{"stray argument", "", nil, []string{"9000"}, "9000: unexpected argument"},
		{"log level", "general:\n  log_level: verbose\n", nil, nil, `general.log_level: unknown level "verbose" (use DEBUG, INFO, WARNING, ERROR, CRITICAL)`},
		{"shift unit", "calendar:\n  checking_range:\n    min: {wekks: 1}\n", nil, nil, `calendar.checking_range.min: unknown unit "wekks" (use years, months, weeks, days, hours, minutes, seconds)`},
		{"shift value", "calendar:\n  checking_range:\n    min: {weeks: x}\n", nil, nil, `calendar.checking_range.min.weeks: expected an integer, got "x"`},
		{"shift type", "calendar:\n  end_date_corrective: -1\n", nil, nil, `calendar.end_date_corrective: expected a shift like {weeks: -1}, got -1`},
		{"shift json", "", []string{"MOFFMAN_CALENDAR__CHECKING_RANGE__MAX={"}, nil, `calendar.checking_range.max: expected a shift like {weeks: -1} in JSON`},
		{"range order", "calendar:\n  checking_range:\n    min: {weeks: 2}\n    max: {weeks: 1}\n", nil, nil, "calendar.checking_range: min must come before max"},
		{"date format", "forms:\n  date_format: QQ\n", nil, nil, "forms.date_format: "},
		{"attachment date format", "forms:\n  attachment_date_format: Q\n", nil, nil, "forms.attachment_date_format: "},
		{"calendar date format", "calendar:\n  date_format: Q\n", nil, nil, "calendar.date_format: "},
		{"subject", "forms:\n  email:\n    subject: '{bogus}'\n", nil, nil, "forms.email.subject: "},
		{"contents", "forms:\n  email:\n    contents: '{user_name'\n", nil, nil, "forms.email.contents: "},
		{"attachments", "forms:\n  email:\n    attachments: 'x}.pdf'\n", nil, nil, "forms.email.attachments: "},
		{"office no id", "offices:\n  office_list:\n    - {name: prague, id: p@g}\n    - {name: brno}\n", nil, nil, `offices.office_list[1]: office "brno" has no calendar id (key id)`},
		{"office no name", "offices:\n  office_list:\n    - {id: p@g}\n", nil, nil, `offices.office_list[0]: office has no name (key name)`},
		{"office twice", "offices:\n  office_list:\n    - {name: prague, id: a}\n    - {name: prague, id: b}\n", nil, nil, `offices.office_list[1]: office "prague" is listed twice (also offices.office_list[0])`},
		{"office key", "offices:\n  office_list:\n    - {nmae: prague, id: a}\n", nil, nil, `offices.office_list[0].nmae: unknown key; did you mean name?`},
		{"office item", "offices:\n  office_list: [prague]\n", nil, nil, `offices.office_list[0]: expected a mapping, got "prague"`},
		{"office list", "offices:\n  office_list: {name: prague}\n", nil, nil, `offices.office_list: expected a list of offices, got a mapping`},
		{"capacity word", "offices:\n  office_list:\n    - {name: prague, id: a, capacity: many}\n", nil, nil, `offices.office_list[0].capacity: expected an integer, got "many"`},
		{"capacity negative", "offices:\n  office_list:\n    - {name: prague, id: a, capacity: -1}\n", nil, nil, `offices.office_list[0].capacity: must be 0 or more desks (empty: unlimited), got -1`},
		{"closure dates", "offices:\n  closures:\n    - {office: prague, from: 2025-12-24, to: 2025-12-24}\n", nil, nil, `offices.closures[0].to: must be after from (2025-12-24)`},
		{"closure bad date", "offices:\n  closures:\n    - {office: prague, from: 24.12.2025, to: 2025-12-25}\n", nil, nil, `offices.closures[0].from: from must be a real date`},
		{"closure office", "offices:\n  closures:\n    - {from: 2025-12-24, to: 2025-12-25}\n", nil, nil, `offices.closures[0].office: closure has no office name`},
		{"closure key", "offices:\n  closures:\n    - {office: prague, form: 2025-12-24, to: 2025-12-25}\n", nil, nil, `offices.closures[0].form: unknown key; did you mean from?`},
		{"waitlisted colour", "calendar:\n  colors:\n    waitlisted: 12\n", nil, nil, `calendar.colors.waitlisted: Google event colours are 1 to 11, got 12`},
		{"user no id", "manual_users:\n  user_list:\n    - {first_name: A}\n", nil, nil, `manual_users.user_list[0]: user has no id`},
		{"user not e-mail", "manual_users:\n  user_list:\n    - {id: jan}\n", nil, nil, `manual_users.user_list[0].id: "jan" is not an e-mail address`},
		{"user twice", "manual_users:\n  user_list:\n    - {id: a@b.c}\n    - {id: A@b.c}\n", nil, nil, `manual_users.user_list[1]: user "A@b.c" is listed twice (also manual_users.user_list[0])`},
		{"colour low", "calendar:\n  colors:\n    approved: 0\n", nil, nil, "calendar.colors.approved: Google event colours are 1 to 11, got 0"},
		{"colour high", "", []string{"MOFFMAN_CALENDAR__COLORS__UNAPPROVED=12"}, nil, "calendar.colors.unapproved: Google event colours are 1 to 11, got 12"},
		{"port", "rest_api:\n  port: 65536\n", nil, nil, "rest_api.port: must be 0 to 65535, got 65536"},
		{"port negative", "", nil, []string{"--rest-api--port=-1"}, "rest_api.port: must be 0 to 65535, got -1"},
		{"addr with port", "", nil, []string{"--rest-api--addr", "localhost:80"}, `rest_api.addr: expected an IP address such as 127.0.0.1, 0.0.0.0 or ::, or a host name, without a port (that is rest_api.port), got "localhost:80"`},
		{"addr not an address", "", nil, []string{"--rest-api--addr", "999.1.1.1"}, `rest_api.addr: expected an IP address`},
		{"forms.url relative", "", nil, []string{"--forms--url", "byroapi.local/api"}, `forms.url: expected the absolute http(s) URL of the Byroapi endpoint`},
		{"public_url", "", nil, []string{"--rest-api--public-url", "moffman.example.com"}, `rest_api.public_url: expected the absolute http(s) URL people reach the service at`},
		{"trusted_proxies", "", nil, []string{"--rest-api--trusted-proxies", `["10.0.0.0/8", "10.0.0.1"]`}, `rest_api.trusted_proxies[1]: expected a CIDR such as 10.0.0.0/8`},
		{"trusted_proxies type", "", nil, []string{"--rest-api--trusted-proxies", `{"a": 1}`}, `rest_api.trusted_proxies: expected a list of strings`},
		{"tls half", "", nil, []string{"--rest-api--tls--cert-file", "/c.pem"}, `rest_api.tls: cert_file is set but key_file is not`},
		{"tls unreadable", "", nil, []string{"--rest-api--tls--cert-file", "/nonexistent/c.pem", "--rest-api--tls--key-file", "/nonexistent/k.pem"}, `rest_api.tls.cert_file: cannot read the certificate`},
		{"interval", "general:\n  manual_calendar_check_interval: 0\n", nil, nil, "general.manual_calendar_check_interval: must be greater than 0, got 0"},
		{"update interval", "offices:\n  google_config: {sheet_id: s, range: r, update_interval: -5}\n", nil, nil, "offices.google_config.update_interval: must be greater than 0, got -5"},
		{"max days", "calendar:\n  max_reservation_days: 0\n", nil, nil, "calendar.max_reservation_days: must be greater than 0, got 0"},
		{"shutdown", "rest_api:\n  shutdown_timeout: -1\n", nil, nil, "rest_api.shutdown_timeout: must be greater than 0, got -1"},
		{"form timeout", "forms:\n  timeout: 0\n", nil, nil, "forms.timeout: must be greater than 0 seconds, got 0"},
		{"sheet without range", "manual_users:\n  google_config:\n    sheet_id: s\n", nil, nil, "manual_users.google_config: sheet_id is set but range is not"},
		{"range without sheet", "offices:\n  google_config:\n    range: A1:B\n", nil, nil, "offices.google_config: range is set but sheet_id is not"},
		{"endpoint relative", "google_api:\n  calendar_endpoint: /calendar/v3/\n", nil, nil, `google_api.calendar_endpoint: expected an absolute http(s) URL ending in "/", got "/calendar/v3/"`},
		{"endpoint slash", "google_api:\n  sheets_endpoint: http://127.0.0.1:1/x\n", nil, nil, `google_api.sheets_endpoint: expected an absolute http(s) URL ending in "/"`},
		{"endpoint scheme", "google_api:\n  sheets_endpoint: ftp://x/\n", nil, nil, `google_api.sheets_endpoint: expected an absolute http(s) URL`},
		{"token no name", "rest_api:\n  tokens:\n    - {token: 0123456789abcdef, scopes: [read]}\n", nil, nil, "rest_api.tokens[0]: token has no name (key name)"},
		{"token neither", "rest_api:\n  tokens:\n    - {name: a, scopes: [read]}\n", nil, nil, `rest_api.tokens[0]: token "a" has neither token nor token_sha256`},
		{"token both", "rest_api:\n  tokens:\n    - {name: a, token: 0123456789abcdef, token_sha256: " + strings.Repeat("a", 64) + ", scopes: [read]}\n", nil, nil, `rest_api.tokens[0]: token "a" has both token and token_sha256; give one`},
		{"token sha", "rest_api:\n  tokens:\n    - {name: a, token_sha256: abc, scopes: [read]}\n", nil, nil, `rest_api.tokens[0].token_sha256: token "a": expected 64 hex digits (a SHA-256)`},
		{"token sha hex", "rest_api:\n  tokens:\n    - {name: a, token_sha256: " + strings.Repeat("g", 64) + ", scopes: [read]}\n", nil, nil, `rest_api.tokens[0].token_sha256: token "a": expected 64 hex digits`},
		{"token scope", "rest_api:\n  tokens:\n    - {name: a, token: 0123456789abcdef, scopes: [read, god]}\n", nil, nil, `rest_api.tokens[0].scopes: token "a": unknown scope "god" (use read, write, admin, feed)`},
		{"token no scopes", "rest_api:\n  tokens:\n    - {name: a, token: 0123456789abcdef, scopes: []}\n", nil, nil, `rest_api.tokens[0].scopes: token "a" has no scopes`},
		{"token short", "rest_api:\n  tokens:\n    - {name: a, token: short, scopes: [read]}\n", nil, nil, `rest_api.tokens[0].token: token "a" is too short: use at least 16 characters`},
		{"token name twice", "rest_api:\n  tokens:\n    - {name: a, token: 0123456789abcdef, scopes: [read]}\n    - {name: a, token: 0123456789abcdeF, scopes: [read]}\n", nil, nil, `rest_api.tokens[1]: token name "a" is used twice (also rest_api.tokens[0])`},
		{"token twice", "rest_api:\n  tokens:\n    - {name: a, token: 0123456789abcdef, scopes: [read]}\n    - {name: b, token_sha256: 9F9F5111F7B27A781F1F1DDDE5EBC2DD2B796BFC7365C9C28B548E564176929F, scopes: [read]}\n", nil, nil, `rest_api.tokens[1]: token "b" has the same secret as rest_api.tokens[0]`},
		{"token key", "rest_api:\n  tokens:\n    - {name: a, tokn: 0123456789abcdef, scopes: [read]}\n", nil, nil, `rest_api.tokens[0].tokn: unknown key; did you mean token?`},
		{"map", "forms:\n  email:\n    to: [a]\n", nil, nil, `forms.email.to: expected a mapping of e-mail to name, got a list`},
		{"list json", "", []string{"MOFFMAN_OFFICES__OFFICE_LIST=prague"}, nil, `offices.office_list: expected a list of offices, got "prague"`},
	} {
		_, err := load(t, tc.file, tc.env, tc.args...)
		t.Run(tc.name, func(t *testing.T) { wantProblems(t, err, tc.want) })
	}
}

// Every problem is reported, each on its own line starting with its key.
func TestAllProblems(t *testing.T) {
	t.Parallel()
	_, err := load(t, `
general:
  log_level: loud
  manual_calendar_check_interval: -1
rest_api:
  prot: 1
calendar:
  colors: {approved: 99}
offices:
  office_list:
    - {name: brno}
    - {nmae: ostrava, id: o@group.calendar.google.com}
`, []string{"MOFFMAN_REST_API__PORT=abc", "MOFFMAN_NOPE=1"}, "--forms--cc-to-creator", "perhaps")
	want := []string{
		"general.log_level:", "general.manual_calendar_check_interval:", "rest_api.prot:",
		"calendar.colors.approved:", "offices.office_list[0]: office \"brno\" has no calendar id",
		"offices.office_list[1].nmae: unknown key", "offices.office_list[1]: office has no name",
		"rest_api.port:", "MOFFMAN_NOPE:", "forms.cc_to_creator:",
	}
	wantProblems(t, err, want...)
	if n := len(strings.Split(err.Error(), "\n")); n != len(want) {
		t.Errorf("%d lines, want %d:\n%v", n, len(want), err)
	}
}

func TestMissingFile(t *testing.T) {
	t.Parallel()
	_, err := Load(LoadOptions{File: filepath.Join(t.TempDir(), "nope.yaml")})
	if moffman.ErrorCode(err) != moffman.Invalid || !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("got %v", err)
	}
}

// pythonConfig is ../testdata/python_config.yaml, a configuration as
// deployments of the Python service wrote it.
func pythonConfig(t testing.TB) string {
	t.Helper()
	b, err := os.ReadFile("../testdata/python_config.yaml")
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestPythonConfig(t *testing.T) {
	t.Parallel()
	got := mustLoad(t, pythonConfig(t), nil)
	want := wantDefaults()
	want.General = General{LogLevel: "WARNING", ManualCalendarCheckInterval: 3600, StoragePath: ptr("/var/lib/moffman/moffman_store.dbm")}
	want.GoogleAPI.ServiceAccountKeyPath = ptr("/etc/moffman/service_account.json")
	want.ManualUsers = ManualUsers{
		UserList: []User{
			{ID: "jan.novak@acme.com", FirstName: "Jan", LastName: "Novák", EmployeeNumber: "1234"},
			{ID: "petra.svobodova@acme.com", FirstName: "Petra", LastName: "Svobodová", EmployeeNumber: "0042"},
		},
		GoogleConfig: SheetSource{SheetID: ptr("1BxiMVs0XRA5nFMdKvBdBZjgmUUqptlbs74OgvE2upms"), Range: ptr("Manual users!A2:D"), UpdateInterval: ptr(3600)},
	}
	want.Offices.OfficeList = []OfficeEntry{
		{Name: "prague", ID: "c_prague@group.calendar.google.com"},
		{Name: "brno", ID: "c_brno@group.calendar.google.com"},
	}
	want.Forms = Forms{
		Template: ptr("attendance_form"), URL: ptr("http://byroapi:8080/api/v1/form"),
		DateFormat: "DD.MM.YYYY", AttachmentDateFormat: "YYYY-MM-DD", CCToCreator: false, Timeout: 120 * time.Second,
		Email: Email{
			From:        map[string]string{"moffman@acme.com": "Moffman"},
			To:          map[string]string{"office@acme.com": "Office"},
			CC:          map[string]string{},
			Subject:     "Some office attendance - {user_name} ({date_from} - {date_to})",
			Contents:    "Hey, here's the form regarding someone's office attendance ({user_name}: {date_from} - {date_to}).\n\nThanks,\nJosef",
			Attachments: ptr("attendance_{user_name}_{date_from_attachment}.pdf"),
		},
	}
	want.Calendar.Colors.Approved = 10
	want.Calendar.CheckingRange = CheckingRange{Min: moffman.Shift{Weeks: -2}, Max: moffman.Shift{Weeks: 4}}
	want.RESTAPI.Addr, want.RESTAPI.Port = "127.0.0.1", 8081
	if !reflect.DeepEqual(got, want) {
		t.Errorf("\n got %+v\nwant %+v", got, want)
	}
	if !got.ManualUsers.GoogleConfig.Enabled() || got.Offices.GoogleConfig.Enabled() {
		t.Error("Enabled")
	}
	l := got.DirectoryLists()
	if l.Offices[1] != (moffman.Office{Name: "brno", CalendarID: "c_brno@group.calendar.google.com"}) ||
		l.ManualUsers[0] != (moffman.Person{Email: "jan.novak@acme.com", FirstName: "Jan", LastName: "Novák", EmployeeNumber: "1234"}) {
		t.Errorf("DirectoryLists %+v", l)
	}
}

// The first Python versions listed users as {id, name}.
func TestLegacyUserName(t *testing.T) {
	t.Parallel()
	c := mustLoad(t, "manual_users:\n  user_list:\n    - {id: a@b.c, name: Jan Novák}\n", nil)
	if u := c.ManualUsers.UserList[0]; u.FirstName != "Jan" || u.LastName != "Novák" {
		t.Errorf("got %+v", u)
	}
}

func TestMasked(t *testing.T) {
	t.Parallel()
	secret := "s3cr3t-t0ken-0123456789"
	c := mustLoad(t, `
rest_api:
  tokens:
    - name: workflow
      token: ${oc_env:TOKEN}
      scopes: [write]
    - name: dashboard
      token_sha256: 9F86D081884C7D659A2FEAA0C55AD015A3BF4F1B2B0B822CD15D6C15B0F00A08
      scopes: [read, feed]
`, []string{"TOKEN=" + secret})
	if c.RESTAPI.Tokens[1].TokenSHA256 != "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08" {
		t.Errorf("sha256 not normalised: %q", c.RESTAPI.Tokens[1].TokenSHA256)
	}
	out, err := c.Masked()
	if err != nil {
		t.Fatal(err)
	}
	s := string(out)
	if strings.Contains(s, secret) || strings.Contains(strings.ToLower(s), "9f86d0") {
		t.Errorf("secret shown:\n%s", s)
	}
	for _, w := range []string{"token: '***'", "token_sha256: '***'", "name: workflow", "shutdown_timeout: 15", "port: 8080"} {
		if !strings.Contains(s, w) {
			t.Errorf("no %q in:\n%s", w, s)
		}
	}
}

// Masked output without secrets loads back into the same configuration.
func TestMaskedRoundTrip(t *testing.T) {
	t.Parallel()
	for _, file := range []string{"", pythonConfig(t), "rest_api:\n  shutdown_timeout: 2.5\ncalendar:\n  end_date_corrective: {}\n"} {
		c := mustLoad(t, file, nil)
		out, err := c.Masked()
		if err != nil {
			t.Fatal(err)
		}
		back, err := load(t, string(out), nil)
		if err != nil {
			t.Fatalf("%v\n%s", err, out)
		}
		if !reflect.DeepEqual(back, c) {
			t.Errorf("round trip\n got %+v\nwant %+v\n%s", back, c, out)
		}
	}
}

func TestSplitArgs(t *testing.T) {
	t.Parallel()
	own, over := SplitArgs([]string{
		"--config", "a--b.yaml", "--rest-api--port", "9000", "--check-config", "--general--storage-path=x--y",
		"--config=c--d.yaml", "-v", "--forms--template", "--help", "--", "--rest-api--port", "1",
	})
	if want := []string{"--config", "a--b.yaml", "--check-config", "--config=c--d.yaml", "-v", "--help", "--", "--rest-api--port", "1"}; !slices.Equal(own, want) {
		t.Errorf("own %q, want %q", own, want)
	}
	if want := []string{"--rest-api--port", "9000", "--general--storage-path=x--y", "--forms--template"}; !slices.Equal(over, want) {
		t.Errorf("overrides %q, want %q", over, want)
	}
}

func TestSuggest(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		s    string
		want string
	}{
		{"rest_api.prot", "rest_api.port"},
		{"addr", "addr"},
		{"x", ""},
		{"completely_different", ""},
	} {
		if got := suggest(tc.s, []string{"rest_api.port", "addr", "general"}); got != tc.want {
			t.Errorf("suggest(%q) = %q, want %q", tc.s, got, tc.want)
		}
	}
}

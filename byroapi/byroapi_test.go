package byroapi

import (
	"context"
	"encoding/json"
	"errors"
	"maps"
	"net/http"
	"os"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/moffman/moffman"
	"github.com/moffman/moffman/byroapi/byroapitest"
)

// vectors is shared/testdata/form_templates.json, as the Python service
// rendered it.
type vectors struct {
	SanitizeFilename []struct{ In, Out string } `json:"sanitize_filename"`
	TemplateContext  map[string]string          `json:"template_context"`
	Templates        []struct {
		Template, Out string
	} `json:"templates"`
	Rejected []string `json:"templates_that_must_be_rejected_at_startup"`
}

func loadVectors(t *testing.T) vectors {
	t.Helper()
	data, err := os.ReadFile("../testdata/form_templates.json")
	if err != nil {
		t.Fatal(err)
	}
	var v vectors
	if err := json.Unmarshal(data, &v); err != nil {
		t.Fatal(err)
	}
	if len(v.Templates) == 0 || len(v.SanitizeFilename) == 0 || len(v.Rejected) == 0 {
		t.Fatal("form_templates.json has no vectors")
	}
	return v
}

func TestTemplateVectors(t *testing.T) {
	v := loadVectors(t)
	for _, tt := range v.Templates {
		if err := ValidateTemplate("forms.email.subject", tt.Template); err != nil {
			t.Errorf("ValidateTemplate(%q): %v", tt.Template, err)
			continue
		}
		tmpl, _ := parseTemplate("forms.email.subject", tt.Template)
		got, err := tmpl.Execute(v.TemplateContext)
		if err != nil || got != tt.Out {
			t.Errorf("Execute(%q) = %q, %v; want %q", tt.Template, got, err, tt.Out)
		}
	}
}

func TestRejectedTemplateVectors(t *testing.T) {
	v := loadVectors(t)
	for _, tmpl := range v.Rejected {
		err := ValidateTemplate("forms.email.contents", tmpl)
		if err == nil {
			t.Errorf("ValidateTemplate(%q) = nil; want an error", tmpl)
			continue
		}
		if !strings.HasPrefix(err.Error(), "forms.email.contents: ") || !moffman.IsCode(err, moffman.Invalid) {
			t.Errorf("ValidateTemplate(%q) = %v (%s); want an Invalid error naming the key", tmpl, err, moffman.ErrorCode(err))
		}
	}
	err := ValidateTemplate("forms.email.subject", "{unknown_var}")
	if want := "forms.email.subject: unknown variable {unknown_var}; known: id, first_name"; err == nil || !strings.HasPrefix(err.Error(), want) {
		t.Errorf("ValidateTemplate = %v; want %q…", err, want)
	}
}

func TestSanitizeFilenameVectors(t *testing.T) {
	v := loadVectors(t)
	for _, tt := range v.SanitizeFilename {
		if got := SanitizeFilename(tt.In); got != tt.Out {
			t.Errorf("SanitizeFilename(%q) = %q; want %q", tt.In, got, tt.Out)
		}
	}
	// More cases of os.path.splitext, checked in Python.
	for in, want := range map[string]string{
		"a/.b": "a--b", "a/..b.c": "a---b.c", "...": "---", "a.": "a.", ".a.b": "-a.b", "": "", "/": "-",
	} {
		if got := SanitizeFilename(in); got != want {
			t.Errorf("SanitizeFilename(%q) = %q; want %q", in, got, want)
		}
	}
}

func TestValidateDateFormat(t *testing.T) {
	if err := ValidateDateFormat("forms.date_format", "D. MMMM YYYY"); err != nil {
		t.Error(err)
	}
	err := ValidateDateFormat("forms.date_format", "dd.mm.yyyy")
	if err == nil || !strings.HasPrefix(err.Error(), "forms.date_format: column ") || !moffman.IsCode(err, moffman.Invalid) {
		t.Errorf("ValidateDateFormat = %v; want an Invalid error naming the key", err)
	}
}

func ptr(s string) *string { return &s }

var (
	jan = moffman.Person{Email: "jan.novak@acme.com", FirstName: "Jan", LastName: "Novák", EmployeeNumber: "1234"}
	// A one-day visit on Monday 4 July 2022, written on Friday 1 July. The
	// creator's e-mail is spelled as the calendar has it.
	visit = moffman.Event{
		ID: "ev1", Start: "2022-07-04", End: "2022-07-05", CreatorEmail: "Jan.Novak@acme.com",
		Updated: time.Date(2022, 7, 1, 9, 30, 0, 0, time.UTC),
	}
)

func fullConfig(url string) Config {
	return Config{
		Template:          "attendance.pdf",
		URL:               url,
		CCToCreator:       true,
		EndDateCorrective: moffman.Shift{Days: -1}, // the configuration's default
		From:              map[string]string{"office@acme.com": "Office"},
		To:                map[string]string{"hr@acme.com": "HR"},
		CC:                map[string]string{"boss@acme.com": "Boss"},
		Subject:           "Some office attendance - {user_name} ({date_from} - {date_to})",
		Contents:          "{first_name} {last_name} ({employee_number}, {id}) approved {date_approved}. {{ok}}",
		Attachments:       ptr("attendance/{last_name}.{date_from_attachment}.pdf"),
	}
}

const fullBody = `{
  "template": "attendance.pdf",
  "form_data": {"user_id": "Jan.Novak@acme.com", "date_from": "04.07.2022", "date_to": "04.07.2022", "date_approved": "01.07.2022"},
  "result": {
    "download": false,
    "email": {
      "from": {"office@acme.com": "Office"},
      "to": {"hr@acme.com": "HR"},
      "cc": {"boss@acme.com": "Boss", "Jan.Novak@acme.com": "Jan Novák"},
      "subject": "Some office attendance - Jan Novák (04.07.2022 - 04.07.2022)",
      "contents": "Jan Novák (1234, jan.novak@acme.com) approved 01.07.2022. {ok}",
      "attachments": "attendance-Novák-2022-07-04.pdf"
    }
  }
}`

func newClient(t *testing.T, cfg Config) *Client {
	t.Helper()
	c, err := New(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// requestJSON builds the request and decodes its JSON into plain values.
func requestJSON(t *testing.T, c *Client, p moffman.Person, ev moffman.Event) map[string]any {
	t.Helper()
	req, err := c.Request(p, ev)
	if err != nil {
		t.Fatal(err)
	}
	data, err := json.Marshal(req)
	if err != nil {
		t.Fatal(err)
	}
	return decode(t, data)
}

func decode(t *testing.T, data []byte) map[string]any {
	t.Helper()
	var v map[string]any
	if err := json.Unmarshal(data, &v); err != nil {
		t.Fatalf("%v in %s", err, data)
	}
	return v
}

func email(v map[string]any) map[string]any {
	return v["result"].(map[string]any)["email"].(map[string]any)
}

func TestRequestFullExample(t *testing.T) {
	cfg := fullConfig("http://byroapi.test/fill")
	c := newClient(t, cfg)
	got := requestJSON(t, c, jan, visit)
	if want := decode(t, []byte(fullBody)); !reflect.DeepEqual(got, want) {
		t.Errorf("request\n got %v\nwant %v", got, want)
	}
	if len(cfg.CC) != 1 {
		t.Errorf("the configured cc was changed: %v", cfg.CC)
	}
	// A second request must not see the first creator in cc.
	other := visit
	other.CreatorEmail = "eva@acme.com"
	cc := email(requestJSON(t, c, jan, other))["cc"]
	if want := map[string]any{"boss@acme.com": "Boss", "eva@acme.com": "Jan Novák"}; !reflect.DeepEqual(cc, want) {
		t.Errorf("cc = %v; want %v", cc, want)
	}
}

func TestRequestCCToCreatorOff(t *testing.T) {
	cfg := fullConfig("http://byroapi.test/fill")
	cfg.CCToCreator = false
	cc := email(requestJSON(t, newClient(t, cfg), jan, visit))["cc"]
	if want := map[string]any{"boss@acme.com": "Boss"}; !reflect.DeepEqual(cc, want) {
		t.Errorf("cc = %v; want %v", cc, want)
	}
}

func TestRequestEmptyAddressesAreObjects(t *testing.T) {
	for _, ccToCreator := range []bool{false, true} {
		cfg := Config{Template: "t", URL: "https://byroapi.test/", CCToCreator: ccToCreator}
		e := email(requestJSON(t, newClient(t, cfg), jan, visit))
		for _, key := range []string{"from", "to", "cc"} {
			if _, ok := e[key].(map[string]any); !ok {
				t.Errorf("cc_to_creator %v: %s = %#v; want an object", ccToCreator, key, e[key])
			}
		}
	}
}

func TestRequestAttachments(t *testing.T) {
	tests := []struct {
		attachments *string
		want        any
	}{
		{nil, nil},
		{ptr(""), ""},
		{ptr("form_{user_name}_{date_from}.pdf"), "form_Jan Novák_04-07-2022.pdf"},
		{ptr("{date_from}"), "04-07.2022"}, // ".2022" is the extension to splitext
	}
	for _, tt := range tests {
		cfg := fullConfig("http://byroapi.test/")
		cfg.Attachments = tt.attachments
		e := email(requestJSON(t, newClient(t, cfg), jan, visit))
		if got, ok := e["attachments"]; !ok || got != tt.want {
			t.Errorf("attachments %v: got %#v (present %v); want %#v", tt.attachments, got, ok, tt.want)
		}
	}
}

func TestDateApproved(t *testing.T) {
	start := "2022-07-04" // from = 2022-07-04 00:00 UTC
	prague := time.FixedZone("CEST", 2*3600)
	tests := []struct {
		name    string
		updated time.Time
		want    string // DD.MM.YYYY HH:mm
	}{
		{"days before start: unchanged", time.Date(2022, 6, 20, 15, 4, 0, 0, time.UTC), "20.06.2022 15:04"},
		{"just before start: unchanged", time.Date(2022, 7, 3, 23, 59, 59, 0, time.UTC), "03.07.2022 23:59"},
		{"exactly at start: unchanged", time.Date(2022, 7, 4, 0, 0, 0, 0, time.UTC), "04.07.2022 00:00"},
		{"start day, later: day before", time.Date(2022, 7, 4, 10, 0, 0, 0, time.UTC), "03.07.2022 10:00"},
		{"a day after: day before start", time.Date(2022, 7, 5, 0, 0, 0, 0, time.UTC), "03.07.2022 00:00"},
		{"days after: day before start", time.Date(2022, 7, 9, 18, 30, 0, 0, time.UTC), "03.07.2022 18:30"},
		{"months after", time.Date(2022, 9, 1, 7, 0, 0, 0, time.UTC), "03.07.2022 07:00"},
		{"compared in UTC", time.Date(2022, 7, 4, 1, 0, 0, 0, prague), "03.07.2022 23:00"},
		{"shifted in UTC", time.Date(2022, 7, 4, 23, 0, 0, 0, prague), "03.07.2022 21:00"},
	}
	cfg := fullConfig("http://byroapi.test/")
	cfg.DateFormat = "DD.MM.YYYY HH:mm"
	c := newClient(t, cfg)
	for _, tt := range tests {
		ev := visit
		ev.Start, ev.Updated = start, tt.updated
		req, err := c.Request(jan, ev)
		if err != nil {
			t.Fatal(err)
		}
		if req.FormData.DateApproved != tt.want {
			t.Errorf("%s: date_approved = %q; want %q", tt.name, req.FormData.DateApproved, tt.want)
		}
	}
}

func TestEndDateCorrective(t *testing.T) {
	tests := []struct {
		shift      moffman.Shift
		start, end string
		want       string
	}{
		{moffman.Shift{}, "2022-07-04", "2022-07-05", "2022-07-05"}, // an explicit {days: 0} keeps the exclusive end
		{moffman.Shift{Days: -1}, "2022-07-04", "2022-07-08", "2022-07-07"},
		{moffman.Shift{Days: -1}, "2022-02-28", "2022-03-01", "2022-02-28"},
		{moffman.Shift{Days: -2}, "2022-07-04", "2022-07-08", "2022-07-06"},
		{moffman.Shift{Weeks: 1, Days: -1}, "2022-07-04", "2022-07-05", "2022-07-11"},
	}
	for _, tt := range tests {
		cfg := fullConfig("http://byroapi.test/")
		cfg.EndDateCorrective = tt.shift
		cfg.DateFormat = "YYYY-MM-DD"
		ev := visit
		ev.Start, ev.End = tt.start, tt.end
		req, err := newClient(t, cfg).Request(jan, ev)
		if err != nil {
			t.Fatal(err)
		}
		if req.FormData.DateTo != tt.want || req.FormData.DateFrom != tt.start {
			t.Errorf("%+v, %s..%s: date_from %s, date_to %s; want %s, %s", tt.shift, tt.start, tt.end,
				req.FormData.DateFrom, req.FormData.DateTo, tt.start, tt.want)
		}
	}
}

func TestDateFormats(t *testing.T) {
	cfg := fullConfig("http://byroapi.test/")
	cfg.DateFormat = "dddd [the] Do [of] MMMM YYYY"
	cfg.AttachmentDateFormat = "YYYYMMDD"
	cfg.Subject = "{date_from} / {date_from_attachment} / {date_to_attachment} / {date_approved_attachment}"
	req, err := newClient(t, cfg).Request(jan, visit)
	if err != nil {
		t.Fatal(err)
	}
	want := "Monday the 4th of July 2022 / 20220704 / 20220704 / 20220701"
	if got := req.Result.Email.Subject; got != want {
		t.Errorf("subject = %q; want %q", got, want)
	}
}

func TestRequestBadDates(t *testing.T) {
	c := newClient(t, fullConfig("http://byroapi.test/"))
	for _, ev := range []moffman.Event{{Start: "04.07.2022", End: "2022-07-05"}, {Start: "2022-07-04", End: ""}} {
		if _, err := c.Request(jan, ev); !moffman.IsCode(err, moffman.Invalid) {
			t.Errorf("Request(%+v) = %v; want Invalid", ev, err)
		}
	}
}

func TestNewErrorsNameTheKey(t *testing.T) {
	tests := []struct {
		change func(*Config)
		key    string
	}{
		{func(c *Config) { c.Template = "" }, "forms.template"},
		{func(c *Config) { c.URL = "" }, "forms.url"},
		{func(c *Config) { c.URL = "byroapi.test/fill" }, "forms.url"},
		{func(c *Config) { c.URL = "ftp://byroapi.test/" }, "forms.url"},
		{func(c *Config) { c.DateFormat = "yyyy" }, "forms.date_format"},
		{func(c *Config) { c.AttachmentDateFormat = "[YYYY" }, "forms.attachment_date_format"},
		{func(c *Config) { c.Subject = "{user}" }, "forms.email.subject"},
		{func(c *Config) { c.Contents = "{user_name" }, "forms.email.contents"},
		{func(c *Config) { c.Attachments = ptr("a}.pdf") }, "forms.email.attachments"},
	}
	for _, tt := range tests {
		cfg := fullConfig("http://byroapi.test/")
		tt.change(&cfg)
		_, err := New(cfg, nil)
		if err == nil || !strings.HasPrefix(err.Error(), tt.key) || !moffman.IsCode(err, moffman.Invalid) {
			t.Errorf("New with bad %s = %v; want an Invalid error naming it", tt.key, err)
		}
	}
}

// serve starts a fake Byroapi answering status and body, and a client of it.
func serve(t *testing.T, status int, body string) (*Client, *byroapitest.Server) {
	t.Helper()
	fake := byroapitest.Start(t)
	if status != http.StatusOK {
		fake.Fail(status, body)
	}
	c, err := New(fullConfig(fake.URL), fake.Client())
	if err != nil {
		t.Fatal(err)
	}
	return c, fake
}

func TestIssueFormDelivers(t *testing.T) {
	c, fake := serve(t, http.StatusOK, `{"status": "ok"}`)
	if err := c.IssueForm(context.Background(), jan, visit); err != nil {
		t.Fatal(err)
	}
	sent := fake.Delivered()
	if len(sent) != 1 || sent[0].Method != http.MethodPost || sent[0].ContentType != "application/json" {
		t.Fatalf("Byroapi received %+v; want one JSON POST", fake.Requests())
	}
	got := decode(t, sent[0].Body)
	if want := decode(t, []byte(fullBody)); !reflect.DeepEqual(got, want) {
		t.Errorf("Byroapi received\n %v\nwant %v", got, want)
	}
}

func TestIssueFormFailures(t *testing.T) {
	tests := []struct {
		status int
		code   moffman.Code
	}{
		{http.StatusInternalServerError, moffman.Unavailable},
		{http.StatusBadGateway, moffman.Unavailable},
		{http.StatusTooManyRequests, moffman.Unavailable},
		{http.StatusBadRequest, moffman.Upstream},
		{http.StatusNotFound, moffman.Upstream},
		{http.StatusCreated, moffman.Upstream}, // only 200 is success, as in Python
	}
	for _, tt := range tests {
		c, _ := serve(t, tt.status, "template attendance.pdf: field user_id\nis missing\n")
		err := c.IssueForm(context.Background(), jan, visit)
		if !moffman.IsCode(err, tt.code) {
			t.Errorf("status %d: %v (%s); want %s", tt.status, err, moffman.ErrorCode(err), tt.code)
			continue
		}
		msg := err.Error()
		if !strings.Contains(msg, http.StatusText(tt.status)) || !strings.Contains(msg, `field user_id\nis missing`) {
			t.Errorf("status %d: error %q lacks the status or the body", tt.status, msg)
		}
	}
}

func TestIssueFormLongBodyIsCut(t *testing.T) {
	c, _ := serve(t, http.StatusBadRequest, strings.Repeat("x", 100000))
	err := c.IssueForm(context.Background(), jan, visit)
	if err == nil || len(err.Error()) > 1000 {
		t.Errorf("error of %d bytes; want a short snippet", len(err.Error()))
	}
}

// hanging starts a Byroapi that never answers.
func hanging(t *testing.T) *Client {
	t.Helper()
	fake := byroapitest.Start(t)
	fake.Hang(true)
	c, err := New(fullConfig(fake.URL), fake.Client())
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestIssueFormDeadline(t *testing.T) {
	c := hanging(t)
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	err := c.IssueForm(ctx, jan, visit)
	if !moffman.IsCode(err, moffman.Unavailable) || !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("IssueForm = %v; want Unavailable with the deadline", err)
	}
}

func TestIssueFormCancel(t *testing.T) {
	c := hanging(t)
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(20*time.Millisecond, cancel)
	err := c.IssueForm(ctx, jan, visit)
	if !moffman.IsCode(err, moffman.Unavailable) || !errors.Is(err, context.Canceled) {
		t.Errorf("IssueForm = %v; want Unavailable, canceled", err)
	}
}

func TestIssueFormDefaultTimeout(t *testing.T) {
	c := hanging(t)
	c.timeout = 50 * time.Millisecond // DefaultTimeout, shortened for the test
	start := time.Now()
	err := c.IssueForm(context.Background(), jan, visit)
	if !moffman.IsCode(err, moffman.Unavailable) || !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("IssueForm = %v; want Unavailable with the deadline", err)
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("took %v", d)
	}
}

func TestIssueFormUnreachable(t *testing.T) {
	fake := byroapitest.New()
	fake.Close()
	c := newClient(t, fullConfig(fake.URL))
	if err := c.IssueForm(context.Background(), jan, visit); !moffman.IsCode(err, moffman.Unavailable) {
		t.Errorf("IssueForm = %v; want Unavailable", err)
	}
}

func TestConfigMapsAreCopied(t *testing.T) {
	cfg := fullConfig("http://byroapi.test/")
	before := maps.Clone(cfg.To)
	c := newClient(t, cfg)
	cfg.To["someone@acme.com"] = "Someone"
	req, err := c.Request(jan, visit)
	if err != nil {
		t.Fatal(err)
	}
	if !maps.Equal(req.Result.Email.To, before) {
		t.Errorf("to = %v; want %v", req.Result.Email.To, before)
	}
	req.Result.Email.From["x@acme.com"] = "X" // a caller changing a request
	req, _ = c.Request(jan, visit)
	if len(req.Result.Email.From) != 1 {
		t.Errorf("from = %v; a request's map is shared with the client", req.Result.Email.From)
	}
}

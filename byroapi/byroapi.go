// Package byroapi asks Byroapi, a form-filling service, to fill in the
// approval form for a manual attendance event and e-mail it.
//
// The request body, its dates and its e-mail texts are built exactly as the
// Python service built them, so existing Byroapi templates and
// configurations keep working: e-mail texts are Python str.format templates
// (internal/pyformat) and dates use Arrow tokens (internal/arrowfmt). Both
// are parsed once, in New, so that a mistake stops the start and not the
// first form.
package byroapi

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/http/httptrace"
	"net/url"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"github.com/moffman/moffman"
	"github.com/moffman/moffman/internal/arrowfmt"
	"github.com/moffman/moffman/internal/pyformat"
)

// Defaults used for empty Config fields, as in the Python service.
const (
	DefaultDateFormat           = "DD.MM.YYYY"
	DefaultAttachmentDateFormat = "YYYY-MM-DD"
	// DefaultTimeout bounds a form request when Config.Timeout is 0
	// (forms.timeout), so a hanging Byroapi cannot stall the manual-event
	// loop. Byroapi renders a PDF and sends an e-mail: give it time.
	DefaultTimeout = 120 * time.Second
)

// Config is the forms section of the configuration. Keys named in errors are
// the configuration keys (forms.*).
type Config struct {
	Template, URL                    string        // forms.template, forms.url: both required
	DateFormat, AttachmentDateFormat string        // Arrow layouts; "" means the default
	EndDateCorrective                moffman.Shift // calendar.end_date_corrective; zero keeps the end date
	CCToCreator                      bool          // forms.cc_to_creator
	From, To, CC                     map[string]string
	Subject, Contents                string
	// Attachments is formatted and sanitised when set and not empty; nil
	// and "" are sent as they are (null and ""), as Python did with a
	// falsy value.
	Attachments *string
	// Timeout bounds one form request (forms.timeout); 0 means
	// DefaultTimeout.
	Timeout time.Duration
}

// TemplateVars are the variables that e-mail templates may use.
var TemplateVars = []string{
	"id", "first_name", "last_name", "user_name", "employee_number",
	"date_from", "date_to", "date_approved",
	"date_from_attachment", "date_to_attachment", "date_approved_attachment",
}

// ValidateTemplate checks that tmpl is a template this package can render:
// valid syntax and only variables from TemplateVars. The error names key.
func ValidateTemplate(key, tmpl string) error {
	_, err := parseTemplate(key, tmpl)
	return err
}

func parseTemplate(key, tmpl string) (*pyformat.Template, error) {
	t, err := pyformat.Parse(tmpl)
	if err != nil {
		return nil, moffman.Errorf(moffman.Invalid, "%s: %v", key, err)
	}
	for _, name := range t.Fields() {
		if !slices.Contains(TemplateVars, name) {
			return nil, moffman.Errorf(moffman.Invalid, "%s: unknown variable {%s}; known: %s",
				key, name, strings.Join(TemplateVars, ", "))
		}
	}
	return t, nil
}

// ValidateDateFormat checks an Arrow date layout. The error names key.
func ValidateDateFormat(key, layout string) error {
	_, err := parseLayout(key, layout)
	return err
}

func parseLayout(key, layout string) (*arrowfmt.Layout, error) {
	l, err := arrowfmt.Parse(layout)
	if err != nil {
		return nil, moffman.Errorf(moffman.Invalid, "%s: %v", key, err)
	}
	return l, nil
}

// Client issues forms through Byroapi. It implements moffman.FormIssuer
// and is safe for concurrent use.
type Client struct {
	cfg     Config
	http    *http.Client
	timeout time.Duration

	dateFormat, attachmentFormat   *arrowfmt.Layout
	subject, contents, attachments *pyformat.Template // attachments nil: sent as configured
}

var _ moffman.FormIssuer = (*Client)(nil)

// New checks cfg and prepares its templates and layouts. A nil client means
// http.DefaultClient.
func New(cfg Config, client *http.Client) (*Client, error) {
	if cfg.Template == "" {
		return nil, moffman.Errorf(moffman.Invalid, "forms.template is required to issue forms")
	}
	if u, err := url.Parse(cfg.URL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, moffman.Errorf(moffman.Invalid, "forms.url must be an absolute http or https URL, got %q", cfg.URL)
	}
	if cfg.DateFormat == "" {
		cfg.DateFormat = DefaultDateFormat
	}
	if cfg.AttachmentDateFormat == "" {
		cfg.AttachmentDateFormat = DefaultAttachmentDateFormat
	}
	// Own copies, so the caller's maps can change without affecting us.
	cfg.From, cfg.To, cfg.CC = maps.Clone(cfg.From), maps.Clone(cfg.To), maps.Clone(cfg.CC)
	if client == nil {
		client = http.DefaultClient
	}
	c := &Client{cfg: cfg, http: client, timeout: DefaultTimeout}
	if cfg.Timeout > 0 {
		c.timeout = cfg.Timeout
	}
	var err error
	if c.dateFormat, err = parseLayout("forms.date_format", cfg.DateFormat); err != nil {
		return nil, err
	}
	if c.attachmentFormat, err = parseLayout("forms.attachment_date_format", cfg.AttachmentDateFormat); err != nil {
		return nil, err
	}
	if c.subject, err = parseTemplate("forms.email.subject", cfg.Subject); err != nil {
		return nil, err
	}
	if c.contents, err = parseTemplate("forms.email.contents", cfg.Contents); err != nil {
		return nil, err
	}
	if cfg.Attachments != nil && *cfg.Attachments != "" {
		if c.attachments, err = parseTemplate("forms.email.attachments", *cfg.Attachments); err != nil {
			return nil, err
		}
	}
	return c, nil
}

// Request is the JSON body Byroapi receives.
type Request struct {
	Template string   `json:"template"`
	FormData FormData `json:"form_data"`
	Result   Result   `json:"result"`
}

// FormData fills the form's fields.
type FormData struct {
	UserID       string `json:"user_id"`
	DateFrom     string `json:"date_from"`
	DateTo       string `json:"date_to"`
	DateApproved string `json:"date_approved"`
}

// Result tells Byroapi what to do with the filled form.
type Result struct {
	Download bool  `json:"download"`
	Email    Email `json:"email"`
}

// Email is the message carrying the form. Addresses map e-mail to display
// name and are never null.
type Email struct {
	From        map[string]string `json:"from"`
	To          map[string]string `json:"to"`
	CC          map[string]string `json:"cc"`
	Subject     string            `json:"subject"`
	Contents    string            `json:"contents"`
	Attachments *string           `json:"attachments"`
}

// Request builds the form request for person's manual event ev. It is pure,
// so the body can be checked without a server. Invalid when the event's
// dates are not YYYY-MM-DD.
func (c *Client) Request(person moffman.Person, ev moffman.Event) (Request, error) {
	from, err := moffman.ParseDate("event start", ev.Start)
	if err != nil {
		return Request{}, err
	}
	end, err := moffman.ParseDate("event end", ev.End)
	if err != nil {
		return Request{}, err
	}
	to := c.cfg.EndDateCorrective.Apply(end)
	approved := approvalTime(ev.Updated, from)

	vars := map[string]string{
		"id":              person.Email,
		"first_name":      person.FirstName,
		"last_name":       person.LastName,
		"user_name":       person.UserName(),
		"employee_number": person.EmployeeNumber,
	}
	for name, t := range map[string]time.Time{"date_from": from, "date_to": to, "date_approved": approved} {
		vars[name] = c.dateFormat.Format(t)
		vars[name+"_attachment"] = c.attachmentFormat.Format(t)
	}

	email := Email{
		From:        orEmpty(maps.Clone(c.cfg.From)),
		To:          orEmpty(maps.Clone(c.cfg.To)),
		CC:          orEmpty(maps.Clone(c.cfg.CC)),
		Attachments: c.cfg.Attachments,
	}
	if c.cfg.CCToCreator {
		email.CC[ev.CreatorEmail] = vars["user_name"]
	}
	// New let only known variables through and all are set, so Execute
	// cannot fail here; the checks guard against a future mismatch.
	if email.Subject, err = c.subject.Execute(vars); err != nil {
		return Request{}, moffman.WrapError(moffman.Internal, err, "forms.email.subject")
	}
	if email.Contents, err = c.contents.Execute(vars); err != nil {
		return Request{}, moffman.WrapError(moffman.Internal, err, "forms.email.contents")
	}
	if c.attachments != nil {
		name, err := c.attachments.Execute(vars)
		if err != nil {
			return Request{}, moffman.WrapError(moffman.Internal, err, "forms.email.attachments")
		}
		name = SanitizeFilename(name)
		email.Attachments = &name
	}

	return Request{
		Template: c.cfg.Template,
		FormData: FormData{
			UserID:       ev.CreatorEmail,
			DateFrom:     vars["date_from"],
			DateTo:       vars["date_to"],
			DateApproved: vars["date_approved"],
		},
		Result: Result{Download: false, Email: email},
	}, nil
}

// approvalTime is the approval date the form shows: the event's last update
// (in UTC), moved to the day before the visit when it is later than the
// visit's start, so the form shows an approval given in advance. As in the
// Python service, it moves back by (updated - from).days + 1 whole days,
// keeping the time of day.
func approvalTime(updated, from time.Time) time.Time {
	updated = updated.UTC()
	if !updated.After(from) {
		return updated
	}
	// from is midnight UTC, so flooring whole seconds gives timedelta.days.
	days := (updated.Unix() - from.Unix()) / (24 * 60 * 60)
	return updated.AddDate(0, 0, -int(days+1))
}

func orEmpty(m map[string]string) map[string]string {
	if m == nil {
		return map[string]string{}
	}
	return m
}

// IssueForm posts the form request to Byroapi. Only 200 is success.
// A request that Byroapi answered with an error was refused: Unavailable
// for 429 and 5xx, Upstream for other statuses, and so is one that never
// reached it (Unavailable). A request sent whose answer never came (the
// timeout, or the connection cut after the body was sent) has an unknown
// outcome: Byroapi may be sending the form. Its error wraps
// moffman.ErrOutcomeUnknown. The call is bounded by Config.Timeout.
func (c *Client) IssueForm(ctx context.Context, person moffman.Person, ev moffman.Event) error {
	req, err := c.Request(person, ev)
	if err != nil {
		return err
	}
	body, err := json.Marshal(req)
	if err != nil {
		return moffman.WrapError(moffman.Internal, err, "encoding the form request")
	}
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	var sent atomic.Bool // the whole request went out
	ctx = httptrace.WithClientTrace(ctx, &httptrace.ClientTrace{
		WroteRequest: func(info httptrace.WroteRequestInfo) { sent.Store(info.Err == nil) },
	})
	hreq, err := http.NewRequestWithContext(ctx, http.MethodPost, c.cfg.URL, bytes.NewReader(body))
	if err != nil {
		return moffman.WrapError(moffman.Internal, err, "building the form request")
	}
	hreq.Header.Set("Content-Type", "application/json")
	resp, err := c.http.Do(hreq)
	if err != nil && sent.Load() {
		return moffman.WrapError(moffman.Unavailable, fmt.Errorf("%w: %w", moffman.ErrOutcomeUnknown, err),
			"byroapi: no answer to the form for event %s (forms.timeout is %v); it may have been sent", ev.ID, c.timeout)
	}
	if err != nil {
		return moffman.WrapError(moffman.Unavailable, err, "byroapi: form for event %s not delivered", ev.ID)
	}
	defer resp.Body.Close()
	snippet, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10)) // lets the connection be reused
	if resp.StatusCode == http.StatusOK {
		return nil
	}
	code := moffman.Upstream
	if resp.StatusCode >= 500 || resp.StatusCode == http.StatusTooManyRequests {
		code = moffman.Unavailable
	}
	return moffman.Errorf(code, "byroapi answered %s to the form for event %s: %q",
		resp.Status, ev.ID, strings.TrimSpace(strings.ToValidUTF8(string(snippet), "\uFFFD")))
}

// SanitizeFilename makes an attachment name safe the way the Python service
// did: in the part before the extension (split as Python's os.path.splitext
// splits), "." and "/" become "-".
func SanitizeFilename(s string) string {
	root, ext := splitExt(s)
	return strings.NewReplacer(".", "-", "/", "-").Replace(root) + ext
}

// splitExt is posixpath.splitext: the extension starts at the last "."
// after the last "/", unless the name before it is only dots.
func splitExt(p string) (root, ext string) {
	sep := strings.LastIndexByte(p, '/')
	dot := strings.LastIndexByte(p, '.')
	if dot > sep {
		for i := sep + 1; i < dot; i++ {
			if p[i] != '.' {
				return p[:dot], p[dot:]
			}
		}
	}
	return p, ""
}

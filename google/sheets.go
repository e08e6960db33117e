package google

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"strings"

	"google.golang.org/api/googleapi"
	"google.golang.org/api/option"
	"google.golang.org/api/sheets/v4"

	"github.com/moffman/moffman"
)

// SheetRange is a range of a spreadsheet in A1 notation, e.g.
// {"1AbC…", "'Manual users'!A2:D"}. The zero value means not configured.
type SheetRange struct {
	SpreadsheetID string
	Range         string
}

func (r SheetRange) configured() bool { return r.SpreadsheetID != "" || r.Range != "" }

// Directory is moffman.DirectorySource over Google Sheets v4: offices and
// manual users are read from one range each.
type Directory struct {
	svc            *sheets.Service
	account        string
	tokens         *tokens
	offices, users SheetRange
	call           caller
	log            *slog.Logger
}

var _ moffman.DirectorySource = (*Directory)(nil)

// NewSheets builds the Sheets client once. A zero range contributes
// nothing to the lists; a half-configured one is refused.
func NewSheets(ctx context.Context, o Options, offices, users SheetRange) (*Directory, error) {
	for _, r := range []struct {
		key string
		r   SheetRange
	}{{"offices.google_config", offices}, {"manual_users.google_config", users}} {
		if r.r.configured() && (r.r.SpreadsheetID == "" || r.r.Range == "") {
			return nil, moffman.Errorf(moffman.Invalid, "%s needs both sheet_id and range", r.key)
		}
	}
	account, err := serviceAccount(o.KeyJSON)
	if err != nil {
		return nil, err
	}
	hc, tk, err := newHTTPClient(o, account, sheetsScope)
	if err != nil {
		return nil, err
	}
	svc, err := sheets.NewService(ctx, option.WithHTTPClient(hc),
		option.WithEndpoint(endpoint(o.SheetsEndpoint, DefaultSheetsEndpoint)))
	if err != nil {
		return nil, moffman.WrapError(moffman.Internal, err, "cannot build the Google Sheets client")
	}
	return &Directory{svc: svc, account: account, tokens: tk, offices: offices, users: users,
		call: newCaller("sheets", "Google Sheets", o), log: logger(o.Logger)}, nil
}

// Load reads both ranges (one values.get each). Rows lacking a required
// cell are skipped with a warning naming the row; any API failure fails
// the whole load, so the caller keeps its last good lists.
func (d *Directory) Load(ctx context.Context) (moffman.DirectoryLists, error) {
	var lists moffman.DirectoryLists
	if d.offices.configured() {
		rows, start, err := d.values(ctx, d.offices)
		if err != nil {
			return moffman.DirectoryLists{}, err
		}
		for i, row := range rows {
			name, cal := cell(row, 0), cell(row, 1)
			switch {
			case name == "" && cal == "":
				continue // an empty row
			case name == "" || cal == "":
				d.skip(ctx, start.at(i), "an office row needs the office name and the calendar id")
				continue
			}
			o := moffman.Office{Name: name, CalendarID: cal}
			if c := cell(row, 2); c != "" { // empty: unlimited
				n, err := strconv.Atoi(c)
				if err != nil || n < 0 {
					d.skip(ctx, start.at(i), fmt.Sprintf("the capacity %q is not a whole number of desks (0 or more; empty: unlimited)", c))
					continue
				}
				o.Capacity = &n
			}
			lists.Offices = append(lists.Offices, o)
		}
	}
	if d.users.configured() {
		rows, start, err := d.values(ctx, d.users)
		if err != nil {
			return moffman.DirectoryLists{}, err
		}
		for i, row := range rows {
			p := moffman.Person{Email: cell(row, 0), FirstName: cell(row, 1), LastName: cell(row, 2), EmployeeNumber: cell(row, 3)}
			switch {
			case p == moffman.Person{}:
				continue
			case p.Email == "" || p.FirstName == "" || p.LastName == "":
				d.skip(ctx, start.at(i), "a manual-user row needs the e-mail, first name and last name (the employee number is optional)")
				continue
			}
			if !moffman.IsEmail(p.Email) {
				d.skip(ctx, start.at(i), fmt.Sprintf("%q is not an e-mail address", p.Email))
				continue
			}
			lists.ManualUsers = append(lists.ManualUsers, p)
		}
	}
	return lists, nil
}

func (d *Directory) skip(ctx context.Context, at, why string) {
	d.log.WarnContext(ctx, "skipping a spreadsheet row", "row", at, "reason", why)
}

// values reads one range; the range goes to the client as given (it
// path-escapes it). The returned origin is the range's first cell as Google
// resolved it, for naming rows in warnings.
func (d *Directory) values(ctx context.Context, r SheetRange) ([][]any, origin, error) {
	var got *sheets.ValueRange
	what := fmt.Sprintf("range %q of spreadsheet %q", r.Range, r.SpreadsheetID)
	err := d.call.do(ctx, "spreadsheets.values.get", what, func(ctx context.Context, _ int) (err error) {
		got, err = d.svc.Spreadsheets.Values.Get(r.SpreadsheetID, r.Range).Context(ctx).Do()
		return err
	})
	if err != nil {
		return nil, origin{}, d.fail(err, what)
	}
	o, ok := parseOrigin(got.Range)
	if !ok {
		o, _ = parseOrigin(r.Range)
	}
	return got.Values, o, nil
}

// fail translates a final Sheets error. Everything but an outage is
// Upstream: the spreadsheet refused to be read, and an administrator must
// fix the sharing or the configured range.
func (d *Directory) fail(err error, what string) error {
	var me *moffman.Error
	if errors.As(err, &me) {
		return err
	}
	if cerr := credentialsRefused(err, d.account, "Google Sheets", "spreadsheets.values.get", what); cerr != nil {
		return cerr
	}
	var ge *googleapi.Error
	if !errors.As(err, &ge) {
		return moffman.WrapError(moffman.Upstream, err, "Google Sheets could not read %s", what)
	}
	gm := googleMessage(ge)
	switch ge.Code {
	case http.StatusBadRequest:
		return moffman.WrapError(moffman.Upstream, err, "Google Sheets refused %s (%s); check the configured range", what, gm)
	case http.StatusForbidden, http.StatusNotFound:
		if usageLimit(err) {
			return moffman.WrapError(moffman.Unavailable, err, "Google Sheets usage limits reached reading %s (%s); try again later", what, gm)
		}
		return moffman.WrapError(moffman.Upstream, err,
			"the service account %s cannot read %s (%s); check the sheet_id and share the spreadsheet with that e-mail",
			d.account, what, gm)
	}
	return moffman.WrapError(moffman.Upstream, err, "Google Sheets could not read %s (%s)", what, gm)
}

// cell returns row[i] trimmed; rows come back ragged, missing cells are "".
func cell(row []any, i int) string {
	if i >= len(row) || row[i] == nil {
		return ""
	}
	if s, ok := row[i].(string); ok {
		return strings.TrimSpace(s)
	}
	return strings.TrimSpace(fmt.Sprint(row[i]))
}

// origin is the first cell of a range: sheet name, column letters, row.
type origin struct {
	sheet string
	col   string
	row   int
}

// at names the i-th row of the range as a person finds it in the
// spreadsheet, e.g. "Manual users!A5".
func (o origin) at(i int) string {
	ref := o.col + strconv.Itoa(o.row+i)
	if o.sheet == "" {
		return ref
	}
	return o.sheet + "!" + ref
}

// parseOrigin reads the first cell of an A1 range such as
// "'Manual users'!A2:D1000", "Offices!A2:C" or "B3".
func parseOrigin(a1 string) (origin, bool) {
	sheet, cells := "", a1
	if strings.HasPrefix(a1, "'") {
		// 'It''s here'!A1: quotes are doubled inside a quoted name.
		i := 1
		var b strings.Builder
		for ; i < len(a1); i++ {
			if a1[i] == '\'' {
				if i+1 < len(a1) && a1[i+1] == '\'' {
					b.WriteByte('\'')
					i++
					continue
				}
				break
			}
			b.WriteByte(a1[i])
		}
		if i >= len(a1) {
			return origin{}, false
		}
		sheet, cells = b.String(), strings.TrimPrefix(a1[i+1:], "!")
	} else if n := strings.LastIndexByte(a1, '!'); n >= 0 {
		sheet, cells = a1[:n], a1[n+1:]
	}
	first, _, _ := strings.Cut(cells, ":")
	o := origin{sheet: sheet, col: "A", row: 1}
	letters := strings.TrimRight(first, "0123456789")
	digits := first[len(letters):]
	for _, c := range letters {
		if !(c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z') {
			return origin{}, false
		}
	}
	if letters != "" {
		o.col = strings.ToUpper(letters)
	}
	if digits != "" {
		n, err := strconv.Atoi(digits)
		if err != nil || n < 1 {
			return origin{}, false
		}
		o.row = n
	}
	return o, true
}

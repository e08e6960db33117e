package web

import (
	"bytes"
	"fmt"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/moffman/moffman"
	"github.com/moffman/moffman/internal/httpstatus"
	"github.com/moffman/moffman/internal/occupancy"
)

// The occupancy report's window: by default the last 4 weeks and the next
// 4 after this one, Monday to Sunday; at most about half a year, which
// still draws one bar per day legibly.
const (
	occupancyWeeksBack  = 4
	occupancyWeeksAhead = 4
	occupancyMaxDays    = 184
)

// occupancyPage is an office's approved attendance per day against its
// capacity, as a chart and as a table.
type occupancyPage struct {
	layout
	Office   string
	Offices  []link
	From, To string // the window [From, To), as the form sends it
	Heading  string // "2 Nov 2026 – 3 Jan 2027"
	Summary  string
	Chart    chart
	Days     []occupancyDay
	CSVURL   string
	APIPath  string // the same CSV for programs
	Week     string // the office's week page
	Capacity bool   // the office has a capacity on some day of the window
}

type occupancyDay struct {
	Date, Label                   string
	Capacity, Free                string // "" when unlimited
	Closed, Full                  bool
	Reason                        string
	Approved, Pending, Waitlisted int
}

func occupancyURL(office, from, to string) string {
	q := url.Values{"office": {office}}
	if from != "" || to != "" {
		q.Set("from", from)
		q.Set("to", to)
	}
	return "/occupancy?" + q.Encode()
}

// occupancyWindow is the window rule of the page and its CSV.
func (h *Handler) occupancyWindow() moffman.WindowRule {
	now := h.now()
	today := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, time.UTC)
	back := 7*occupancyWeeksBack + (int(today.Weekday())+6)%7 // from a Monday
	return moffman.WindowRule{MaxDays: occupancyMaxDays, Fill: 7 * (occupancyWeeksBack + 1 + occupancyWeeksAhead), Back: back, Today: today}
}

// occupancyDays reads the office and window of a request and the days'
// availability; when it cannot, it has answered with a page saying why.
func (h *Handler) occupancyDays(w http.ResponseWriter, r *http.Request) (office string, first, end time.Time, days []moffman.DayAvailability, ok bool) {
	offices := h.Directory.Offices()
	if len(offices) == 0 {
		h.message(w, r, http.StatusOK, "No offices yet", "No offices are configured. Add them to offices.office_list or to the offices spreadsheet.")
		return "", first, end, nil, false
	}
	q := r.URL.Query()
	office = q.Get("office")
	if office == "" {
		office = offices[0].Name
	}
	if _, known := h.Directory.Office(office); !known {
		links := make([]link, 0, len(offices))
		for _, o := range offices {
			links = append(links, link{Text: o.Name, URL: occupancyURL(o.Name, "", "")})
		}
		h.message(w, r, http.StatusNotFound, "Unknown office", fmt.Sprintf("There is no office %q. Choose one of these:", office), links...)
		return "", first, end, nil, false
	}
	first, end, err := moffman.ParseWindow(q.Get("from"), q.Get("to"), h.occupancyWindow())
	if err != nil {
		h.message(w, r, http.StatusBadRequest, "Not a window", moffman.ErrorMessage(err)+".",
			link{Text: "The last 4 and the next 4 weeks", URL: occupancyURL(office, "", "")})
		return "", first, end, nil, false
	}
	days, err = h.Reservations.Availability(r.Context(), office, first.Format(moffman.DateLayout), end.Format(moffman.DateLayout))
	if err != nil {
		status := httpstatus.Of(err)
		if status >= 500 {
			h.logger().ErrorContext(r.Context(), "occupancy failed", "office", office, "error", err)
		}
		h.message(w, r, status, "Cannot show the occupancy", moffman.ErrorMessage(err),
			link{Text: "Try again", URL: r.URL.RequestURI()})
		return "", first, end, nil, false
	}
	return office, first, end, days, true
}

func (h *Handler) occupancy(w http.ResponseWriter, r *http.Request) {
	if !h.signedIn(w, r) {
		return
	}
	office, first, end, days, ok := h.occupancyDays(w, r)
	if !ok {
		return
	}
	from, to := first.Format(moffman.DateLayout), end.Format(moffman.DateLayout)
	last := end.AddDate(0, 0, -1)
	page := occupancyPage{
		layout:  layout{CSS: h.css, SignedIn: h.Auth.Enabled()},
		Office:  office,
		From:    from,
		To:      to,
		Heading: dayRange(first, last),
		APIPath: "/api/v1/offices/" + url.PathEscape(office) + "/occupancy.csv?from=" + from + "&to=" + to,
		Week:    weekURL(office, ""),
	}
	page.Title = siteTitle(office + " occupancy, " + page.Heading)
	if h.Auth.Enabled() {
		// The API wants a bearer token; a browser has its cookie.
		page.CSVURL = "/occupancy.csv?" + url.Values{"office": {office}, "from": {from}, "to": {to}}.Encode()
	} else {
		page.CSVURL = h.PublicURL + page.APIPath
	}
	for _, o := range h.Directory.Offices() {
		page.Offices = append(page.Offices, link{Text: o.Name, URL: occupancyURL(o.Name, from, to), Current: o.Name == office})
	}
	now := h.now()
	today := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, time.UTC)
	for i, d := range days {
		date := first.AddDate(0, 0, i)
		v := occupancyDay{
			Date: d.Date, Label: date.Format("Mon 2 Jan"), Closed: d.Closed, Reason: d.Reason,
			Approved: d.Approved, Pending: d.Pending, Waitlisted: d.Waitlisted,
			Full: !d.Closed && d.Free != nil && *d.Free == 0,
		}
		if d.Capacity != nil {
			v.Capacity, page.Capacity = strconv.Itoa(*d.Capacity), true
		}
		if d.Free != nil {
			v.Free = strconv.Itoa(*d.Free)
		}
		page.Days = append(page.Days, v)
	}
	page.Summary = occupancySummary(office, page.Heading, days, first)
	page.Chart = drawChart(days, first, today)
	page.Chart.Title = "Desks taken per day in " + office + ", " + page.Heading
	page.Chart.Desc = page.Summary
	h.render(w, r, http.StatusOK, "occupancy", page)
}

// occupancyCSV is the API's CSV for a signed-in browser.
func (h *Handler) occupancyCSV(w http.ResponseWriter, r *http.Request) {
	if !h.signedIn(w, r) {
		return
	}
	office, first, end, days, ok := h.occupancyDays(w, r)
	if !ok {
		return
	}
	var buf bytes.Buffer
	if err := occupancy.WriteCSV(&buf, days); err != nil {
		h.logger().ErrorContext(r.Context(), "writing the occupancy CSV", "error", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	name := occupancy.Filename(office, first.Format(moffman.DateLayout), end.Format(moffman.DateLayout))
	w.Header().Set("Content-Type", occupancy.ContentType)
	w.Header().Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": name}))
	w.Header().Set("Cache-Control", "no-store")
	_, _ = w.Write(buf.Bytes())
}

// occupancySummary says in a sentence what the chart shows, for the
// chart's description and for those who skip it.
func occupancySummary(office, heading string, days []moffman.DayAvailability, first time.Time) string {
	most, mostDay, full, closed, limited := -1, 0, 0, 0, false
	for i, d := range days {
		if d.Approved > most {
			most, mostDay = d.Approved, i
		}
		if d.Closed {
			closed++
		} else if d.Free != nil && *d.Free == 0 {
			full++
		}
		limited = limited || d.Capacity != nil
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%s, %s (%d days): ", office, heading, len(days))
	on := first.AddDate(0, 0, mostDay).Format("Mon 2 Jan")
	if c := days[mostDay].Capacity; c != nil {
		fmt.Fprintf(&b, "at most %d of %d desks taken, on %s", most, *c, on)
	} else {
		fmt.Fprintf(&b, "at most %d people approved on a day, on %s", most, on)
	}
	if limited {
		fmt.Fprintf(&b, "; %s full", plural(full, "day"))
	} else {
		b.WriteString("; no capacity is set")
	}
	if closed > 0 {
		fmt.Fprintf(&b, "; closed on %s", plural(closed, "day"))
	}
	b.WriteString(".")
	return b.String()
}

func plural(n int, word string) string {
	if n == 1 {
		return "1 " + word
	}
	return strconv.Itoa(n) + " " + word + "s"
}

// dayRange names a span of days: "2 – 29 Nov 2026", "2 Nov – 3 Jan 2027".
func dayRange(first, last time.Time) string {
	if first.Equal(last) {
		return first.Format("2 Jan 2006")
	}
	return weekHeading(first, last)
}

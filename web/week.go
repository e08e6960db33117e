package web

import (
	"fmt"
	"net/http"
	"net/url"
	"time"

	"github.com/moffman/moffman"
	"github.com/moffman/moffman/internal/forwarded"
	"github.com/moffman/moffman/internal/httpstatus"
)

// weekPage is one office's week, Monday to Sunday.
type weekPage struct {
	layout
	Office        string
	Offices       []link
	Heading       string // "30 Nov – 6 Dec 2026"
	WeekNumber    int
	Prev, Next    string // "" at the ends of the date range
	Today         string
	IsCurrentWeek bool
	Days          []dayView
	FeedURL       string // the feed's link, when it needs no token
	FeedAddress   string // with tokens: the feed's absolute address, to which one adds ?token=
	Limited       bool   // the office has a capacity or closures
	Occupancy     string // the office's occupancy report
}

type dayView struct {
	Date       string // YYYY-MM-DD, also the element id's suffix
	Weekday    string // "Monday"
	Label      string // "30 Nov"
	Today      bool
	Weekend    bool
	People     []personView
	In         int // approved and pending: the people who mean to come
	Pending    int
	Waitlisted int
	// With a capacity: the desks taken (approved, and manual events given a
	// desk) of Capacity; Full when none is free.
	HasCapacity bool
	Capacity    int
	Taken       int
	Full        bool
	Closed      bool
	Reason      string // the closure's, when Closed
}

type personView struct {
	Name   string
	Status string // "approved", "pending" or "waitlisted": the class and the word read out
	Mark   string // the symbol that shows it without colour
}

// marks are the symbols of the statuses, so that none is told by colour alone.
var marks = map[moffman.State]string{moffman.StateApproved: "✓", moffman.StatePending: "…", moffman.StateWaitlisted: "○"}

func (h *Handler) week(w http.ResponseWriter, r *http.Request) {
	if !h.signedIn(w, r) {
		return
	}
	offices := h.Directory.Offices()
	if len(offices) == 0 {
		h.message(w, r, http.StatusOK, "No offices yet", "No offices are configured. Add them to offices.office_list or to the offices spreadsheet.")
		return
	}
	q := r.URL.Query()
	office := q.Get("office")
	if office == "" {
		office = offices[0].Name
	}
	if _, ok := h.Directory.Office(office); !ok {
		links := make([]link, 0, len(offices))
		for _, o := range offices {
			links = append(links, link{Text: o.Name, URL: weekURL(o.Name, "")})
		}
		h.message(w, r, http.StatusNotFound, "Unknown office", fmt.Sprintf("There is no office %q. Choose one of these:", office), links...)
		return
	}

	now := h.now()
	today := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, time.UTC)
	day := today
	week := q.Get("week")
	if week != "" {
		t, err := moffman.ParseDate("week", week)
		if err != nil {
			h.message(w, r, http.StatusBadRequest, "Not a date", moffman.ErrorMessage(err)+".",
				link{Text: "This week", URL: weekURL(office, "")})
			return
		}
		day = t
	}
	monday, end := weekOf(day)
	sunday := end.AddDate(0, 0, -1)
	from, to := monday.Format(moffman.DateLayout), end.Format(moffman.DateLayout)
	att, err := h.Reservations.Attendance(r.Context(), office, from, to)
	var avail []moffman.DayAvailability
	if o, _ := h.Directory.Office(office); err == nil && h.Directory.Limited(o) {
		avail, err = h.Reservations.Availability(r.Context(), office, from, to)
	}
	if err != nil {
		status := httpstatus.Of(err)
		if status >= 500 {
			h.logger().ErrorContext(r.Context(), "week view failed", "office", office, "error", err)
		}
		h.message(w, r, status, "Cannot show this week", moffman.ErrorMessage(err),
			link{Text: "Try again", URL: r.URL.RequestURI()})
		return
	}

	// Office links keep the week in view, unless it is simply "this week".
	keep := ""
	if week != "" {
		keep = monday.Format(moffman.DateLayout)
	}
	page := weekPage{
		layout:        layout{CSS: h.css, SignedIn: h.Auth.Enabled()},
		Office:        office,
		Heading:       weekHeading(monday, sunday),
		Today:         weekURL(office, ""),
		IsCurrentWeek: monday.Equal(mondayOf(today)),
	}
	feed := "/api/v1/offices/" + url.PathEscape(office) + "/calendar.ics"
	if h.Auth.Enabled() {
		page.FeedAddress = h.origin(r) + feed
	} else {
		page.FeedURL = h.PublicURL + feed
	}
	page.Prev, page.Next = weekLinks(office, monday, end)
	_, page.WeekNumber = monday.ISOWeek()
	page.Title = fmt.Sprintf("Who's in: %s, week %d", office, page.WeekNumber)
	for _, o := range offices {
		page.Offices = append(page.Offices, link{Text: o.Name, URL: weekURL(o.Name, keep), Current: o.Name == office})
	}
	page.Days = dayViews(att.Days, avail, monday, today)
	page.Limited = avail != nil
	page.Occupancy = occupancyURL(office, "", "")
	h.render(w, r, http.StatusOK, "week", page)
}

// dayViews shows the days of a week that starts on monday; avail, when
// the office is limited, holds the same days' capacity.
func dayViews(days []moffman.AttendanceDay, avail []moffman.DayAvailability, monday, today time.Time) []dayView {
	var out []dayView
	for i, d := range days {
		date := monday.AddDate(0, 0, i)
		v := dayView{
			Date: d.Date, Weekday: date.Weekday().String(), Label: date.Format("2 Jan"),
			Today: date.Equal(today), Weekend: date.Weekday() == time.Saturday || date.Weekday() == time.Sunday,
			In: d.Approved + d.Pending, Pending: d.Pending, Waitlisted: d.Waitlisted,
		}
		if i < len(avail) && avail[i].Date == d.Date {
			a := avail[i]
			v.Taken, v.Closed, v.Reason = a.Approved, a.Closed, a.Reason
			if a.Capacity != nil {
				v.HasCapacity, v.Capacity = true, *a.Capacity
			}
			v.Full = !a.Closed && a.Free != nil && *a.Free == 0
		}
		for _, p := range d.People {
			st := p.Status
			if st != moffman.StateApproved && st != moffman.StateWaitlisted {
				st = moffman.StatePending
			}
			v.People = append(v.People, personView{Name: p.Name, Status: string(st), Mark: marks[st]})
		}
		out = append(out, v)
	}
	return out
}

// origin is where people reach the service: rest_api.public_url, or else
// the address this request came to. A calendar app needs it whole.
func (h *Handler) origin(r *http.Request) string {
	if h.PublicURL != "" {
		return h.PublicURL
	}
	scheme := "http"
	if forwarded.From(r).HTTPS {
		scheme = "https"
	}
	return scheme + "://" + r.Host
}

// weekOf is the week holding day, [monday, end): the last week of 9999
// ends at moffman.LastDate, the last end anything can be listed to.
func weekOf(day time.Time) (monday, end time.Time) {
	monday = mondayOf(day)
	end = monday.AddDate(0, 0, 7)
	if last, _ := time.Parse(moffman.DateLayout, moffman.LastDate); end.After(last) {
		end = last
	}
	return monday, end
}

// weekLinks are the links to the weeks before and after [monday, end),
// "" past the ends of the date range. 0001-01-01 is a Monday, so the
// first week is whole.
func weekLinks(office string, monday, end time.Time) (prev, next string) {
	if first, _ := time.Parse(moffman.DateLayout, moffman.FirstDate); monday.After(first) {
		prev = weekURL(office, monday.AddDate(0, 0, -7).Format(moffman.DateLayout))
	}
	if last, _ := time.Parse(moffman.DateLayout, moffman.LastDate); end.Before(last) {
		next = weekURL(office, end.Format(moffman.DateLayout))
	}
	return prev, next
}

// mondayOf is the Monday of the ISO week holding day.
func mondayOf(day time.Time) time.Time {
	back := (int(day.Weekday()) + 6) % 7 // Monday 0 … Sunday 6
	return day.AddDate(0, 0, -back)
}

// weekHeading names a week as people write it: "30 Nov – 6 Dec 2026",
// "7 – 13 Dec 2026", "28 Dec 2026 – 3 Jan 2027".
func weekHeading(monday, sunday time.Time) string {
	switch {
	case monday.Year() != sunday.Year():
		return monday.Format("2 Jan 2006") + " – " + sunday.Format("2 Jan 2006")
	case monday.Month() != sunday.Month():
		return monday.Format("2 Jan") + " – " + sunday.Format("2 Jan 2006")
	}
	return monday.Format("2") + " – " + sunday.Format("2 Jan 2006")
}

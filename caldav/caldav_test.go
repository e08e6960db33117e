package caldav

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/moffman/moffman"
)

// eachServer runs test against every server, in parallel.
func eachServer(t *testing.T, test func(t *testing.T, s *testServer)) {
	for _, name := range serverNames {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			test(t, server(t, name))
		})
	}
}

func insert(t *testing.T, c *Calendar, calID string, ev moffman.Event) moffman.Event {
	t.Helper()
	got, err := c.Insert(context.Background(), calID, ev)
	if err != nil {
		t.Fatalf("Insert(%q): %v", ev.ID, err)
	}
	return got
}

// What other CalDAV clients see of moffman's events.
func TestStoredForm(t *testing.T) {
	eachServer(t, func(t *testing.T, s *testServer) {
		c, cal := s.calendar(t), s.newCalendar(t)
		ctx := context.Background()
		insert(t, c, cal, moffman.Event{ID: "pend01", Summary: "(Jan Novák)", Start: "2024-03-04", End: "2024-03-06",
			ColorID: "4", CreatorEmail: "jan@acme.com",
			Private: map[string]string{moffman.PropProcessed: "false", moffman.PropRequestDT: "10:00:00 2024/01/02"}})
		ics := s.raw(t, cal, "pend01")
		wantLines(t, "stored event", ics, "UID:pend01", "DTSTART;VALUE=DATE:20240304", "DTEND;VALUE=DATE:20240306",
			"SUMMARY:(Jan Novák)", "X-MOFFMAN-EVENT-PROCESSED:false", "X-MOFFMAN-MOFFMAN-REQUEST-DT:10:00:00 2024/01/02",
			"COLOR:salmon", "ORGANIZER:mailto:jan@acme.com", "STATUS:CONFIRMED")
		if err := c.Delete(ctx, cal, "pend01"); err != nil {
			t.Fatal(err)
		}
		wantLines(t, "cancelled event", s.raw(t, cal, "pend01"), "UID:pend01", "STATUS:CANCELLED", "SUMMARY:(Jan Novák)")

		// Every Google colour has its own COLOR and reads back as itself.
		seen := map[string]bool{}
		for id := 1; id <= 11; id++ {
			ev := insert(t, c, cal, moffman.Event{Summary: "c", Start: "2024-03-04", End: "2024-03-05", ColorID: strconv.Itoa(id)})
			got, err := c.Get(ctx, cal, ev.ID)
			if err != nil || got.ColorID != strconv.Itoa(id) {
				t.Errorf("colour %d read back as %q, %v", id, got.ColorID, err)
			}
			line := colorLine(s.raw(t, cal, ev.ID))
			if line == "" || seen[line] {
				t.Errorf("colour %d stored as %q (twice or not at all)", id, line)
			}
			seen[line] = true
		}
		_, err := c.Insert(ctx, cal, moffman.Event{Start: "2024-03-04", End: "2024-03-05", Private: map[string]string{"Not-Mine": "x"}})
		if !moffman.IsCode(err, moffman.Invalid) || !strings.Contains(err.Error(), "Not-Mine") {
			t.Errorf("private key that cannot be a property name: %v, want Invalid naming it", err)
		}
	})
}

func colorLine(ics string) string {
	for _, l := range strings.Split(ics, "\n") {
		if strings.HasPrefix(l, "COLOR:") {
			return l
		}
	}
	return ""
}

// Another client writes between moffman's read and its write: the
// conditional write fails, moffman reads again and keeps both changes.
func TestLostRaceRetried(t *testing.T) {
	eachServer(t, func(t *testing.T, s *testServer) {
		var raced atomic.Bool
		var c *Calendar
		cal := s.newCalendar(t)
		hc := &http.Client{Transport: roundTripFunc(func(req *http.Request) (*http.Response, error) {
			if req.Method == http.MethodPut && req.Header.Get("If-Match") != "" && !raced.Swap(true) {
				// A person renames the event just before moffman's write lands.
				s.putManual(t, cal, "race01", "jan@acme.com", moffman.Event{Summary: "renamed by a person",
					Start: "2024-03-04", End: "2024-03-05"}, "", "", http.StatusCreated, http.StatusNoContent)
			}
			return http.DefaultTransport.RoundTrip(req)
		})}
		c, err := New(context.Background(), Options{URL: s.url, Username: s.user, Password: s.pass, HTTPClient: hc})
		if err != nil {
			t.Fatal(err)
		}
		insert(t, c, cal, moffman.Event{ID: "race01", Summary: "x", Start: "2024-03-04", End: "2024-03-05"})
		got, err := c.Patch(context.Background(), cal, "race01", moffman.EventPatch{Private: map[string]string{moffman.PropProcessed: "true"}})
		if err != nil || !raced.Load() {
			t.Fatalf("Patch = %v (raced %v)", err, raced.Load())
		}
		if got.Summary != "renamed by a person" || got.Private[moffman.PropProcessed] != "true" {
			t.Errorf("after the lost race = %+v; want the person's summary and moffman's marker", got)
		}
		if read, _ := c.Get(context.Background(), cal, "race01"); read.ETag != got.ETag || read.Summary != got.Summary {
			t.Errorf("stored %+v, Patch returned %+v", read, got)
		}
	})
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// A resource removed by another client is a cancellation in the next
// incremental listing; Get then no longer finds it.
func TestRemovedResource(t *testing.T) {
	eachServer(t, func(t *testing.T, s *testServer) {
		c, cal := s.calendar(t), s.newCalendar(t)
		ctx := context.Background()
		id := s.addManual(t, cal, "jan@acme.com", moffman.Event{Summary: "office", Start: "2024-03-04", End: "2024-03-05"})
		_, tok, err := moffman.ListAll(ctx, c, cal, moffman.ListQuery{})
		if err != nil {
			t.Fatal(err)
		}
		s.do(t, http.MethodDelete, cal+"/"+id+".ics", nil, nil, http.StatusOK, http.StatusNoContent)
		evs, _, err := moffman.ListAll(ctx, c, cal, moffman.ListQuery{SyncToken: tok})
		if err != nil || len(evs) != 1 || evs[0].ID != id || evs[0].Status != moffman.StatusCancelled {
			t.Errorf("incremental after removal = %+v, %v; want %s cancelled", evs, err, id)
		}
		if _, err := c.Get(ctx, cal, id); !moffman.IsCode(err, moffman.NotFound) {
			t.Errorf("Get of a removed resource: %v, want NotFound", err)
		}
	})
}

// Events other clients write: timed, with a duration, recurring, with a
// colour of their own; tasks are no events.
func TestForeignEvents(t *testing.T) {
	eachServer(t, func(t *testing.T, s *testServer) {
		c, cal := s.calendar(t), s.newCalendar(t)
		ctx := context.Background()
		put := func(name string, lines ...string) {
			body := "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//other//client//EN\r\n" + strings.Join(lines, "\r\n") + "\r\nEND:VCALENDAR\r\n"
			s.do(t, http.MethodPut, cal+"/"+name+".ics", []byte(body), map[string]string{"Content-Type": "text/calendar"}, http.StatusCreated)
		}
		put("timed", "BEGIN:VEVENT", "UID:timed", "DTSTAMP:20240101T000000Z", "DTSTART:20240304T090000Z",
			"DTEND:20240305T170000Z", "SUMMARY:meeting", "COLOR:hotpink", "END:VEVENT")
		put("lasting", "BEGIN:VEVENT", "UID:lasting", "DTSTAMP:20240101T000000Z", "DTSTART;VALUE=DATE:20240310",
			"DURATION:P3D", "SUMMARY:trip", "END:VEVENT")
		put("weekly", "BEGIN:VEVENT", "UID:weekly", "DTSTAMP:20240101T000000Z", "DTSTART;VALUE=DATE:20240311",
			"DTEND;VALUE=DATE:20240312", "RRULE:FREQ=WEEKLY;COUNT=3", "SUMMARY:weekly", "END:VEVENT",
			"BEGIN:VEVENT", "UID:weekly", "DTSTAMP:20240101T000000Z", "RECURRENCE-ID;VALUE=DATE:20240318",
			"DTSTART;VALUE=DATE:20240319", "DTEND;VALUE=DATE:20240320", "SUMMARY:moved", "END:VEVENT")
		put("task", "BEGIN:VTODO", "UID:task", "DTSTAMP:20240101T000000Z", "SUMMARY:todo", "END:VTODO")
		evs, _, err := moffman.ListAll(ctx, c, cal, moffman.ListQuery{})
		if err != nil {
			t.Fatal(err)
		}
		want := map[string]string{"timed": "2024-03-04..2024-03-06 meeting ", "lasting": "2024-03-10..2024-03-13 trip ",
			"weekly": "2024-03-11..2024-03-12 weekly "}
		if len(evs) != len(want) {
			t.Errorf("listed %s, want timed, lasting and weekly", idsOf(evs))
		}
		for _, ev := range evs {
			if got := ev.Start + ".." + ev.End + " " + ev.Summary + " " + ev.ColorID; got != want[ev.ID] || !ev.IsManual() {
				t.Errorf("%s = %q (manual %v), want %q", ev.ID, got, ev.IsManual(), want[ev.ID])
			}
		}
		if _, err := c.Get(ctx, cal, "task"); !moffman.IsCode(err, moffman.NotFound) {
			t.Errorf("Get of a task: %v, want NotFound", err)
		}
		// Approving keeps what the other client wrote.
		name := "Jan Novák"
		if _, err := c.Patch(ctx, cal, "weekly", moffman.EventPatch{Summary: &name, Private: map[string]string{moffman.PropProcessed: "true"}}); err != nil {
			t.Fatal(err)
		}
		wantLines(t, "patched recurring event", s.raw(t, cal, "weekly"), "RRULE:FREQ=WEEKLY;COUNT=3", "SUMMARY:moved", "SUMMARY:Jan Novák")
	})
}

func idsOf(evs []moffman.Event) string {
	var s []string
	for _, e := range evs {
		s = append(s, e.ID)
	}
	return strings.Join(s, ",")
}

// An office id is a path under caldav.url, an absolute path or a full URL
// on the same server; nothing else gets the password.
func TestCalendarIDs(t *testing.T) {
	eachServer(t, func(t *testing.T, s *testServer) {
		c, cal := s.calendar(t), s.newCalendar(t)
		ctx := context.Background()
		insert(t, c, cal, moffman.Event{ID: "place1", Start: "2024-03-04", End: "2024-03-05"})
		full := s.url + cal + "/"
		abs := full[strings.Index(full[len("http://"):], "/")+len("http://"):]
		for _, id := range []string{cal, cal + "/", abs, full} {
			if ev, err := c.Get(ctx, id, "place1"); err != nil || ev.ID != "place1" {
				t.Errorf("Get via calendar id %q: %+v, %v", id, ev, err)
			}
			if err := c.Subscribe(ctx, id); err != nil {
				t.Errorf("Subscribe(%q): %v", id, err)
			}
		}
		for _, id := range []string{"http://203.0.113.1/" + cal + "/", "https://" + full[len("http://"):]} {
			if _, err := c.Get(ctx, id, "place1"); !moffman.IsCode(err, moffman.Invalid) {
				t.Errorf("calendar id %q on another server: %v, want Invalid", id, err)
			}
		}
		if err := c.Subscribe(ctx, "no-such-calendar"); !moffman.IsCode(err, moffman.NotFound) {
			t.Errorf("Subscribe of a missing calendar: %v, want NotFound", err)
		}
		if _, err := c.Insert(ctx, "no-such-calendar", moffman.Event{Start: "2024-03-04", End: "2024-03-05"}); !moffman.IsCode(err, moffman.NotFound) {
			t.Errorf("Insert into a missing calendar: %v, want NotFound", err)
		}
		if _, err := c.List(ctx, "no-such-calendar", moffman.ListQuery{}); !moffman.IsCode(err, moffman.NotFound) {
			t.Errorf("List of a missing calendar: %v, want NotFound", err)
		}
		if err := c.Subscribe(ctx, s.url); !moffman.IsCode(err, moffman.NotFound) {
			t.Errorf("Subscribe of a collection that is no calendar: %v, want NotFound", err)
		}
		// Tokens of one calendar do not work for another.
		other := s.newCalendar(t)
		page, err := c.List(ctx, cal, moffman.ListQuery{MaxResults: 1})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := c.List(ctx, other, moffman.ListQuery{SyncToken: page.NextSyncToken}); !moffman.IsCode(err, moffman.Gone) {
			t.Errorf("another calendar's sync token: %v, want Gone", err)
		}
		insert(t, c, cal, moffman.Event{ID: "place2", Start: "2024-03-04", End: "2024-03-05"})
		page, _ = c.List(ctx, cal, moffman.ListQuery{MaxResults: 1})
		if _, err := c.List(ctx, other, moffman.ListQuery{PageToken: page.NextPageToken}); !moffman.IsCode(err, moffman.Invalid) {
			t.Errorf("another calendar's page token: %v, want Invalid", err)
		}
	})
}

// Radicale checks the password (Xandikos has no authentication): a wrong
// one is an Upstream error that says which keys to fix.
func TestWrongPassword(t *testing.T) {
	s := server(t, "radicale")
	cal := s.newCalendar(t)
	c, err := New(context.Background(), Options{URL: s.url, Username: s.user, Password: "wrong"})
	if err != nil {
		t.Fatal(err)
	}
	err = c.Subscribe(context.Background(), cal)
	if !moffman.IsCode(err, moffman.Upstream) || !strings.Contains(moffman.ErrorMessage(err), "caldav.password") {
		t.Errorf("Subscribe with a wrong password: %v, want Upstream naming caldav.password", err)
	}
	if _, err := c.List(context.Background(), cal, moffman.ListQuery{}); !moffman.IsCode(err, moffman.Upstream) {
		t.Errorf("List with a wrong password: %v, want Upstream", err)
	}
}

func TestNewRefusesBadURL(t *testing.T) {
	for _, u := range []string{"", "cal.example.com/dav", "ftp://cal.example.com/", "http://"} {
		if _, err := New(context.Background(), Options{URL: u}); !moffman.IsCode(err, moffman.Invalid) || !strings.Contains(err.Error(), "caldav.url") {
			t.Errorf("New(%q): %v, want Invalid naming caldav.url", u, err)
		}
	}
}

// A server that is down is Unavailable, so callers try again later.
func TestServerDown(t *testing.T) {
	port, err := freePort()
	if err != nil {
		t.Fatal(err)
	}
	c, err := New(context.Background(), Options{URL: "http://127.0.0.1:" + strconv.Itoa(port) + "/dav/"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Get(context.Background(), "cal", "event1"); !moffman.IsCode(err, moffman.Unavailable) {
		t.Errorf("Get from a server that is down: %v, want Unavailable", err)
	}
}

package eventstore

import (
	"encoding/base64"
	"maps"
	"slices"
	"testing"
	"time"

	"github.com/moffman/moffman"
)

func TestEncodeDecode(t *testing.T) {
	// Fields may hold the separator and escapes; a calendar id may hold
	// the separator too.
	fields := []string{"w", "a|b", "100%", "", "http://x/sync?a=1&b=2"}
	for _, cal := range []string{"cal@group", "odd|cal", ""} {
		got, ok := Decode(Encode(cal, fields...), cal)
		if !ok || !slices.Equal(got, fields) {
			t.Errorf("calendar %q: got %q, %v; want %q", cal, got, ok, fields)
		}
	}
}

func TestDecodeRefusesOtherCalendarsAndGarbage(t *testing.T) {
	tok := Encode("a", "c", "1")
	for _, cal := range []string{"b", "", "xa", "a|"} {
		if f, ok := Decode(tok, cal); ok {
			t.Errorf("token of calendar a decoded for %q: %q", cal, f)
		}
	}
	for _, bad := range []string{"!!!", base64.RawURLEncoding.EncodeToString([]byte("c|%zz|a"))} {
		if f, ok := Decode(bad, "a"); ok {
			t.Errorf("Decode(%q) = %q, want refused", bad, f)
		}
	}
}

// The token format is what the embedded store handed out before this
// package: a token issued then must still be read after an upgrade.
func TestTokensKeepTheirFormat(t *testing.T) {
	enc := func(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }
	if got, want := SyncToken("cal", 7), enc("s1|7|cal"); got != want {
		t.Errorf("SyncToken = %q, want %q", got, want)
	}
	win := Cursor{Snapshot: 3, Start: "2024-05-06", ID: "abc12"}
	if got, want := win.Token("cal"), enc("w|3|2024-05-06|abc12|cal"); got != want {
		t.Errorf("window token = %q, want %q", got, want)
	}
	ch := Cursor{Changes: true, Seq: 9}
	if got, want := ch.Token("cal"), enc("c|9|cal"); got != want {
		t.Errorf("changes token = %q, want %q", got, want)
	}
}

func TestCursorRoundTrip(t *testing.T) {
	for _, c := range []Cursor{
		{Snapshot: 42, Start: "2024-01-31", ID: "ev123"},
		{Changes: true, Seq: 5},
	} {
		got, ok := ParseCursor(c.Token("cal"), "cal")
		if !ok || got != c {
			t.Errorf("ParseCursor(Token(%+v)) = %+v, %v", c, got, ok)
		}
		if _, ok := ParseCursor(c.Token("cal"), "other"); ok {
			t.Errorf("cursor %+v accepted for another calendar", c)
		}
	}
}

func TestParseCursorRefuses(t *testing.T) {
	for name, tok := range map[string]string{
		"sync token":     SyncToken("cal", 1),
		"bad date":       Encode("cal", "w", "1", "2024-13-01", "ev123"),
		"bad snapshot":   Encode("cal", "w", "x", "2024-01-01", "ev123"),
		"bad sequence":   Encode("cal", "c", "x"),
		"too few fields": Encode("cal", "w", "1", "2024-01-01"),
		"unknown kind":   Encode("cal", "z", "1"),
	} {
		if c, ok := ParseCursor(tok, "cal"); ok {
			t.Errorf("%s: ParseCursor = %+v, want refused", name, c)
		}
	}
}

func TestSyncToken(t *testing.T) {
	if seq, ok := ParseSyncToken(SyncToken("cal", 12), "cal"); !ok || seq != 12 {
		t.Errorf("ParseSyncToken = %d, %v; want 12, true", seq, ok)
	}
	for name, tok := range map[string]string{
		"other calendar": SyncToken("other", 1),
		"negative":       Encode("cal", "s1", "-1"),
		"page token":     Cursor{Changes: true, Seq: 1}.Token("cal"),
		"not base64":     "***",
	} {
		if seq, ok := ParseSyncToken(tok, "cal"); ok {
			t.Errorf("%s: ParseSyncToken = %d, want refused", name, seq)
		}
	}
}

func TestCheckQuery(t *testing.T) {
	day := time.Date(2024, 5, 6, 0, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		q    moffman.ListQuery
		want int
	}{
		{moffman.ListQuery{}, DefaultPageSize},
		{moffman.ListQuery{MaxResults: 3}, 3},
		{moffman.ListQuery{MaxResults: 1_000_000}, MaxPageSize},
		{moffman.ListQuery{TimeMin: day, TimeMax: day.Add(time.Hour)}, DefaultPageSize},
	} {
		if got, err := CheckQuery(tc.q); err != nil || got != tc.want {
			t.Errorf("CheckQuery(%+v) = %d, %v; want %d", tc.q, got, err, tc.want)
		}
	}
	for _, q := range []moffman.ListQuery{
		{SyncToken: "x", TimeMin: day},
		{SyncToken: "x", TimeMax: day},
		{TimeMin: day, TimeMax: day},
		{TimeMin: day, TimeMax: day.Add(-time.Hour)},
	} {
		if _, err := CheckQuery(q); moffman.ErrorCode(err) != moffman.Invalid {
			t.Errorf("CheckQuery(%+v) = %v, want Invalid", q, err)
		}
	}
}

func TestDateBounds(t *testing.T) {
	at := func(y int, m time.Month, d, h int) time.Time { return time.Date(y, m, d, h, 0, 0, 0, time.UTC) }
	for _, tc := range []struct {
		min, max time.Time
		lo, hi   string
	}{
		{time.Time{}, time.Time{}, Below, Above},
		{at(2024, 5, 6, 0), at(2024, 5, 8, 0), "2024-05-06", "2024-05-08"},
		// A window ending within a day includes the events starting that day.
		{at(2024, 5, 6, 10), at(2024, 5, 8, 1), "2024-05-06", "2024-05-09"},
		{at(10000, 1, 1, 0), time.Time{}, Above, Above},
		{time.Time{}, at(-1, 1, 1, 0), Below, Below},
		{time.Date(2024, 5, 6, 23, 0, 0, 0, time.FixedZone("", -2*3600)), time.Time{}, "2024-05-07", Above},
	} {
		lo, hi := DateBounds(tc.min, tc.max)
		if lo != tc.lo || hi != tc.hi {
			t.Errorf("DateBounds(%v, %v) = %q, %q; want %q, %q", tc.min, tc.max, lo, hi, tc.lo, tc.hi)
		}
	}
}

func TestPrivateJSON(t *testing.T) {
	for _, m := range []map[string]string{nil, {}, {"a": "1", "b": "x|y"}} {
		s, err := MarshalPrivate(m)
		if err != nil {
			t.Fatal(err)
		}
		got, err := UnmarshalPrivate([]byte(s))
		if err != nil || !maps.Equal(got, m) {
			t.Errorf("round trip of %v: %v, %v", m, got, err)
		}
		if len(m) == 0 && (s != "{}" || got != nil) {
			t.Errorf("empty map: stored %q, read %v; want {} and nil", s, got)
		}
	}
	if _, err := UnmarshalPrivate([]byte("[1]")); err == nil {
		t.Error("UnmarshalPrivate accepted a JSON array")
	}
}

func TestClonePrivate(t *testing.T) {
	m := map[string]string{"a": "1"}
	c := ClonePrivate(m)
	c["a"] = "2"
	if m["a"] != "1" {
		t.Error("the clone shares the caller's map")
	}
	if ClonePrivate(map[string]string{}) != nil {
		t.Error("ClonePrivate of an empty map is not nil")
	}
}

// A page of 2 from 3 rows: the third is not taken, and the next page token
// continues after the second.
func TestPagerCutsAPage(t *testing.T) {
	rows := []moffman.Event{
		{ID: "ev001", Start: "2024-01-01"}, {ID: "ev002", Start: "2024-01-02"}, {ID: "ev003", Start: "2024-01-03"},
	}
	p := NewPager("cal", Cursor{Snapshot: 7}, 2)
	for i, ev := range rows {
		if p.Full() {
			break
		}
		p.Add(ev, int64(10+i))
	}
	page := p.Page(99)
	if len(page.Events) != 2 || page.NextSyncToken != "" {
		t.Fatalf("page = %+v, want 2 events and no sync token", page)
	}
	next, ok := ParseCursor(page.NextPageToken, "cal")
	if want := (Cursor{Snapshot: 7, Start: "2024-01-02", ID: "ev002"}); !ok || next != want {
		t.Errorf("next cursor = %+v, %v; want %+v", next, ok, want)
	}
}

func TestPagerLastPageSyncToken(t *testing.T) {
	for _, tc := range []struct {
		cur  Cursor
		want int64
	}{
		{Cursor{Snapshot: 7}, 7},            // a window: the snapshot of its first page
		{Cursor{Changes: true, Seq: 3}, 99}, // changes: the sequence read with the rows
	} {
		p := NewPager("cal", tc.cur, 5)
		p.Add(moffman.Event{ID: "ev001"}, 4)
		page := p.Page(99)
		if seq, ok := ParseSyncToken(page.NextSyncToken, "cal"); !ok || seq != tc.want || page.NextPageToken != "" {
			t.Errorf("cursor %+v: page %+v (sync %d), want sync token %d", tc.cur, page, seq, tc.want)
		}
	}
	// A changes page that is full continues after the last sequence.
	p := NewPager("cal", Cursor{Changes: true, Seq: 3}, 1)
	p.Add(moffman.Event{ID: "ev001"}, 4)
	if !p.Full() {
		t.Fatal("a page of 1 with 1 event is not full")
	}
	if next, ok := ParseCursor(p.Page(99).NextPageToken, "cal"); !ok || next != (Cursor{Changes: true, Seq: 4}) {
		t.Errorf("next = %+v, %v", next, ok)
	}
}

func TestInsertDefaults(t *testing.T) {
	in := moffman.Event{Start: "2024-05-06", End: "2024-05-07", Private: map[string]string{"k": "v"}}
	ev, priv, err := ToInsert(in, "acct@x")
	if err != nil || !moffman.ValidEventID(ev.ID) || ev.CreatorEmail != "acct@x" || priv != `{"k":"v"}` {
		t.Fatalf("ToInsert = %+v, %q, %v", ev, priv, err)
	}
	in.ID, in.CreatorEmail = "given1", "person@x"
	if ev, _, _ := ToInsert(in, "acct@x"); ev.ID != "given1" || ev.CreatorEmail != "person@x" {
		t.Errorf("ToInsert replaced the id or creator: %+v", ev)
	}
	now := time.Date(2024, 5, 1, 8, 0, 0, 0, time.UTC)
	out := Inserted(in, now, 5)
	out.Private["k"] = "changed"
	if in.Private["k"] != "v" || out.Status != moffman.StatusConfirmed || !out.Created.Equal(now) || out.ETag != `"5"` {
		t.Errorf("Inserted = %+v (caller's private %v)", out, in.Private)
	}
}

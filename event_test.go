package moffman

import (
	"encoding/json"
	"os"
	"strings"
	"testing"
)

func TestEventIDMatchesPythonVectors(t *testing.T) {
	data, err := os.ReadFile("testdata/event_ids.json")
	if err != nil {
		t.Fatalf("read vectors: %v", err)
	}
	// Python wrote these vectors; ../shared/testdata holds the originals.
	var raw struct {
		Cases []map[string]string `json:"cases"`
	}
	if err := json.Unmarshal(data, &raw); err != nil {
		t.Fatal(err)
	}
	if len(raw.Cases) == 0 {
		t.Fatal("no vectors")
	}
	for _, c := range raw.Cases {
		got := EventID(c["name"], c["request_dt"], c["start"], c["end"])
		if got != c["event_id"] {
			t.Errorf("EventID(%q, %q, %q, %q) = %s, want %s", c["name"], c["request_dt"], c["start"], c["end"], got, c["event_id"])
		}
	}
}

func TestEventState(t *testing.T) {
	cases := []struct {
		ev   Event
		want State
	}{
		{Event{Status: StatusConfirmed}, StateManual},
		{Event{Status: StatusConfirmed, Private: map[string]string{PropProcessed: "false"}}, StatePending},
		{Event{Status: StatusConfirmed, Private: map[string]string{PropProcessed: "true"}}, StateApproved},
		{Event{Status: StatusConfirmed, Private: map[string]string{PropProcessed: "whatever"}}, StatePending},
		{Event{Status: StatusCancelled, Private: map[string]string{PropProcessed: "true"}}, StateCancelled},
	}
	for _, c := range cases {
		if got := c.ev.State(); got != c.want {
			t.Errorf("%+v.State() = %s, want %s", c.ev, got, c.want)
		}
	}
}

// TestVectorsMatchShared keeps testdata/ equal to the shared originals when
// they are beside the checkout (as in CI), so a changed vector is noticed.
func TestVectorsMatchShared(t *testing.T) {
	for _, name := range []string{"event_ids.json", "form_templates.json"} {
		shared, err := os.ReadFile("../shared/testdata/" + name)
		if err != nil {
			t.Skipf("../shared/testdata is not beside this checkout: %v", err)
		}
		local, err := os.ReadFile("testdata/" + name)
		if err != nil {
			t.Fatal(err)
		}
		if string(local) != string(shared) {
			t.Errorf("testdata/%s differs from ../shared/testdata/%s: copy it again", name, name)
		}
	}
}

// Event ids follow Google's rule, which every backend keeps: 5 to 1024
// characters of lowercase a-v and 0-9.
func TestEventIDRules(t *testing.T) {
	for id, want := range map[string]bool{
		"abcde": true, "01234": true, strings.Repeat("v", 1024): true,
		"abcd": false, "abcdw": false, "ABCDE": false, "abc-de": false, "abcdé": false,
		strings.Repeat("a", 1025): false, "": false,
	} {
		if got := ValidEventID(id); got != want {
			t.Errorf("ValidEventID(%.12q) = %v, want %v", id, got, want)
		}
		err := ValidateEventID(id)
		if want != (err == nil) {
			t.Errorf("ValidateEventID(%.12q) = %v", id, err)
		}
		if err != nil && (!IsCode(err, Invalid) || !strings.Contains(ErrorMessage(err), "a-v and 0-9")) {
			t.Errorf("ValidateEventID(%.12q): code %q, message %q", id, ErrorCode(err), ErrorMessage(err))
		}
	}
	seen := map[string]bool{}
	for range 100 {
		id := NewEventID()
		if len(id) != 26 || !ValidEventID(id) || seen[id] {
			t.Fatalf("NewEventID() = %q (valid %v, repeated %v)", id, ValidEventID(id), seen[id])
		}
		seen[id] = true
	}
}

func TestValidateEventDates(t *testing.T) {
	if err := ValidateEventDates("2024-05-06", "2024-05-07"); err != nil {
		t.Errorf("a one-day event: %v", err)
	}
	for _, d := range [][2]string{
		{"2024-05-06", "2024-05-06"}, // the end is exclusive
		{"2024-05-07", "2024-05-06"},
		{"2024-02-30", "2024-03-01"},
		{"2024-05-06", "tomorrow"},
	} {
		if err := ValidateEventDates(d[0], d[1]); ErrorCode(err) != Invalid {
			t.Errorf("ValidateEventDates(%q, %q) = %v, want Invalid", d[0], d[1], err)
		}
	}
}

func TestValidateColorID(t *testing.T) {
	for _, id := range []string{"", "1", "11"} {
		if err := ValidateColorID(id); err != nil {
			t.Errorf("colour %q: %v", id, err)
		}
	}
	for _, id := range []string{"0", "12", "01", " 1", "red"} {
		if err := ValidateColorID(id); ErrorCode(err) != Invalid {
			t.Errorf("ValidateColorID(%q) = %v, want Invalid", id, err)
		}
	}
}

func TestValidateNewEventAndPatch(t *testing.T) {
	ok := Event{Start: "2024-05-06", End: "2024-05-07", ColorID: "3"}
	if err := ValidateNewEvent(ok); err != nil {
		t.Errorf("an event without id: %v", err)
	}
	for _, ev := range []Event{
		{ID: "UPPER", Start: ok.Start, End: ok.End},
		{Start: ok.End, End: ok.Start},
		{Start: ok.Start, End: ok.End, ColorID: "12"},
	} {
		if err := ValidateNewEvent(ev); ErrorCode(err) != Invalid {
			t.Errorf("ValidateNewEvent(%+v) = %v, want Invalid", ev, err)
		}
	}
	bad, color := "2024-02-30", "0"
	if err := ValidatePatch(EventPatch{}); err != nil {
		t.Errorf("an empty patch: %v", err)
	}
	for _, p := range []EventPatch{{Start: &bad}, {End: &bad}, {ColorID: &color}} {
		if err := ValidatePatch(p); ErrorCode(err) != Invalid {
			t.Errorf("ValidatePatch(%+v) = %v, want Invalid", p, err)
		}
	}
}

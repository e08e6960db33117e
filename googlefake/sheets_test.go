package googlefake

import (
	"fmt"
	"net/http"
	"testing"
)

func TestValuesGet(t *testing.T) {
	t.Parallel()
	s := start(t)
	const id = "1AbCdEfGhIjKlMnOpQrStUvWxYz"
	s.SetSheetValues(id, "Offices", [][]string{
		{"prague", "prague@group.calendar.google.com"},
		{"brno", "brno@group.calendar.google.com", ""},
	})
	s.SetSheetValues(id, "Manual users", [][]string{
		{"email", "first", "last", "number"}, // header row
		{"a@acme.com", "Ann", "Able", "1"},
		{"b@acme.com", "Bob", "", ""}, // ragged: trailing empty cells
		{},                            // an empty row in the middle
		{"c@acme.com", "", "Cee"},
		{"", "", ""}, // trailing empty rows
		{""},
	})
	svc := sheetsClient(t, s)
	tests := []struct {
		rng, wantRange, wantValues string
	}{
		{"Manual users!A2:B", "'Manual users'!A2:B1000", "[[a@acme.com Ann] [b@acme.com Bob] [] [c@acme.com]]"},
		{"'Manual users'!A2:B", "'Manual users'!A2:B1000", "[[a@acme.com Ann] [b@acme.com Bob] [] [c@acme.com]]"},
		{"'Manual users'!A2:D", "'Manual users'!A2:D1000", "[[a@acme.com Ann Able 1] [b@acme.com Bob] [] [c@acme.com  Cee]]"},
		{"Manual users!B3:C3", "'Manual users'!B3:C3", "[[Bob]]"},
		{"Manual users!C2:C4", "'Manual users'!C2:C4", "[[Able]]"},
		{"Manual users!A8:B", "'Manual users'!A8:B1000", "[]"},
		{"Offices", "Offices!A1:Z1000", "[[prague prague@group.calendar.google.com] [brno brno@group.calendar.google.com]]"},
		{"Offices!A:B", "Offices!A1:B1000", "[[prague prague@group.calendar.google.com] [brno brno@group.calendar.google.com]]"},
		{"Offices!A:A", "Offices!A1:A1000", "[[prague] [brno]]"},
		{"Offices!2:2", "Offices!A2:Z2", "[[brno brno@group.calendar.google.com]]"},
		{"Offices!B1", "Offices!B1", "[[prague@group.calendar.google.com]]"},
		{"'Offices'!a1:a2", "Offices!A1:A2", "[[prague] [brno]]"},
		{"A1:A1", "Offices!A1", "[[prague]]"}, // no sheet: the first one
	}
	for _, tt := range tests {
		t.Run(tt.rng, func(t *testing.T) {
			t.Parallel()
			vr, err := svc.Spreadsheets.Values.Get(id, tt.rng).Do()
			if err != nil {
				t.Fatal(err)
			}
			got := "[]"
			if vr.Values != nil {
				got = fmt.Sprint(vr.Values)
			}
			if vr.Range != tt.wantRange || vr.MajorDimension != "ROWS" || got != tt.wantValues {
				t.Errorf("got %s %s %s, want %s ROWS %s", vr.Range, vr.MajorDimension, got, tt.wantRange, tt.wantValues)
			}
		})
	}
	t.Run("columns", func(t *testing.T) {
		t.Parallel()
		vr, err := svc.Spreadsheets.Values.Get(id, "Manual users!A2:D").MajorDimension("COLUMNS").Do()
		if err != nil {
			t.Fatal(err)
		}
		if got := fmt.Sprint(vr.Values); got != "[[a@acme.com b@acme.com  c@acme.com] [Ann Bob] [Able   Cee] [1]]" || vr.MajorDimension != "COLUMNS" {
			t.Errorf("columns: %s %q", vr.MajorDimension, got)
		}
	})
	t.Run("empty range omits values", func(t *testing.T) {
		t.Parallel()
		_, err := rawGet(t, s, "/v4/spreadsheets/"+id+"/values/Offices%21C1%3AD5", bearer(t, s, "https://www.googleapis.com/auth/spreadsheets"))
		if err != nil {
			t.Fatal(err)
		}
		vr, err := svc.Spreadsheets.Values.Get(id, "Offices!C1:D5").Do()
		if err != nil || vr.Values != nil || vr.Range != "Offices!C1:D5" {
			t.Errorf("got %+v, %v", vr, err)
		}
	})
	for _, bad := range []string{"Nobody!A1:B", "'Manual users!A1", "Offices!A1:B2:C3", "Offices!AAAA1", "Offices!A0"} {
		t.Run("bad "+bad, func(t *testing.T) {
			t.Parallel()
			_, err := svc.Spreadsheets.Values.Get(id, bad).Do()
			ge := wantAPIError(t, err, http.StatusBadRequest, "badRequest")
			if ge.Message != "Unable to parse range: "+bad {
				t.Errorf("message %q", ge.Message)
			}
		})
	}
	t.Run("unknown spreadsheet", func(t *testing.T) {
		t.Parallel()
		_, err := svc.Spreadsheets.Values.Get("nosuchsheet", "A1:B").Do()
		wantAPIError(t, err, http.StatusNotFound, "notFound")
	})
}

package httpapi

import (
	"strings"
	"testing"

	"github.com/moffman/moffman"
)

// FuzzReservation feeds arbitrary bodies to the decoder and validator: they
// must never panic, and anything they accept must be a valid request.
func FuzzReservation(f *testing.F) {
	for _, seed := range []string{
		reservation(false),
		reservation(true),
		`{"user": {"name": "Jan Novák"}, "approved": true, "start": "2022-07-04", "end": "2022-07-05", "request_dt": "", "office_id": "prague"}`,
		`{"user": {"name": "A", "email": "a@b.c"}, "approved": false, "start": "2024-02-29", "end": "2025-02-28", "request_dt": "x", "office_id": "p"}`,
		`{"user": null, "approved": "true"}`,
		`{"start": 1, "end": [], "user": {"name": {}}}`,
		`[]`, `null`, `{`, `{"approved": true}{}`, "\x00", `{"user": {"name": "\u0000"}}`,
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, body string) {
		req, err := decodeReservation(strings.NewReader(body))
		if err != nil {
			if moffman.ErrorCode(err) != moffman.Invalid {
				t.Fatalf("decode error %v has code %s, want invalid", err, moffman.ErrorCode(err))
			}
			return
		}
		if err := req.Validate(366); err != nil {
			if moffman.ErrorCode(err) != moffman.Invalid || moffman.ErrorMessage(err) == "" {
				t.Fatalf("validation error %v is not a clear invalid error", err)
			}
			return
		}
		start, err1 := moffman.ParseDate("start", req.Start)
		end, err2 := moffman.ParseDate("end", req.End)
		if err1 != nil || err2 != nil || !end.After(start) || strings.TrimSpace(req.UserName) == "" || req.OfficeID == "" {
			t.Fatalf("accepted an invalid request: %+v", req)
		}
		if id := moffman.EventID(req.UserName, req.RequestDT, req.Start, req.End); moffman.ValidateEventID(id) != nil {
			t.Fatalf("derived id %q is not a valid Google id", id)
		}
	})
}

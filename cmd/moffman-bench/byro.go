package main

import (
	"encoding/json"
	"net"
	"net/http"
	"sync"
	"time"
)

// formKey identifies the manual event a form is for: the bench gives every
// manual event its own creator and dates (the form carries no event id).
type formKey struct {
	User, From, To string // user_id, date_from, date_to (YYYY-MM-DD)
}

// byroFake is an in-process Byroapi: it accepts form requests (200) and
// records when each was accepted, or answers 503 while it is down.
type byroFake struct {
	mu       sync.Mutex
	down     bool
	forms    map[formKey][]time.Time
	refused  int
	bad      int
	srv      *http.Server
	URL      string
	accepted int
}

func startByro() (*byroFake, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	b := &byroFake{forms: map[formKey][]time.Time{}, URL: "http://" + ln.Addr().String() + "/forms"}
	b.srv = &http.Server{Handler: http.HandlerFunc(b.serve), ReadHeaderTimeout: 10 * time.Second}
	go b.srv.Serve(ln) //nolint:errcheck // ends with Close
	return b, nil
}

func (b *byroFake) serve(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Template string `json:"template"`
		FormData struct {
			UserID   string `json:"user_id"`
			DateFrom string `json:"date_from"`
			DateTo   string `json:"date_to"`
		} `json:"form_data"`
	}
	err := json.NewDecoder(r.Body).Decode(&req)
	b.mu.Lock()
	defer b.mu.Unlock()
	switch {
	case b.down:
		b.refused++
		http.Error(w, `{"detail": "byroapi is down (moffman-bench)"}`, http.StatusServiceUnavailable)
	case err != nil || r.Method != http.MethodPost || req.Template == "":
		b.bad++
		http.Error(w, `{"detail": "bad form request"}`, http.StatusBadRequest)
	default:
		k := formKey{req.FormData.UserID, req.FormData.DateFrom, req.FormData.DateTo}
		b.forms[k] = append(b.forms[k], time.Now())
		b.accepted++
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(`{"status": "ok"}`)) //nolint:errcheck // the client went away
	}
}

// setDown makes Byroapi refuse (503) or accept forms.
func (b *byroFake) setDown(down bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.down = down
}

// snapshot returns a copy of the accepted forms and the counts.
func (b *byroFake) snapshot() (forms map[formKey][]time.Time, accepted, refused, bad int) {
	b.mu.Lock()
	defer b.mu.Unlock()
	forms = make(map[formKey][]time.Time, len(b.forms))
	for k, v := range b.forms {
		forms[k] = append([]time.Time(nil), v...)
	}
	return forms, b.accepted, b.refused, b.bad
}

// delivered counts the keys with at least one form.
func (b *byroFake) delivered(keys []formKey) int {
	b.mu.Lock()
	defer b.mu.Unlock()
	n := 0
	for _, k := range keys {
		if len(b.forms[k]) > 0 {
			n++
		}
	}
	return n
}

func (b *byroFake) Close() { _ = b.srv.Close() }

package main

import (
	"net/http"
	"time"

	"github.com/moffman/moffman/byroapi/byroapitest"
)

// formKey identifies the manual event a form is for: the bench gives every
// manual event its own creator and dates (the form carries no event id).
type formKey struct {
	User, From, To string // user_id, date_from, date_to (YYYY-MM-DD)
}

// byroFake is the in-process Byroapi (byroapitest), read the way the bench
// matches forms to manual events.
type byroFake struct{ *byroapitest.Server }

func startByro() *byroFake { return &byroFake{byroapitest.New()} }

// setDown makes Byroapi refuse (503) or accept forms.
func (b *byroFake) setDown(down bool) { b.SetDown(down) }

// snapshot returns when each form was accepted, by key, and how many
// requests were accepted, refused (503, while down) and bad (any other
// answer).
func (b *byroFake) snapshot() (forms map[formKey][]time.Time, accepted, refused, bad int) {
	forms = map[formKey][]time.Time{}
	for _, r := range b.Requests() {
		switch r.Status {
		case http.StatusOK:
			k := formKey{r.UserID, r.DateFrom, r.DateTo}
			forms[k] = append(forms[k], r.At)
			accepted++
		case http.StatusServiceUnavailable:
			refused++
		default:
			bad++
		}
	}
	return forms, accepted, refused, bad
}

// delivered counts the keys with at least one form.
func (b *byroFake) delivered(keys []formKey) int {
	forms, _, _, _ := b.snapshot()
	n := 0
	for _, k := range keys {
		if len(forms[k]) > 0 {
			n++
		}
	}
	return n
}

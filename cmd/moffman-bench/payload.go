package main

import (
	"encoding/json"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/moffman/moffman"
)

// reservation is one REST reservation the bench sends. Every one is unique:
// request_dt is derived from a run-wide counter, so the event id (a hash of
// name, request_dt, start and end) is new too.
type reservation struct {
	Office    office
	Name      string
	Email     string
	Start     string
	End       string
	RequestDT string
	ID        string // the event id moffman derives
}

// generator hands out unique reservations spread over people, offices and
// days.
type generator struct {
	offices []office
	people  int
	first   time.Time // the first day reservations fall on
	days    int
	n       atomic.Int64
}

// requestEpoch is the request time of reservation 0; reservation n was
// requested n seconds later.
var requestEpoch = time.Date(2025, 1, 1, 8, 0, 0, 0, time.UTC)

func newGenerator(offices []office, people, days int, first time.Time) *generator {
	return &generator{offices: offices, people: people, days: days, first: first}
}

// next returns a reservation never handed out before.
func (g *generator) next() reservation {
	return g.make(int(g.n.Add(1) - 1))
}

// make returns reservation n (deterministic).
func (g *generator) make(n int) reservation {
	person := (n * 7919) % g.people
	day := g.first.AddDate(0, 0, (n*104729)%g.days)
	length := 1
	if n%10 == 9 {
		length = 2 + n%4 // a few multi-day visits
	}
	r := reservation{
		Office:    g.offices[n%len(g.offices)],
		Name:      fmt.Sprintf("Person %05d", person),
		Email:     fmt.Sprintf("person%05d@bench.example", person),
		Start:     day.Format(moffman.DateLayout),
		End:       day.AddDate(0, 0, length).Format(moffman.DateLayout),
		RequestDT: requestEpoch.Add(time.Duration(n) * time.Second).Format("15:04:05 2006/01/02"),
	}
	r.ID = moffman.EventID(r.Name, r.RequestDT, r.Start, r.End)
	return r
}

// body is the POST /api/v1/reservations payload.
func (r reservation) body(approved bool) []byte {
	type user struct {
		Name  string `json:"name"`
		Email string `json:"email"`
	}
	b, err := json.Marshal(struct {
		User      user   `json:"user"`
		Approved  bool   `json:"approved"`
		Start     string `json:"start"`
		End       string `json:"end"`
		RequestDT string `json:"request_dt"`
		OfficeID  string `json:"office_id"`
	}{user{r.Name, r.Email}, approved, r.Start, r.End, r.RequestDT, r.Office.Name})
	if err != nil {
		panic(err) // strings only: cannot fail
	}
	return b
}

// benchOffices returns n offices named office00.. with calendar ids in
// the given domain.
func benchOffices(n int, domain string) []office {
	out := make([]office, n)
	for i := range out {
		name := fmt.Sprintf("office%02d", i)
		out[i] = office{Name: name, ID: name + "@" + domain}
	}
	return out
}

package postgres

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/moffman/moffman"
)

// The benchmarks mirror the sqlite package's, so the two stores compare:
//
//	go test -run '^$' -bench . -benchtime 5s ./postgres/ ./sqlite/

// benchEvent is a REST-style event: deterministic 32-character id, private
// properties, one day.
func benchEvent(i int) moffman.Event {
	day := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC).AddDate(0, 0, i%365)
	return moffman.Event{
		ID:      moffman.EventID("Some User", fmt.Sprint(i), "s", "e"),
		Summary: "(Some User)",
		Start:   day.Format(moffman.DateLayout),
		End:     day.AddDate(0, 0, 1).Format(moffman.DateLayout),
		ColorID: "4",
		Private: map[string]string{moffman.PropProcessed: "false", moffman.PropUserEmail: "user@acme.com"},
	}
}

func BenchmarkInsert(b *testing.B) {
	s := openTest(b)
	ctx := context.Background()
	i := 0
	for b.Loop() {
		if _, err := s.Insert(ctx, "office", benchEvent(i)); err != nil {
			b.Fatal(err)
		}
		i++
	}
}

// BenchmarkInsertParallel inserts from 32 goroutines into one calendar, as
// the REST layer does under load; the writes of one calendar take turns on
// its row lock.
func BenchmarkInsertParallel(b *testing.B) {
	benchInsertParallel(b, 1)
}

// BenchmarkInsertParallelOffices spreads the same load over 8 calendars.
func BenchmarkInsertParallelOffices(b *testing.B) {
	benchInsertParallel(b, 8)
}

func benchInsertParallel(b *testing.B, calendars int) {
	s := openTest(b)
	ctx := context.Background()
	var n atomic.Int64
	b.SetParallelism(32)
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			i := int(n.Add(1))
			if _, err := s.Insert(ctx, fmt.Sprintf("office%d", i%calendars), benchEvent(i)); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

// BenchmarkListWindow lists the default checking range (three weeks) of a
// calendar holding a year of events, 20 a day.
func BenchmarkListWindow(b *testing.B) {
	s := openTest(b)
	ctx := context.Background()
	for i := range 365 * 20 {
		if _, err := s.Insert(ctx, "office", benchEvent(i)); err != nil {
			b.Fatal(err)
		}
	}
	q := moffman.ListQuery{
		TimeMin: time.Date(2024, 6, 1, 0, 0, 0, 0, time.UTC),
		TimeMax: time.Date(2024, 6, 22, 0, 0, 0, 0, time.UTC),
	}
	for b.Loop() {
		evs, _, err := moffman.ListAll(ctx, s, "office", q)
		if err != nil || len(evs) != 21*20 {
			b.Fatalf("%d events, %v", len(evs), err)
		}
	}
}

// BenchmarkClaimSave claims due jobs ten at a time and records each one's
// next step under its claim: the fenced path of job processing.
func BenchmarkClaimSave(b *testing.B) {
	s := openTest(b)
	ctx := context.Background()
	now := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	var jobs []moffman.Job
	for i := range 20000 {
		jobs = append(jobs, moffman.Job{CalendarID: "office", EventID: fmt.Sprintf("e%05d", i), OfficeID: "o",
			Step: moffman.StepDetected, NextAttempt: now, Created: now})
	}
	if err := s.CommitSync(ctx, "office", jobs, "tok"); err != nil {
		b.Fatal(err)
	}
	var batch []moffman.Job
	for b.Loop() {
		if len(batch) == 0 {
			var err error
			if batch, err = s.ClaimJobs(ctx, now, 10, "bench", time.Minute); err != nil || len(batch) == 0 {
				b.Fatalf("claimed %d: %v", len(batch), err)
			}
		}
		c := batch[0]
		c.Step = moffman.StepDone
		if err := s.SaveJob(ctx, c); err != nil {
			b.Fatal(err)
		}
		batch = batch[1:]
	}
}

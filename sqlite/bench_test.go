package sqlite

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/moffman/moffman"
)

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

// BenchmarkInsertParallel inserts from 32 goroutines on a 2-core machine,
// as the REST layer does under load. cpu-ns/op is the process's CPU time
// (user + system, all goroutines and the checkpointer) per insert, which
// other load on a shared machine moves less than ns/op.
func BenchmarkInsertParallel(b *testing.B) {
	s := openTest(b)
	ctx := context.Background()
	var n atomic.Int64
	b.SetParallelism(32)
	cpu0 := cpuTime()
	defer func() { b.ReportMetric(float64(cpuTime()-cpu0)/float64(b.N), "cpu-ns/op") }()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := s.Insert(ctx, "office", benchEvent(int(n.Add(1)))); err != nil {
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

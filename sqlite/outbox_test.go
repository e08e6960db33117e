package sqlite

import (
	"context"
	"testing"
	"time"

	"github.com/moffman/moffman"
	"github.com/moffman/moffman/internal/calendartest"
)

func TestOutboxContract(t *testing.T) {
	calendartest.TestOutbox(t, func(t *testing.T, now func() time.Time) moffman.Outbox {
		return openTest(t, WithClock(now))
	})
}

func TestMemoryOutboxContract(t *testing.T) {
	calendartest.TestOutbox(t, func(t *testing.T, now func() time.Time) moffman.Outbox {
		s, err := Open(context.Background(), "", WithClock(now))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	})
}

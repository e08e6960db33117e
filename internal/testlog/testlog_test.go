package testlog

import (
	"log/slog"
	"strings"
	"sync"
	"testing"
)

func TestBufferKeepsConcurrentWrites(t *testing.T) {
	logs := &Buffer{}
	logger := slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 100 {
				logger.Debug("tick")
				_ = logs.String() // a test reading while the code logs
			}
		})
	}
	wg.Wait()
	if n := strings.Count(logs.String(), "msg=tick"); n != 800 {
		t.Errorf("%d lines logged, want 800:\n%s", n, logs)
	}
}

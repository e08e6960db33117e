package main

import (
	"os"
	"testing"
	"time"
)

// TestProcessCPU reads this process's CPU time from /proc and checks it
// against getrusage: the same figure, up to /proc's 10 ms ticks.
func TestProcessCPU(t *testing.T) {
	x := 0
	for start := time.Now(); time.Since(start) < 100*time.Millisecond; {
		x++ // use some CPU, so that there are ticks to count
	}
	self, ok1 := selfCPU()
	proc, ok2 := processCPU(os.Getpid())
	if !ok1 || !ok2 || x == 0 {
		t.Fatalf("getrusage ok %v, /proc ok %v", ok1, ok2)
	}
	if d := self - proc; proc <= 0 || d < -20*time.Millisecond || d > 20*time.Millisecond {
		t.Errorf("/proc says %v, getrusage %v", proc, self)
	}
}

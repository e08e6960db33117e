//go:build pprof

package main

// Built with -tags pprof (never in a release), moffman serves
// net/http/pprof on the loopback address in PPROF_ADDR, e.g.
// PPROF_ADDR=127.0.0.1:6060, for profiling under load (README,
// "Performance"). The variable has no MOFFMAN_ prefix: it is not
// configuration.

import (
	"net"
	"net/http"
	_ "net/http/pprof" // registers /debug/pprof on http.DefaultServeMux
	"os"
	"runtime"
)

func init() {
	addr := os.Getenv("PPROF_ADDR")
	if addr == "" {
		return
	}
	host, _, err := net.SplitHostPort(addr)
	if ip := net.ParseIP(host); err != nil || ip == nil || !ip.IsLoopback() {
		panic("PPROF_ADDR must be a loopback host:port, such as 127.0.0.1:6060")
	}
	runtime.SetBlockProfileRate(int(1e6)) // one sample per ms blocked
	runtime.SetMutexProfileFraction(100)
	go http.ListenAndServe(addr, nil) //nolint:errcheck // a profiling aid; lives as long as the process
}

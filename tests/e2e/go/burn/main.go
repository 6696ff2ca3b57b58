// A small Go program for the e2e tests tests/e2e/go_pprof and
// tests/e2e/convert_go: it burns CPU in a few named functions and allocates
// in others, then writes a CPU profile and a heap profile with runtime/pprof,
// so the tests can compare what profiletometrics reads from them with what
// `go tool pprof` reads.
//
//	burn OUTDIR [SECONDS]
//
// The call graph, with nothing inlined:
//
//	main -> cpuWork -> pathA -> shared -> spin
//	                -> pathB -> shared -> spin
//	                -> recurse -> recurse -> ... -> spin
//	main -> allocWork -> allocSmall / allocLarge
//
// pathA runs under the pprof label endpoint=/a and pathB under endpoint=/b
// (runtime/pprof.Do, which adds a closure frame between cpuWork and the
// path); recurse runs with no label.
package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"strconv"
	"time"
)

var sink uint64
var kept [][]byte

//go:noinline
func spin(n int) uint64 {
	x := sink + 1
	for i := 0; i < n; i++ {
		x = x*6364136223846793005 + 1442695040888963407
	}
	return x
}

// shared is called from two places.
//
//go:noinline
func shared(n int) {
	sink += spin(n)
}

//go:noinline
func pathA() { shared(200000) }

//go:noinline
func pathB() { shared(100000) }

// recurse calls itself depth times, then burns.
//
//go:noinline
func recurse(depth int) {
	if depth > 0 {
		recurse(depth - 1)
		return
	}
	sink += spin(300000)
}

//go:noinline
func cpuWork(d time.Duration) {
	ctx := context.Background()
	labelA := pprof.Labels("endpoint", "/a")
	labelB := pprof.Labels("endpoint", "/b")
	end := time.Now().Add(d)
	for time.Now().Before(end) {
		pprof.Do(ctx, labelA, func(context.Context) { pathA() })
		pprof.Do(ctx, labelB, func(context.Context) { pathB() })
		recurse(5)
	}
}

//go:noinline
func allocSmall() {
	for i := 0; i < 1000; i++ {
		kept = append(kept, make([]byte, 64))
	}
}

//go:noinline
func allocLarge() {
	for i := 0; i < 10; i++ {
		kept = append(kept, make([]byte, 1<<20))
	}
}

//go:noinline
func allocWork() {
	allocSmall()
	allocLarge()
}

func check(err error) {
	if err != nil {
		fmt.Fprintln(os.Stderr, "burn:", err)
		os.Exit(1)
	}
}

func writeCPU(path string, d time.Duration) {
	f, err := os.Create(path)
	check(err)
	check(pprof.StartCPUProfile(f))
	cpuWork(d)
	pprof.StopCPUProfile()
	check(f.Close())
}

func writeHeap(path string) {
	allocWork()
	runtime.GC() // the heap profile shows the state as of the last GC
	f, err := os.Create(path)
	check(err)
	check(pprof.Lookup("heap").WriteTo(f, 0))
	check(f.Close())
}

func main() {
	runtime.MemProfileRate = 1 // record every allocation: exact heap numbers
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: burn OUTDIR [SECONDS]")
		os.Exit(2)
	}
	seconds := 2.0
	if len(os.Args) > 2 {
		s, err := strconv.ParseFloat(os.Args[2], 64)
		check(err)
		seconds = s
	}
	writeCPU(filepath.Join(os.Args[1], "cpu.pprof"), time.Duration(seconds*float64(time.Second)))
	writeHeap(filepath.Join(os.Args[1], "heap.pprof"))
	if len(kept) == 0 {
		fmt.Println(sink)
	}
}

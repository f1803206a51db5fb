package main

import (
	"bytes"
	"encoding/json"
	"io"
	"os"
	"strings"
	"testing"
)

// TestMain runs the benchmark instead of the tests in the process that
// startupChild starts: under go test, the benchmark's own binary is this
// one.
func TestMain(m *testing.M) {
	if os.Getenv(startupChildEnv) != "" {
		main()
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// TestRun_Quick runs the whole benchmark, every case, at a tiny size and
// checks that the JSON report holds every figure. The numbers themselves
// mean nothing here (the race detector slows everything, and passwords are
// hashed with 1000 rounds so logins stay fast); that the run
// completes without a failed request, and reports, is the test.
func TestRun_Quick(t *testing.T) {
	var out, progress bytes.Buffer
	args := []string{"--quick", "--json", "--users", "8", "--conns", "8", "--warmup", "50ms",
		"--duration", "150ms", "--reps", "3", "--rebuild", "300,1000", "--mem-attrs", "2000",
		"--password-rounds", "1000"}
	if err := run(t.Context(), args, &out, &progress); err != nil {
		t.Fatalf("run: %v\n%s", err, progress.String())
	}
	var got map[string]any
	if err := json.Unmarshal(out.Bytes(), &got); err != nil {
		t.Fatalf("output is not one JSON object: %v\n%s", err, out.String())
	}
	for _, key := range []string{"set_vs_thin_write", "get_vs_thin_read", "get_local_vs_thin_read", "get_replica_vs_thin_read",
		"setmany_vs_set", "rebuild_vs_readback", "heap_bytes_per_attr"} {
		if v, ok := got[key].(float64); !ok || !(v > 0) {
			t.Errorf("%s = %v, want a positive number", key, got[key])
		}
	}
	cases, _ := got["cases"].(map[string]any)
	for _, name := range allCases {
		if name == "startup" || name == "memory" {
			continue
		}
		c, _ := cases[name].(map[string]any)
		reps, _ := c["reps"].([]any)
		if ops, _ := c["ops_per_s"].(float64); ops <= 0 || len(reps) != 3 {
			t.Errorf("case %s: ops_per_s %v over %d repetitions, want > 0 over 3", name, c["ops_per_s"], len(reps))
		}
	}
	for _, key := range []string{"get_alone_p99_ms", "get_during_login_flood_p99_ms", "get_login_flood_p99_vs_alone"} {
		if v, ok := got[key].(float64); !ok || !(v > 0) {
			t.Errorf("%s = %v, want a positive number", key, got[key])
		}
	}
	startup, _ := got["startup"].([]any)
	if len(startup) != 2 {
		t.Errorf("startup has %d sizes, want 2 (300 and 1000 events)", len(startup))
	}
	if mem, _ := got["memory"].(map[string]any); mem["attrs"] != float64(2000) {
		t.Errorf("memory measured %v attributes, want 2000", mem["attrs"])
	}
}

func TestParseParams_Rejects(t *testing.T) {
	for _, args := range [][]string{
		{"--users", "10", "--conns", "64"},
		{"--cases", "nope"},
		{"--rebuild", "10"},
		{"--reps", "0"},
		{"--password-rounds", "0"},
		{"extra"},
	} {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			if _, err := parseParams(args, io.Discard); err == nil {
				t.Fatalf("parseParams(%q) accepted, want an error", args)
			}
		})
	}
}

package httpapi

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/labstack/echo/v4"
)

// TestEdge_Timeout: a request still running at Options.RequestTimeout sees
// its context end with DeadlineExceeded, and the answer is 503 E008005
// with Retry-After and the request's cid.
func TestEdge_Timeout(t *testing.T) {
	s := New(nil, slog.New(slog.DiscardHandler), Options{RequestTimeout: 20 * time.Millisecond})
	var got error
	s.e.GET("/test/slow", func(c echo.Context) error {
		ctx := c.Request().Context()
		select {
		case <-ctx.Done():
			got = ctx.Err()
			return ctx.Err()
		case <-time.After(10 * time.Second):
			return errors.New("no deadline after 10s")
		}
	})
	rec := httptest.NewRecorder()
	s.ServeHTTP(rec, httptest.NewRequest("GET", "/test/slow", nil))
	if !errors.Is(got, context.DeadlineExceeded) {
		t.Fatalf("handler's ctx.Err() = %v, want DeadlineExceeded", got)
	}
	var body struct {
		CID       string   `json:"cid"`
		SubStatus []string `json:"sub_status"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil {
		t.Fatalf("answer %s: %v", rec.Body.Bytes(), err)
	}
	if rec.Code != http.StatusServiceUnavailable || len(body.SubStatus) != 1 || body.SubStatus[0] != CodeUnavailable {
		t.Fatalf("answer = %d %s, want 503 %s", rec.Code, rec.Body.Bytes(), CodeUnavailable)
	}
	if got := rec.Header().Get("Retry-After"); got != retryAfter {
		t.Fatalf("Retry-After = %q, want %q", got, retryAfter)
	}
	if h := rec.Header().Get("X-Zato-CID"); body.CID == "" || h != body.CID {
		t.Fatalf("cid %q, X-Zato-CID %q: want the same, non-empty", body.CID, h)
	}
}

// TestEdge_Context: a handler's context carries the cid and a deadline
// RequestTimeout away, except on the streaming path, which has none.
func TestEdge_Context(t *testing.T) {
	const timeout = time.Minute
	s := New(nil, slog.New(slog.DiscardHandler), Options{RequestTimeout: timeout})
	type seen struct {
		cid      string
		deadline time.Time
		ok       bool
	}
	var got seen
	h := func(c echo.Context) error {
		ctx := c.Request().Context()
		got.cid, _ = ctx.Value(ctxKey{}).(string)
		got.deadline, got.ok = ctx.Deadline()
		return c.NoContent(http.StatusOK)
	}
	s.e.GET("/test/ctx", h)
	s.e.POST("/zato/sso/events", h) // the streaming path, on a method the API leaves free
	for _, tc := range []struct {
		method, path string
		deadline     bool
	}{{"GET", "/test/ctx", true}, {"POST", "/zato/sso/events", false}} {
		got = seen{}
		start := time.Now()
		rec := httptest.NewRecorder()
		s.ServeHTTP(rec, httptest.NewRequest(tc.method, tc.path, nil))
		if got.cid == "" || got.cid != rec.Header().Get("X-Zato-CID") {
			t.Fatalf("%s %s: context cid %q, X-Zato-CID %q; want the same", tc.method, tc.path, got.cid, rec.Header().Get("X-Zato-CID"))
		}
		if got.ok != tc.deadline {
			t.Fatalf("%s %s: has deadline = %v, want %v", tc.method, tc.path, got.ok, tc.deadline)
		}
		if tc.deadline && (got.deadline.Before(start.Add(timeout)) || got.deadline.After(time.Now().Add(timeout))) {
			t.Fatalf("%s %s: deadline %v, want %v from the request's start", tc.method, tc.path, got.deadline, timeout)
		}
	}
}

// TestNewCID: 24 lower-case hex characters, different every time.
func TestNewCID(t *testing.T) {
	seen := map[string]bool{}
	for range 10000 {
		id := newCID()
		if len(id) != 24 {
			t.Fatalf("newCID() = %q, want 24 characters", id)
		}
		for _, c := range id {
			if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
				t.Fatalf("newCID() = %q, want lower-case hex", id)
			}
		}
		if seen[id] {
			t.Fatalf("newCID() repeated %q", id)
		}
		seen[id] = true
	}
}

// TestEdge_RequestLog_ErrorStatus: a request that fails is logged with the
// status it was answered with, not the 200 a response starts out with.
func TestEdge_RequestLog_ErrorStatus(t *testing.T) {
	for _, c := range []struct {
		method, path, body string
		want               int
	}{
		{"GET", "/zato/sso/nowhere", "", http.StatusNotFound},
		{"PUT", "/healthz", "", http.StatusMethodNotAllowed},
		{"POST", "/zato/sso/user/login", "not json", http.StatusBadRequest},
	} {
		var logs bytes.Buffer
		s := New(nil, slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug})), Options{})
		rec := httptest.NewRecorder()
		s.ServeHTTP(rec, httptest.NewRequest(c.method, c.path, strings.NewReader(c.body)))
		if rec.Code != c.want {
			t.Fatalf("%s %s = %d %s, want %d", c.method, c.path, rec.Code, rec.Body.Bytes(), c.want)
		}
		var line struct {
			Msg    string
			Status int
		}
		if err := json.Unmarshal(logs.Bytes(), &line); err != nil {
			t.Fatalf("%s %s: log %s: %v", c.method, c.path, logs.Bytes(), err)
		}
		if line.Msg != "request" || line.Status != c.want {
			t.Fatalf("%s %s: logged %s, want a request line with status %d", c.method, c.path, logs.Bytes(), c.want)
		}
	}
}

// TestEdge_RequestLog: with debug enabled every request is logged with its
// cid, method, path and status; with it disabled nothing is.
func TestEdge_RequestLog(t *testing.T) {
	for _, level := range []slog.Level{slog.LevelDebug, slog.LevelInfo} {
		var logs bytes.Buffer
		s := New(nil, slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: level})), Options{})
		rec := httptest.NewRecorder()
		s.ServeHTTP(rec, httptest.NewRequest("GET", "/healthz?ust=secret", nil))
		if level > slog.LevelDebug {
			if logs.Len() != 0 {
				t.Fatalf("level %v: logged %s, want nothing", level, logs.Bytes())
			}
			continue
		}
		var line struct {
			Msg, CID, Method, Path string
			Status                 int
		}
		if err := json.Unmarshal(logs.Bytes(), &line); err != nil {
			t.Fatalf("log %s: %v", logs.Bytes(), err)
		}
		want := line
		want.Msg, want.CID, want.Method, want.Path, want.Status = "request", rec.Header().Get("X-Zato-CID"), "GET", "/healthz", 200
		if line != want || want.CID == "" {
			t.Fatalf("log line %+v, want %+v", line, want)
		}
		if bytes.Contains(logs.Bytes(), []byte("secret")) {
			t.Fatalf("log %s holds the query string", logs.Bytes())
		}
	}
}

// TestEdge_Panic: a handler that panics is answered 500 in Zato's envelope
// with the request's cid, the panic is logged with its stack, and the
// server goes on serving; http.ErrAbortHandler still aborts the response.
func TestEdge_Panic(t *testing.T) {
	var logs bytes.Buffer
	s := New(nil, slog.New(slog.NewJSONHandler(&logs, nil)), Options{})
	s.e.GET("/test/panic", func(echo.Context) error { panic("handler bug") })
	s.e.GET("/test/abort", func(echo.Context) error { panic(http.ErrAbortHandler) })
	srv := httptest.NewServer(s)
	defer srv.Close()

	resp, err := http.Get(srv.URL + "/test/panic")
	if err != nil {
		t.Fatal(err)
	}
	var body struct{ CID, Status string }
	err = json.NewDecoder(resp.Body).Decode(&body)
	resp.Body.Close()
	if err != nil || resp.StatusCode != http.StatusInternalServerError || body.Status != "error" {
		t.Fatalf("panicking handler: %d %+v (%v), want 500 in the envelope", resp.StatusCode, body, err)
	}
	if h := resp.Header.Get("X-Zato-CID"); body.CID == "" || h != body.CID {
		t.Fatalf("cid %q, X-Zato-CID %q: want the same, non-empty", body.CID, h)
	}
	var line struct{ Msg, CID, Route, Stack string }
	for l := range strings.Lines(logs.String()) {
		if json.Unmarshal([]byte(l), &line) == nil && line.Msg == "handler panicked" {
			break
		}
	}
	if line.Msg != "handler panicked" || line.CID != body.CID || line.Route != "/test/panic" ||
		!strings.Contains(line.Stack, "TestEdge_Panic") {
		t.Fatalf("log %s: want the panic with the cid, route and stack", logs.Bytes())
	}

	if resp, err := http.Get(srv.URL + "/test/abort"); err == nil {
		resp.Body.Close()
		t.Fatalf("ErrAbortHandler: answered %d, want the response aborted", resp.StatusCode)
	}
	resp, err = http.Get(srv.URL + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("after the panics, /healthz = %d, want 200", resp.StatusCode)
	}
}

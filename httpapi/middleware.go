package httpapi

import (
	"context"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"runtime/debug"
	"time"

	"github.com/labstack/echo/v4"
)

type ctxKey struct{}

// cidKey is where a context built by hand (a benchmark's) keeps the cid.
const cidKey = "cid"

// cidHeader is X-Zato-CID in the canonical form net/http would give it:
// setting the map entry directly skips canonicalizing it on every request.
var cidHeader = http.CanonicalHeaderKey("X-Zato-CID")

// streaming lists the paths whose responses are long-lived streams.
var streaming = map[string]bool{"/zato/sso/events": true}

// edge runs first on every request. It gives the request its correlation
// id, in the X-Zato-CID header and in the context for logs, and unless the
// answer is a stream its deadline (Options.RequestTimeout). Requests are logged (at debug level)
// only when that level is enabled: building the log values of every
// request for a logger that drops them was a measurable share of its cost.
func (s *Server) edge(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) (err error) {
		if m := s.opt.Metrics; m != nil {
			// Deferred before recoverPanic, so it runs after it: a panic is
			// counted with the 500 it was answered with.
			defer s.observe(c, m, time.Now(), &err)
		}
		id := newCID()
		req := c.Request()
		c.Response().Header()[cidHeader] = []string{id}
		ctx := context.WithValue(req.Context(), ctxKey{}, id)
		if !streaming[req.URL.Path] {
			var cancel context.CancelFunc
			ctx, cancel = context.WithTimeout(ctx, s.opt.RequestTimeout)
			defer cancel()
		}
		c.SetRequest(req.WithContext(ctx))
		defer s.recoverPanic(c)
		if s.log.Enabled(ctx, slog.LevelDebug) {
			return s.logRequest(next)(c)
		}
		return next(c)
	}
}

// observe, deferred, tells m about the request once it is answered: an
// error still to be answered is answered here (by handleError, through
// c.Error) so that its status is known.
func (s *Server) observe(c echo.Context, m Metrics, start time.Time, err *error) {
	if *err != nil {
		c.Error(*err)
		*err = nil
	}
	m.Request(c.Path(), c.Request().Method, c.Response().Status, time.Since(start))
}

// recoverPanic, deferred, turns a handler's panic into a 500 answered by
// handleError, with the stack in the log, as Echo's Recover middleware
// does; http.ErrAbortHandler goes on up to net/http, which aborts the
// response. It is part of edge rather than a middleware of its own because
// Echo wraps every request in its middleware anew, a closure each.
func (s *Server) recoverPanic(c echo.Context) {
	r := recover()
	if r == nil {
		return
	}
	if r == http.ErrAbortHandler {
		panic(r)
	}
	err, ok := r.(error)
	if !ok {
		err = fmt.Errorf("%v", r)
	}
	s.log.ErrorContext(c.Request().Context(), "handler panicked", slog.String("cid", cid(c)),
		slog.String("route", c.Path()), slog.String("stack", string(debug.Stack())))
	c.Error(fmt.Errorf("panic: %w", err))
}

// newCID returns a correlation id: 96 random bits as 24 lower-case hex
// characters (docs/API.md#envelope). A cid must be unique, not secret, so it comes from
// math/rand/v2, the runtime's per-thread ChaCha8 generator seeded by the
// system, rather than a crypto/rand read per request.
func newCID() string {
	var b [12]byte
	binary.BigEndian.PutUint64(b[:8], rand.Uint64())
	binary.BigEndian.PutUint32(b[8:], rand.Uint32())
	var h [24]byte
	hex.Encode(h[:], b[:])
	return string(h[:])
}

// cid returns the request's correlation id.
func cid(c echo.Context) string {
	if id, ok := c.Request().Context().Value(ctxKey{}).(string); ok {
		return id
	}
	id, _ := c.Get(cidKey).(string)
	return id
}

// Package httpapi serves the SSO REST API of docs/API.md (Zato's /zato/sso/...
// endpoints) over Echo v4, with Zato's request and response shapes.
//
// Every handler parses its input (JSON body whatever the Content-Type, query
// string on every method), checks it in docs/API.md#processing-order's order, calls the sso
// service and writes the envelope. One error handler turns every error into
// the documented status code; clients see a correlation id, never internal
// error text.
package httpapi

import (
	"context"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"runtime/debug"
	"strconv"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"

	"github.com/ssoattr/ssoattr/domain"
	"github.com/ssoattr/ssoattr/sso"
)

// Options configures the HTTP layer.
type Options struct {
	// TrustProxy takes the remote address from the first X-Forwarded-For
	// entry instead of the TCP peer (docs/API.md#account-checks).
	TrustProxy bool
	// Ready reports whether the service can answer (GET /healthz).
	Ready func(ctx context.Context) error
	// Readiness reports, without waiting, whether the instance is ready to
	// serve (GET /readyz): the answer of a background check, so that a
	// probe costs nothing. Nil: always ready.
	Readiness func() error
	// RequestTimeout bounds one request (default 5s): a request that
	// cannot complete because NATS is unreachable, without quorum or slow
	// is answered by then with 503 (docs/API.md#error-codes) instead of
	// hanging. Streaming endpoints are exempt.
	RequestTimeout time.Duration
	// Events is the stream behind GET /zato/sso/events (nil: that endpoint
	// answers E008004).
	Events EventSource
	// Done is closed when the server shuts down. Event streams end then:
	// http.Server.Shutdown waits for running handlers, it does not stop them.
	Done <-chan struct{}
	// Metrics, when set, is told about every request and login.
	Metrics Metrics
	// MetricsHandler, when set, serves GET /metrics.
	MetricsHandler http.Handler
}

// Metrics receives what the HTTP layer measures; internal/node implements
// it with Prometheus. Its methods are called on every request, so they must
// be cheap and safe for concurrent use.
type Metrics interface {
	// Request is one answered request: its route pattern ("" when no route
	// matched), method, status and how long it took.
	Request(route, method string, status int, took time.Duration)
	// Login is one POST /zato/sso/user/login: "ok", the sub_status code
	// refusing it, "bad_request" or "error".
	Login(outcome string)
}

// DefaultRequestTimeout is Options.RequestTimeout's default.
const DefaultRequestTimeout = 5 * time.Second

// retryAfter is the Retry-After of a 503, in seconds: about the time a
// NATS cluster takes to elect a stream leader or a client to reconnect.
const retryAfter = "1"

// Server is the HTTP API. It is an http.Handler.
type Server struct {
	e   *echo.Echo
	svc *sso.Service
	log *slog.Logger
	opt Options
	// logRequest is Echo's request logger, logging at debug level; edge
	// runs it only when that level is enabled.
	logRequest echo.MiddlewareFunc
}

// New returns the API over svc.
func New(svc *sso.Service, log *slog.Logger, opt Options) *Server {
	e := echo.New()
	e.HideBanner, e.HidePort = true, true
	e.IPExtractor = echo.ExtractIPDirect()
	if opt.TrustProxy {
		e.IPExtractor = echo.ExtractIPFromXFFHeader()
	}
	if opt.RequestTimeout <= 0 {
		opt.RequestTimeout = DefaultRequestTimeout
	}
	s := &Server{e: e, svc: svc, log: log, opt: opt}
	e.HTTPErrorHandler = s.handleError
	s.logRequest = middleware.RequestLoggerWithConfig(middleware.RequestLoggerConfig{
		LogStatus: true, LogMethod: true, LogURIPath: true, LogLatency: true,
		// A handler's error is answered (by handleError) before the line
		// is written, so the line has the status the client got.
		HandleError: true,
		// The query string is never logged: it may carry tokens and values.
		LogValuesFunc: func(c echo.Context, v middleware.RequestLoggerValues) error {
			log.LogAttrs(c.Request().Context(), slog.LevelDebug, "request",
				slog.String("cid", cid(c)), slog.String("method", v.Method),
				slog.String("path", v.URIPath), slog.Int("status", v.Status),
				slog.Duration("latency", v.Latency))
			return nil
		},
	})
	e.Use(s.edge)
	s.routes()
	return s
}

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.e.ServeHTTP(w, r) }

func (s *Server) routes() {
	e := s.e
	e.GET("/healthz", s.healthz)
	e.GET("/openapi.json", s.openapi)
	e.GET("/livez", s.livez)
	e.GET("/readyz", s.readyz)
	if s.opt.MetricsHandler != nil {
		e.GET("/metrics", echo.WrapHandler(s.opt.MetricsHandler))
	}

	e.POST("/zato/sso/user/login", s.login)
	e.POST("/zato/sso/user/logout", s.logout)
	e.GET("/zato/sso/user", s.getUser)
	e.POST("/zato/sso/user", s.createUser)
	e.POST("/zato/sso/user/approve", s.approve)
	e.POST("/zato/sso/user/reject", s.reject)
	e.PATCH("/zato/sso/user", s.updateUser)
	e.DELETE("/zato/sso/user", s.deleteUser)
	e.POST("/zato/sso/user/lock", s.lockUser)
	e.DELETE("/zato/sso/user/lock", s.unlockUser)
	e.PATCH("/zato/sso/user/password", s.changePassword)
	e.PATCH("/zato/sso/user/totp", s.setTOTP)
	e.GET("/zato/sso/user/search", s.searchUsers)
	e.POST("/zato/sso/user/signup", s.signup)
	e.PATCH("/zato/sso/user/signup", s.confirmSignup)
	e.POST("/zato/sso/user/session", s.verifySession)
	e.GET("/zato/sso/user/session", s.getSession)
	e.PATCH("/zato/sso/user/session", s.renewSession)
	e.GET("/zato/sso/user/session/list", s.listSessions)
	e.GET("/zato/sso/events", s.events)

	for _, p := range []struct {
		prefix  string
		session bool
	}{{"/zato/sso/user/attr", false}, {"/zato/sso/session/attr", true}} {
		h := attrHandlers{s: s, session: p.session}
		e.POST(p.prefix, h.create)
		e.PUT(p.prefix, h.set)
		e.PATCH(p.prefix, h.update)
		e.GET(p.prefix, h.get)
		e.DELETE(p.prefix, h.delete)
		e.GET(p.prefix+"/exists", h.exists)
		e.GET(p.prefix+"/names", h.names)
		e.GET(p.prefix+"/history", h.history)
	}
}

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
// answer is a stream its deadline (Options.RequestTimeout): one context
// (reqCtx), one copy of the request. Requests are logged (at debug level)
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
		var ctx context.Context
		if streaming[req.URL.Path] {
			c.Response().Header()[cidHeader] = []string{id}
			ctx = context.WithValue(req.Context(), ctxKey{}, id)
		} else {
			rc := newReqCtx(req.Context(), id, s.opt.RequestTimeout)
			defer rc.end()
			c.Response().Header()[cidHeader] = rc.header[:]
			ctx = rc
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

// field is one key of a response, written in order after cid and status.
// A nil value is left out (docs/API.md#envelope); a time.Time is written as docs/API.md#time-format
// says.
type field struct {
	key string
	val any
}

// reply writes a 200 response: cid, status and the fields.
func (s *Server) reply(c echo.Context, fields ...field) error {
	return s.write(c, http.StatusOK, "ok", nil, fields)
}

// replyBufs recycles response buffers: the writer copies a response out
// before Blob returns, and every request builds one.
var replyBufs = sync.Pool{New: func() any { b := make([]byte, 0, 1024); return &b }}

func (s *Server) write(c echo.Context, code int, status string, sub []string, fields []field) error {
	pb := replyBufs.Get().(*[]byte)
	defer func() {
		if cap(*pb) <= 64<<10 { // a rare huge answer is not kept
			replyBufs.Put(pb)
		}
	}()
	buf := (*pb)[:0]
	defer func() { *pb = buf[:0] }()
	buf = append(buf, `{"cid":"`...)
	buf = append(buf, cid(c)...)
	buf = append(buf, `","status":"`...)
	buf = append(buf, status...)
	buf = append(buf, '"')
	if len(sub) > 0 {
		buf = append(buf, `,"sub_status":`...)
		buf, _ = appendJSON(buf, sub)
	}
	buf, err := appendFields(buf, fields, true)
	if err != nil {
		return err
	}
	buf = append(buf, '}')
	return c.Blob(code, "application/json; charset=utf-8", buf) // docs/API.md#envelope
}

// appendObject appends a JSON object of fields in order, leaving out nil
// values (docs/API.md#envelope).
func appendObject(buf []byte, fields []field) ([]byte, error) {
	buf, err := appendFields(append(buf, '{'), fields, false)
	if err != nil {
		return nil, err
	}
	return append(buf, '}'), nil
}

// appendFields appends the fields as "key":value pairs, comma-separated,
// leaving out nil values; more says that a pair already precedes them.
func appendFields(buf []byte, fields []field, more bool) ([]byte, error) {
	for _, f := range fields {
		if f.val == nil {
			continue
		}
		if more {
			buf = append(buf, ',')
		}
		more = true
		buf = appendJSONString(buf, f.key)
		buf = append(buf, ':')
		var err error
		if buf, err = appendJSON(buf, f.val); err != nil {
			return nil, err
		}
	}
	return buf, nil
}

func appendJSON(buf []byte, v any) ([]byte, error) {
	switch x := v.(type) {
	case string:
		return appendJSONString(buf, x), nil
	case bool:
		return strconv.AppendBool(buf, x), nil
	case uint64:
		return strconv.AppendUint(buf, x, 10), nil
	case int:
		return strconv.AppendInt(buf, int64(x), 10), nil
	case int64:
		return strconv.AppendInt(buf, x, 10), nil
	case json.RawMessage:
		return append(buf, x...), nil
	case time.Time:
		return appendTime(buf, x), nil
	case []string:
		buf = append(buf, '[')
		for i, e := range x {
			if i > 0 {
				buf = append(buf, ',')
			}
			buf = appendJSONString(buf, e)
		}
		return append(buf, ']'), nil
	}
	b, err := json.Marshal(v)
	return append(buf, b...), err
}

// appendTime appends t as a JSON string in docs/API.md#time-format's format, exactly as
// domain.FormatTime writes it, but without time.Format's layout parsing
// and a string per time: an attribute answer holds three.
func appendTime(buf []byte, t time.Time) []byte {
	t = domain.Truncate(t)
	year, month, day := t.Date()
	if year < 0 || year > 9999 {
		return appendJSONString(buf, domain.FormatTime(t)) // not four digits
	}
	hour, minute, sec := t.Clock()
	b := [...]byte{'"', 'Y', 'Y', 'Y', 'Y', '-', 'M', 'M', '-', 'D', 'D', 'T',
		'h', 'h', ':', 'm', 'm', ':', 's', 's', '.', 'f', 'f', 'f', 'f', 'f', 'f', '"'}
	putDigits(b[1:5], year)
	putDigits(b[6:8], int(month))
	putDigits(b[9:11], day)
	putDigits(b[12:14], hour)
	putDigits(b[15:17], minute)
	putDigits(b[18:20], sec)
	us := t.Nanosecond() / 1000
	if us == 0 {
		b[20] = '"'
		return append(buf, b[:21]...)
	}
	putDigits(b[21:27], us)
	return append(buf, b[:]...)
}

// putDigits writes n, which is not negative, as len(dst) decimal digits.
func putDigits(dst []byte, n int) {
	for i := len(dst) - 1; i >= 0; i-- {
		dst[i] = byte('0' + n%10)
		n /= 10
	}
}

// appendJSONString appends s as a JSON string. Unlike encoding/json it does
// not escape <, > and &: Zato's JSON does not either, and names round-trip
// byte for byte.
func appendJSONString(buf []byte, s string) []byte {
	const hex = "0123456789abcdef"
	buf = append(buf, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c >= utf8.RuneSelf {
			r, size := utf8.DecodeRuneInString(s[i:])
			if r == utf8.RuneError && size == 1 || r == '\u2028' || r == '\u2029' {
				buf = append(buf, s[start:i]...)
				if r == utf8.RuneError {
					buf = append(buf, `\ufffd`...)
				} else {
					buf = append(buf, `\u202`...)
					buf = append(buf, hex[r&0xf])
				}
				i += size
				start = i
				continue
			}
			i += size
			continue
		}
		if c >= 0x20 && c != '"' && c != '\\' {
			i++
			continue
		}
		buf = append(buf, s[start:i]...)
		switch c {
		case '"', '\\':
			buf = append(buf, '\\', c)
		case '\n':
			buf = append(buf, '\\', 'n')
		case '\r':
			buf = append(buf, '\\', 'r')
		case '\t':
			buf = append(buf, '\\', 't')
		default:
			buf = append(buf, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
		}
		i++
		start = i
	}
	buf = append(buf, s[start:]...)
	return append(buf, '"')
}

// handleError is the one place errors become responses (docs/API.md#http-status).
func (s *Server) handleError(err error, c echo.Context) {
	if c.Response().Committed {
		return
	}
	var (
		ce     *domain.CodeError
		he     *echo.HTTPError
		status = http.StatusInternalServerError
		code   = "E008004"
		extra  []field
	)
	switch {
	case errors.Is(err, domain.ErrOutcomeUnknown):
		// Checked first: such an error may wrap a timeout as well.
		status, code = http.StatusServiceUnavailable, CodeOutcomeUnknown
	case errors.Is(err, domain.ErrUnavailable) || errors.Is(err, context.DeadlineExceeded):
		status, code = http.StatusServiceUnavailable, CodeUnavailable
	case errors.As(err, &ce):
		status, code = http.StatusForbidden, ce.Code
	case errors.Is(err, errBadRequest):
		status, code = http.StatusBadRequest, "E008002"
		extra = []field{{"result", "Error"}, {"details", "Bad request"}}
	case errors.Is(err, errMissing):
		status, code = http.StatusBadRequest, "E008003"
		extra = []field{{"result", "Error"}, {"details", "Bad request"}}
	case errors.Is(err, domain.ErrBusy): // retryable: nothing was done
		status, code = http.StatusServiceUnavailable, "E008007"
		c.Response().Header().Set("Retry-After", "1")
	case errors.As(err, &he) && he.Code == http.StatusNotFound:
		status, code = http.StatusNotFound, "E008001"
	case errors.As(err, &he) && he.Code == http.StatusMethodNotAllowed:
		status, code = http.StatusMethodNotAllowed, "E008001"
	case errors.As(err, &he) && he.Code < 500:
		status, code = http.StatusBadRequest, "E008002"
	}
	switch {
	case status == http.StatusServiceUnavailable && errors.Is(err, domain.ErrBusy):
		// busy is load, not a failure: not logged
	case status == http.StatusServiceUnavailable:
		c.Response().Header().Set("Retry-After", retryAfter)
		s.log.WarnContext(c.Request().Context(), "request unavailable", slog.String("code", code),
			slog.String("cid", cid(c)), slog.String("route", c.Path()), slog.Any("err", err))
	case status >= 500:
		s.log.ErrorContext(c.Request().Context(), "request failed",
			slog.String("cid", cid(c)), slog.String("route", c.Path()), slog.Any("err", err))
	}
	if err := s.write(c, status, "error", []string{code}, extra); err != nil {
		s.log.ErrorContext(c.Request().Context(), "write error response", slog.Any("err", err))
	}
}

// The codes of a request the service could not complete for want of its
// event store (docs/API.md#error-codes), both answered with 503 and
// Retry-After.
const (
	// CodeUnavailable: NATS unreachable, without quorum or too slow. A
	// write answered so was not stored and never will be: send it again.
	CodeUnavailable = "E008005"
	// CodeOutcomeUnknown: a write was sent, never acknowledged, and could
	// not be found in time. It may be stored (even later): read back
	// before sending it again.
	CodeOutcomeUnknown = "E008006"
)

// livez says the process is up and serving HTTP; it asks nothing of NATS,
// so a restart is never triggered by a NATS outage.
func (s *Server) livez(c echo.Context) error {
	return c.JSONBlob(http.StatusOK, []byte(`{"status":"ok"}`))
}

// readyz answers the background check's verdict (Options.Readiness) at
// once: 503 while the instance cannot reach a stream leader with quorum,
// or its view lags behind the stream.
func (s *Server) readyz(c echo.Context) error {
	if s.opt.Readiness != nil {
		if err := s.opt.Readiness(); err != nil {
			c.Response().Header().Set("Retry-After", retryAfter)
			return c.JSONBlob(http.StatusServiceUnavailable, []byte(`{"status":"error"}`))
		}
	}
	return c.JSONBlob(http.StatusOK, []byte(`{"status":"ok"}`))
}

func (s *Server) healthz(c echo.Context) error {
	if s.opt.Readiness != nil {
		if err := s.opt.Readiness(); err != nil {
			s.log.WarnContext(c.Request().Context(), "not ready", slog.Any("err", err))
			c.Response().Header().Set("Retry-After", retryAfter)
			return c.JSONBlob(http.StatusServiceUnavailable, []byte(`{"status":"error"}`))
		}
	}
	if s.opt.Ready != nil {
		if err := s.opt.Ready(c.Request().Context()); err != nil {
			s.log.WarnContext(c.Request().Context(), "not ready", slog.Any("err", err))
			return c.JSONBlob(http.StatusServiceUnavailable, []byte(`{"status":"error"}`))
		}
	}
	return c.JSONBlob(http.StatusOK, []byte(`{"status":"ok"}`))
}

// meta describes the request for the audit trail and the IP allow-list.
func meta(c echo.Context, app string) sso.Meta {
	return sso.Meta{CID: cid(c), App: app, RemoteAddr: c.RealIP(), UserAgent: c.Request().UserAgent()}
}

// begin runs steps 2 to 4 of docs/API.md#processing-order common to every endpoint: parse,
// check that current_app, the endpoint's other required keys and (when
// token is set) the caller token are present, then check the app.
func (s *Server) begin(c echo.Context, token bool, required ...string) (*input, string, error) {
	in, err := parseInput(c.Request())
	if err != nil {
		return nil, "", err
	}
	if err := in.require("current_app"); err != nil {
		return nil, "", err
	}
	if err := in.require(required...); err != nil {
		return nil, "", err
	}
	if token && !in.has("ust") && !in.has("current_ust") {
		return nil, "", errMissing
	}
	app, _, err := in.str("current_app")
	if err != nil {
		return nil, "", err
	}
	if err := s.svc.CheckApp(app); err != nil {
		return nil, "", err
	}
	return in, app, nil
}

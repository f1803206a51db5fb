// Package httpapi serves the SSO REST API of SPEC.md (Zato's /zato/sso/...
// endpoints) over Echo v4, with Zato's request and response shapes.
//
// Every handler parses its input (JSON body whatever the Content-Type, query
// string on every method), checks it in SPEC 1.5's order, calls the sso
// service and writes the envelope. One error handler turns every error into
// the documented status code; clients see a correlation id, never internal
// error text.
package httpapi

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
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
	// entry instead of the TCP peer (SPEC 3.4).
	TrustProxy bool
	// Ready reports whether the service can answer (GET /healthz).
	Ready func(ctx context.Context) error
	// RequestTimeout bounds one request (default 10s): a request waiting on
	// NATS that is unreachable gets E008004 instead of hanging. Streaming
	// endpoints are exempt.
	RequestTimeout time.Duration
	// Events is the stream behind GET /zato/sso/events (nil: that endpoint
	// answers E008004).
	Events EventSource
	// Done is closed when the server shuts down. Event streams end then:
	// http.Server.Shutdown waits for running handlers, it does not stop them.
	Done <-chan struct{}
}

// Server is the HTTP API. It is an http.Handler.
type Server struct {
	e   *echo.Echo
	svc *sso.Service
	log *slog.Logger
	opt Options
}

// New returns the API over svc.
func New(svc *sso.Service, log *slog.Logger, opt Options) *Server {
	e := echo.New()
	e.HideBanner, e.HidePort = true, true
	e.IPExtractor = echo.ExtractIPDirect()
	if opt.TrustProxy {
		e.IPExtractor = echo.ExtractIPFromXFFHeader()
	}
	s := &Server{e: e, svc: svc, log: log, opt: opt}
	e.HTTPErrorHandler = s.handleError
	e.Use(s.assignCID)
	e.Use(s.timeout)
	e.Use(middleware.RequestLoggerWithConfig(middleware.RequestLoggerConfig{
		LogStatus: true, LogMethod: true, LogURIPath: true, LogLatency: true,
		// The query string is never logged: it may carry tokens and values.
		LogValuesFunc: func(c echo.Context, v middleware.RequestLoggerValues) error {
			log.LogAttrs(c.Request().Context(), slog.LevelDebug, "request",
				slog.String("cid", cid(c)), slog.String("method", v.Method),
				slog.String("path", v.URIPath), slog.Int("status", v.Status),
				slog.Duration("latency", v.Latency))
			return nil
		},
	}))
	e.Use(middleware.Recover())
	s.routes()
	return s
}

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.e.ServeHTTP(w, r) }

func (s *Server) routes() {
	e := s.e
	e.GET("/healthz", s.healthz)

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

const cidKey = "cid"

// assignCID gives every request a correlation id, in the X-Zato-CID header
// and in the request's context for logs.
func (s *Server) assignCID(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		var b [12]byte
		_, _ = rand.Read(b[:])
		id := hex.EncodeToString(b[:])
		c.Set(cidKey, id)
		c.Response().Header().Set("X-Zato-CID", id)
		req := c.Request()
		c.SetRequest(req.WithContext(context.WithValue(req.Context(), ctxKey{}, id)))
		return next(c)
	}
}

// streaming lists the paths whose responses are long-lived streams.
var streaming = map[string]bool{"/zato/sso/events": true}

// timeout gives each request a deadline (Options.RequestTimeout).
func (s *Server) timeout(next echo.HandlerFunc) echo.HandlerFunc {
	d := s.opt.RequestTimeout
	if d <= 0 {
		d = 10 * time.Second
	}
	return func(c echo.Context) error {
		if streaming[c.Request().URL.Path] {
			return next(c)
		}
		ctx, cancel := context.WithTimeout(c.Request().Context(), d)
		defer cancel()
		c.SetRequest(c.Request().WithContext(ctx))
		return next(c)
	}
}

func cid(c echo.Context) string {
	id, _ := c.Get(cidKey).(string)
	return id
}

// field is one key of a response, written in order after cid and status.
// A nil value is left out (SPEC 1.3).
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
	return c.Blob(code, "application/json; charset=utf-8", buf) // SPEC 1.3
}

// appendObject appends a JSON object of fields in order, leaving out nil
// values (SPEC 1.3).
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

// handleError is the one place errors become responses (SPEC 1.4).
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
	case errors.As(err, &ce):
		status, code = http.StatusForbidden, ce.Code
	case errors.Is(err, errBadRequest):
		status, code = http.StatusBadRequest, "E008002"
		extra = []field{{"result", "Error"}, {"details", "Bad request"}}
	case errors.Is(err, errMissing):
		status, code = http.StatusBadRequest, "E008003"
		extra = []field{{"result", "Error"}, {"details", "Bad request"}}
	case errors.As(err, &he) && he.Code == http.StatusNotFound:
		status, code = http.StatusNotFound, "E008001"
	case errors.As(err, &he) && he.Code == http.StatusMethodNotAllowed:
		status, code = http.StatusMethodNotAllowed, "E008001"
	case errors.As(err, &he) && he.Code < 500:
		status, code = http.StatusBadRequest, "E008002"
	}
	if status >= 500 {
		s.log.ErrorContext(c.Request().Context(), "request failed",
			slog.String("cid", cid(c)), slog.String("route", c.Path()), slog.Any("err", err))
	}
	if err := s.write(c, status, "error", []string{code}, extra); err != nil {
		s.log.ErrorContext(c.Request().Context(), "write error response", slog.Any("err", err))
	}
}

func (s *Server) healthz(c echo.Context) error {
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

// begin runs steps 2 to 4 of SPEC 1.5 common to every endpoint: parse,
// check that current_app, the endpoint's other required keys and (when
// token is set) the caller token are present, then check the app.
func (s *Server) begin(c echo.Context, token bool, required ...string) (*input, string, error) {
	in, err := parseInput(c.Request())
	if err != nil {
		return nil, "", err
	}
	if err := in.require(append([]string{"current_app"}, required...)...); err != nil {
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

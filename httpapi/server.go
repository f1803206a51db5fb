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
	"log/slog"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"

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

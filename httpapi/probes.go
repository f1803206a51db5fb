package httpapi

import (
	"log/slog"
	"net/http"

	"github.com/labstack/echo/v4"
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

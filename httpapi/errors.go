package httpapi

import (
	"context"
	"errors"
	"log/slog"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/ssoattr/ssoattr/domain"
)

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

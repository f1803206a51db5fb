package httpapi

import (
	"encoding/json"

	"github.com/labstack/echo/v4"

	"github.com/ssoattr/ssoattr/domain"
)

// appendList appends a JSON array of objects.
func appendList[T any](buf []byte, items []T, fields func(T) ([]byte, error)) ([]byte, error) {
	buf = append(buf, '[')
	for i, it := range items {
		if i > 0 {
			buf = append(buf, ',')
		}
		b, err := fields(it)
		if err != nil {
			return nil, err
		}
		buf = append(buf, b...)
	}
	return append(buf, ']'), nil
}

// sessionItem is one session of the list (docs/API.md#session-list). It holds no token of
// any form, sealed or internal (docs/API.md#d27).
func sessionItem(s *domain.Session) ([]byte, error) {
	history, err := appendList(nil, s.History, func(h domain.HistoryEntry) ([]byte, error) {
		return appendObject(nil, []field{
			{"remote_addr", h.RemoteAddr},
			{"user_agent", h.UserAgent},
			{"timestamp_utc", domain.FormatTime(h.Timestamp)},
			{"ctx_source", h.Source},
			{"idx", h.Idx},
		})
	})
	if err != nil {
		return nil, err
	}
	fields := []field{
		{"creation_time", domain.FormatTime(s.Created)},
		{"expiration_time", domain.FormatTime(s.Expires)},
		{"remote_addr", s.RemoteAddr},
		{"user_agent", s.UserAgent},
		{"auth_type", s.AuthType},
		{"auth_principal", s.AuthPrincipal},
	}
	if s.ExtSessionID != nil {
		fields = append(fields, field{"ext_session_id", *s.ExtSessionID})
	}
	fields = append(fields, field{"session_state_change_list", json.RawMessage(history)})
	return appendObject(nil, fields)
}

// verifySession is POST /zato/sso/user/session (docs/API.md#session).
func (s *Server) verifySession(c echo.Context) error {
	in, ust, m, err := s.authed(c)
	if err != nil {
		return err
	}
	target, err := in.id("target_ust")
	if err != nil {
		return err
	}
	ok, err := s.svc.VerifySession(c.Request().Context(), m, ust, target)
	if err != nil {
		return err
	}
	return s.reply(c, field{"is_valid", ok})
}

// getSession is GET /zato/sso/user/session (docs/API.md#session).
func (s *Server) getSession(c echo.Context) error {
	in, ust, m, err := s.authed(c)
	if err != nil {
		return err
	}
	target, err := in.id("target_ust")
	if err != nil {
		return err
	}
	sess, err := s.svc.SessionDetails(c.Request().Context(), m, ust, target)
	if err != nil {
		return err
	}
	return s.reply(c,
		field{"creation_time", domain.FormatTime(sess.Created)},
		field{"expiration_time", domain.FormatTime(sess.Expires)},
		field{"remote_addr", sess.RemoteAddr},
		field{"user_agent", sess.UserAgent})
}

// renewSession is PATCH /zato/sso/user/session (docs/API.md#session).
func (s *Server) renewSession(c echo.Context) error {
	_, ust, m, err := s.authed(c)
	if err != nil {
		return err
	}
	expires, err := s.svc.RenewSession(c.Request().Context(), m, ust)
	if err != nil {
		return err
	}
	return s.reply(c, field{"expiration_time", domain.FormatTime(expires)})
}

// listSessions is GET /zato/sso/user/session/list (docs/API.md#session-list).
func (s *Server) listSessions(c echo.Context) error {
	in, ust, m, err := s.authed(c)
	if err != nil {
		return err
	}
	target, err := in.id("target_ust")
	if err != nil {
		return err
	}
	sessions, err := s.svc.ListSessions(c.Request().Context(), m, ust, target)
	if err != nil {
		return err
	}
	list, err := appendList(nil, sessions, sessionItem)
	if err != nil {
		return err
	}
	return s.reply(c, field{"result", json.RawMessage(list)})
}

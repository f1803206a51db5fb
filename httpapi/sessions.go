package httpapi

import (
	"encoding/json"
	"errors"

	"github.com/labstack/echo/v4"
	"github.com/ssoattr/ssoattr/domain"
	"github.com/ssoattr/ssoattr/sso"
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

// login is POST /zato/sso/user/login (docs/API.md#login).
func (s *Server) login(c echo.Context) (err error) {
	if m := s.opt.Metrics; m != nil {
		defer func() { m.Login(loginOutcome(err)) }()
	}
	in, app, err := s.admit(c, false, "username", "password")
	if err != nil {
		return err
	}
	var li sso.LoginInput
	if li.Username, _, err = in.str("username"); err != nil {
		return err
	}
	if li.Password, _, err = in.str("password"); err != nil {
		return err
	}
	for _, f := range []struct {
		key string
		dst **string
	}{{"totp_code", &li.TOTPCode}, {"new_password", &li.NewPassword},
		{"remote_addr", &li.RemoteAddr}, {"user_agent", &li.UserAgent}} {
		if *f.dst, err = in.strPtr(f.key); err != nil {
			return err
		}
	}
	res, err := s.svc.Login(c.Request().Context(), meta(c, app), li)
	if err != nil {
		return err
	}
	if res.Warning != "" {
		return s.write(c, 200, "warning", []string{res.Warning}, []field{{"ust", res.UST}})
	}
	return s.reply(c, field{"ust", res.UST})
}

// logout is POST /zato/sso/user/logout (docs/API.md#logout): ok whatever the token.
func (s *Server) logout(c echo.Context) error {
	in, app, err := s.admit(c, true)
	if err != nil {
		return err
	}
	ust, err := in.callerToken()
	if err != nil {
		return err
	}
	if err := s.svc.Logout(c.Request().Context(), meta(c, app), ust); err != nil {
		return err
	}
	return s.reply(c)
}

// loginOutcome names the outcome of a login for metrics: "ok", the
// sub_status code that refused it, "bad_request" or "error".
func loginOutcome(err error) string {
	var ce *domain.CodeError
	switch {
	case err == nil:
		return "ok"
	case errors.As(err, &ce):
		return ce.Code
	case errors.Is(err, errBadRequest), errors.Is(err, errMissing):
		return "bad_request"
	case errors.Is(err, domain.ErrBusy):
		return "E008007" // too many password hashes at once: 503, the client may retry
	}
	return "error"
}

package httpapi

import (
	"errors"

	"github.com/labstack/echo/v4"

	"github.com/ssoattr/ssoattr/domain"
	"github.com/ssoattr/ssoattr/sso"
)

// login is POST /zato/sso/user/login (docs/API.md#login).
func (s *Server) login(c echo.Context) (err error) {
	if m := s.opt.Metrics; m != nil {
		defer func() { m.Login(loginOutcome(err)) }()
	}
	in, app, err := s.begin(c, false, "username", "password")
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
	in, app, err := s.begin(c, true)
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

// authed parses an authenticated request: the common steps (with the
// endpoint's required keys), then the caller token.
func (s *Server) authed(c echo.Context, required ...string) (*input, string, sso.Meta, error) {
	in, app, err := s.begin(c, true, required...)
	if err != nil {
		return nil, "", sso.Meta{}, err
	}
	ust, err := in.callerToken()
	if err != nil {
		return nil, "", sso.Meta{}, err
	}
	return in, ust, meta(c, app), nil
}

func userFields(f map[string]any) []field {
	out := make([]field, 0, len(f))
	for _, k := range userFieldOrder {
		if v, ok := f[k]; ok {
			out = append(out, field{k, v})
		}
	}
	return out
}

// userFieldOrder is the order user fields are written in (docs/API.md#user-fields).
var userFieldOrder = []string{"user_id", "username", "email", "display_name", "first_name",
	"middle_name", "last_name", "is_totp_enabled", "totp_label", "is_active", "is_internal",
	"is_super_user", "is_approval_needed", "approval_status", "approval_status_mod_time",
	"approval_status_mod_by", "is_locked", "locked_time", "locked_by", "creation_ctx",
	"password_expiry", "password_last_set", "password_is_set", "password_must_change",
	"sign_up_status", "sign_up_time", "login_failures", "login_refused_until"}

// getUser is GET /zato/sso/user (docs/API.md#get-user).
func (s *Server) getUser(c echo.Context) error {
	in, ust, m, err := s.authed(c)
	if err != nil {
		return err
	}
	userID, err := in.id("user_id")
	if err != nil {
		return err
	}
	f, err := s.svc.GetUser(c.Request().Context(), m, ust, userID)
	if err != nil {
		return err
	}
	return s.reply(c, userFields(f)...)
}

// createUser is POST /zato/sso/user (docs/API.md#create-user).
func (s *Server) createUser(c echo.Context) error {
	in, ust, m, err := s.authed(c)
	if err != nil {
		return err
	}
	var nu sso.NewUser
	username, _, err := in.str("username")
	if err != nil {
		return err
	}
	nu.Username = username
	for _, f := range []struct {
		key string
		dst **string
	}{{"password", &nu.Password}, {"email", &nu.Email}, {"display_name", &nu.DisplayName},
		{"first_name", &nu.FirstName}, {"middle_name", &nu.MiddleName}, {"last_name", &nu.LastName},
		{"totp_key", &nu.TOTPKey}, {"totp_label", &nu.TOTPLabel}, {"rate_limit_def", &nu.RateLimitDef}} {
		if *f.dst, err = in.strPtr(f.key); err != nil {
			return err
		}
	}
	for _, f := range []struct {
		key string
		dst *bool
	}{{"password_must_change", &nu.PasswordMustChange}, {"is_locked", &nu.IsLocked},
		{"is_totp_enabled", &nu.IsTOTPEnabled}, {"is_rate_limit_active", &nu.IsRateLimitActive},
		{"auto_approve", &nu.AutoApprove}} {
		if *f.dst, err = in.boolean(f.key, false); err != nil {
			return err
		}
	}
	if nu.SignUpStatus, _, err = in.str("sign_up_status"); err != nil {
		return err
	}
	if nu.SignUpStatus != "" && nu.SignUpStatus != domain.SignupFinal && nu.SignUpStatus != domain.SignupBeforeConfirmation {
		return domain.ErrInvalidInput // docs/API.md#d21
	}
	f, err := s.svc.CreateUser(c.Request().Context(), m, ust, nu)
	if err != nil {
		return err
	}
	return s.reply(c, userFields(f)...)
}

func (s *Server) approve(c echo.Context) error { return s.setApproval(c, true) }
func (s *Server) reject(c echo.Context) error  { return s.setApproval(c, false) }

// setApproval is POST /zato/sso/user/approve and /reject (docs/API.md#approve-and-reject).
func (s *Server) setApproval(c echo.Context, approve bool) error {
	in, ust, m, err := s.authed(c, "user_id")
	if err != nil {
		return err
	}
	userID, err := in.id("user_id")
	if err != nil {
		return err
	}
	if err := s.svc.SetApproval(c.Request().Context(), m, ust, userID, approve); err != nil {
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

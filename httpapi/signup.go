package httpapi

import (
	"errors"
	"net/http"

	"github.com/labstack/echo/v4"
	"github.com/ssoattr/ssoattr/domain"
	"github.com/ssoattr/ssoattr/sso"
)

// signup is POST /zato/sso/user/signup (docs/API.md#signup).
func (s *Server) signup(c echo.Context) error {
	in, app, err := s.admit(c, false, "username", "password")
	if err != nil {
		return err
	}
	var si sso.SignupInput
	if si.Username, _, err = in.str("username"); err != nil {
		return err
	}
	if si.Password, _, err = in.str("password"); err != nil {
		return err
	}
	if si.Email, err = in.strPtr("email"); err != nil {
		return err
	}
	if si.AppList, err = appList(in); err != nil {
		return err
	}
	token, err := s.svc.Signup(c.Request().Context(), meta(c, app), si)
	var codes *sso.CodesError
	if errors.As(err, &codes) {
		return s.write(c, http.StatusForbidden, "error", codes.Codes(), nil)
	}
	if err != nil {
		return err
	}
	return s.reply(c, field{"confirm_token", token})
}

// appList reads the app_list of a sign-up: a list of strings.
func appList(in *input) ([]string, error) {
	apps, _, err := in.list("app_list")
	if err != nil {
		return nil, err
	}
	var out []string
	for _, raw := range apps {
		if len(raw) == 0 || raw[0] != '"' {
			return nil, domain.ErrInvalidInput
		}
		out = append(out, unquote(raw))
	}
	return out, nil
}

// confirmSignup is PATCH /zato/sso/user/signup (docs/API.md#signup, docs/API.md#d30).
func (s *Server) confirmSignup(c echo.Context) error {
	in, app, err := s.admit(c, false, "confirm_token")
	if err != nil {
		return err
	}
	token, _, err := in.str("confirm_token")
	if err != nil {
		return err
	}
	if err := s.svc.ConfirmSignup(c.Request().Context(), meta(c, app), token); err != nil {
		return err
	}
	return s.reply(c)
}

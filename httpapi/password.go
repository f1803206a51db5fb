package httpapi

import (
	"github.com/labstack/echo/v4"
	"github.com/ssoattr/ssoattr/sso"
)

// changePassword is PATCH /zato/sso/user/password (docs/API.md#change-password).
func (s *Server) changePassword(c echo.Context) error {
	in, ust, m, err := s.authed(c, "new_password")
	if err != nil {
		return err
	}
	var pc sso.PasswordChange
	if pc.UserID, err = in.id("user_id"); err != nil {
		return err
	}
	if pc.NewPassword, _, err = in.str("new_password"); err != nil {
		return err
	}
	if pc.OldPassword, err = in.strPtr("old_password"); err != nil {
		return err
	}
	if pc.MustChange, err = boolPtr(in, "must_change"); err != nil {
		return err
	}
	days, ok, err := in.integer("password_expiry")
	if err != nil {
		return err
	}
	if ok {
		pc.ExpiryDays = &days
	}
	if err := s.svc.ChangePassword(c.Request().Context(), m, ust, pc); err != nil {
		return err
	}
	return s.reply(c)
}

// boolPtr reads an optional bool: nil when absent, null or empty.
func boolPtr(in *input, key string) (*bool, error) {
	if _, _, _, ok := in.lookup(key); !ok || in.emptyString(key) {
		return nil, nil
	}
	v, err := in.boolean(key, false)
	if err != nil {
		return nil, err
	}
	return &v, nil
}

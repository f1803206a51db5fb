package httpapi

import "github.com/labstack/echo/v4"

// setTOTP is PATCH /zato/sso/user/totp (docs/API.md#totp).
func (s *Server) setTOTP(c echo.Context) error {
	in, ust, m, err := s.authed(c)
	if err != nil {
		return err
	}
	userID, err := in.id("user_id")
	if err != nil {
		return err
	}
	key, _, err := in.str("totp_key")
	if err != nil {
		return err
	}
	label, _, err := in.str("totp_label")
	if err != nil {
		return err
	}
	key, err = s.svc.SetTOTP(c.Request().Context(), m, ust, userID, key, label)
	if err != nil {
		return err
	}
	return s.reply(c, field{"totp_key", key})
}

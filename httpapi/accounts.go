package httpapi

import (
	"strings"

	"github.com/labstack/echo/v4"
	"github.com/ssoattr/ssoattr/sso"
)

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

// emptyString reports whether the field is an empty (or blank) string,
// which counts as absent for bool, int and datetime fields (docs/API.md#input).
func (in *input) emptyString(key string) bool {
	raw, text, q, ok := in.lookup(key)
	if !ok {
		return false
	}
	if !q {
		if len(raw) == 0 || raw[0] != '"' {
			return false
		}
		text = unquote(raw)
	}
	return strings.TrimSpace(text) == ""
}

// strField reads a string field of PATCH /zato/sso/user, where null means
// "set to null" (docs/API.md#update-user).
func strField(in *input, key string) (sso.Field[string], error) {
	if !in.has(key) {
		return sso.Field[string]{}, nil
	}
	v, ok, err := in.str(key)
	if err != nil {
		return sso.Field[string]{}, err
	}
	if !ok {
		return sso.Field[string]{Sent: true, Null: true}, nil
	}
	return sso.Set(v), nil
}

// boolField reads a bool field of PATCH /zato/sso/user. nullAbsent makes
// null count as absent (the super-user fields); otherwise null is kept for
// the service to refuse. An empty string is absent (docs/API.md#input).
func boolField(in *input, key string, nullAbsent bool) (sso.Field[bool], error) {
	if !in.has(key) || in.emptyString(key) {
		return sso.Field[bool]{}, nil
	}
	if _, _, _, ok := in.lookup(key); !ok {
		if nullAbsent {
			return sso.Field[bool]{}, nil
		}
		return sso.Field[bool]{Sent: true, Null: true}, nil
	}
	v, err := in.boolean(key, false)
	if err != nil {
		return sso.Field[bool]{}, err
	}
	return sso.Set(v), nil
}

// updateUser is PATCH /zato/sso/user (docs/API.md#update-user).
func (s *Server) updateUser(c echo.Context) error {
	in, ust, m, err := s.authed(c)
	if err != nil {
		return err
	}
	userID, err := in.id("user_id")
	if err != nil {
		return err
	}
	var up sso.UserUpdate
	for _, f := range []struct {
		key string
		dst *sso.Field[string]
	}{{"username", &up.Username}, {"email", &up.Email}, {"display_name", &up.DisplayName},
		{"first_name", &up.FirstName}, {"middle_name", &up.MiddleName}, {"last_name", &up.LastName},
		{"totp_label", &up.TOTPLabel}, {"sign_up_status", &up.SignUpStatus},
		{"approval_status", &up.ApprovalStatus}} {
		if *f.dst, err = strField(in, f.key); err != nil {
			return err
		}
	}
	for _, f := range []struct {
		key        string
		dst        *sso.Field[bool]
		nullAbsent bool
	}{{"is_totp_enabled", &up.IsTOTPEnabled, false}, {"is_locked", &up.IsLocked, true},
		{"password_must_change", &up.PasswordMustChange, true}} {
		if *f.dst, err = boolField(in, f.key, f.nullAbsent); err != nil {
			return err
		}
	}
	expiry, ok, err := in.datetime("password_expiry") // null and "" count as absent
	if err != nil {
		return err
	}
	if ok {
		up.PasswordExpiry = sso.Set(expiry)
	}
	if err := s.svc.UpdateUser(c.Request().Context(), m, ust, userID, up); err != nil {
		return err
	}
	return s.reply(c)
}

// superTargetInput parses the input of the super-user endpoints that take a
// required user_id (DELETE /user, lock, unlock).
func (s *Server) superTargetInput(c echo.Context) (string, string, sso.Meta, error) {
	in, ust, m, err := s.authed(c, "user_id")
	if err != nil {
		return "", "", sso.Meta{}, err
	}
	userID, err := in.id("user_id")
	return ust, userID, m, err
}

// deleteUser is DELETE /zato/sso/user (docs/API.md#delete-user).
func (s *Server) deleteUser(c echo.Context) error {
	ust, userID, m, err := s.superTargetInput(c)
	if err != nil {
		return err
	}
	if err := s.svc.DeleteUser(c.Request().Context(), m, ust, userID); err != nil {
		return err
	}
	return s.reply(c)
}

func (s *Server) lockUser(c echo.Context) error   { return s.setLocked(c, true) }
func (s *Server) unlockUser(c echo.Context) error { return s.setLocked(c, false) }

// setLocked is POST and DELETE /zato/sso/user/lock (docs/API.md#lock-and-unlock).
func (s *Server) setLocked(c echo.Context, locked bool) error {
	ust, userID, m, err := s.superTargetInput(c)
	if err != nil {
		return err
	}
	if err := s.svc.SetLocked(c.Request().Context(), m, ust, userID, locked); err != nil {
		return err
	}
	return s.reply(c)
}

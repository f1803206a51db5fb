package httpapi

import (
	"encoding/json"
	"errors"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/ssoattr/ssoattr/domain"
	"github.com/ssoattr/ssoattr/sso"
)

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

// searchUsers is GET /zato/sso/user/search (docs/API.md#search).
func (s *Server) searchUsers(c echo.Context) error {
	in, ust, m, err := s.authed(c)
	if err != nil {
		return err
	}
	var q sso.SearchQuery
	if q.UserID, err = in.id("user_id"); err != nil {
		return err
	}
	for _, f := range []struct {
		key string
		dst *string
	}{{"username", &q.Username}, {"email", &q.Email}, {"name_op", &q.NameOp},
		{"sign_up_status", &q.SignUpStatus}, {"approval_status", &q.ApprovalStatus}} {
		if *f.dst, _, err = in.str(f.key); err != nil {
			return err
		}
	}
	for _, f := range []struct {
		key string
		dst **string
	}{{"display_name", &q.DisplayName}, {"first_name", &q.FirstName},
		{"middle_name", &q.MiddleName}, {"last_name", &q.LastName}} {
		if *f.dst, err = in.strPtr(f.key); err != nil {
			return err
		}
	}
	if q.NameExact, err = in.boolean("is_name_exact", true); err != nil {
		return err
	}
	if q.Paginate, err = in.boolean("paginate", true); err != nil {
		return err
	}
	if q.CurPage, _, err = in.integer("cur_page"); err != nil {
		return err
	}
	if q.PageSize, _, err = in.integer("page_size"); err != nil {
		return err
	}
	r, err := s.svc.SearchUsers(c.Request().Context(), m, ust, q)
	if err != nil {
		return err
	}
	list, err := appendList(nil, r.Users, func(f map[string]any) ([]byte, error) {
		return appendObject(nil, userFields(f))
	})
	if err != nil {
		return err
	}
	var next any
	if r.HasNextPage {
		next = r.NextPage
	}
	return s.reply(c,
		field{"total", r.Total}, field{"num_pages", r.NumPages}, field{"page_size", r.PageSize},
		field{"cur_page", r.CurPage}, field{"prev_page", r.PrevPage}, field{"next_page", next},
		field{"has_prev_page", r.HasPrevPage}, field{"has_next_page", r.HasNextPage},
		field{"result", json.RawMessage(list)})
}

// signup is POST /zato/sso/user/signup (docs/API.md#signup).
func (s *Server) signup(c echo.Context) error {
	in, app, err := s.begin(c, false, "username", "password")
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
	in, app, err := s.begin(c, false, "confirm_token")
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

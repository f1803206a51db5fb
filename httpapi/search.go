package httpapi

import (
	"encoding/json"

	"github.com/labstack/echo/v4"
	"github.com/ssoattr/ssoattr/sso"
)

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

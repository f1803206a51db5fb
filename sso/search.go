package sso

import (
	"cmp"
	"context"
	"slices"
	"strings"

	"github.com/ssoattr/ssoattr/domain"
)

// SearchQuery is the input of GET /zato/sso/user/search (docs/API.md#search). Empty
// strings and nil pointers are criteria that were not sent.
type SearchQuery struct {
	UserID   string
	Username string

	DisplayName, FirstName, MiddleName, LastName *string
	NameExact                                    bool   // equality (true) or substring
	NameOp                                       string // "and" or "or"; "" means "and"

	Email          string
	SignUpStatus   string
	ApprovalStatus string

	Paginate bool
	CurPage  int64 // < 1 means 1
	PageSize int64 // < 1 means the default
}

// SearchResult is one page of a search.
type SearchResult struct {
	Total, NumPages, PageSize, CurPage, PrevPage int
	NextPage                                     int // 0 when there is none
	HasPrevPage, HasNextPage                     bool
	// Users are the accounts of the page as a super-user sees them (docs/API.md#d31).
	Users []map[string]any
}

type nameCriterion struct {
	field func(*domain.User) *string
	want  string // upper case
}

// check is the input step: name criteria that are blank and unknown
// operators are domain.ErrInvalidInput.
func (q *SearchQuery) check() ([]nameCriterion, error) {
	switch q.NameOp {
	case "", "and", "or":
	default:
		return nil, domain.ErrInvalidInput
	}
	var out []nameCriterion
	for _, c := range []struct {
		v     *string
		field func(*domain.User) *string
	}{
		{q.DisplayName, func(u *domain.User) *string { return u.DisplayName }},
		{q.FirstName, func(u *domain.User) *string { return u.FirstName }},
		{q.MiddleName, func(u *domain.User) *string { return u.MiddleName }},
		{q.LastName, func(u *domain.User) *string { return u.LastName }},
	} {
		if c.v == nil {
			continue
		}
		w := strings.TrimSpace(*c.v)
		if w == "" {
			return nil, domain.ErrInvalidInput
		}
		out = append(out, nameCriterion{field: c.field, want: strings.ToUpper(w)})
	}
	return out, nil
}

// matcher returns the predicate of the query: user_id alone if given, else
// username alone, else the name criteria (joined by name_op) AND the others.
func (q *SearchQuery) matcher(names []nameCriterion) func(*domain.User) bool {
	if q.UserID != "" {
		return func(u *domain.User) bool { return u.ID == q.UserID }
	}
	if q.Username != "" {
		return func(u *domain.User) bool { return u.Username == q.Username }
	}
	nameMatch := func(c nameCriterion, u *domain.User) bool {
		v := c.field(u)
		if v == nil {
			return false
		}
		if q.NameExact {
			return strings.ToUpper(*v) == c.want
		}
		return strings.Contains(strings.ToUpper(*v), c.want)
	}
	or := q.NameOp == "or"
	return func(u *domain.User) bool {
		if q.Email != "" && (u.Email == nil || *u.Email != q.Email) {
			return false
		}
		if q.SignUpStatus != "" && u.SignUpStatus != q.SignUpStatus {
			return false
		}
		if q.ApprovalStatus != "" && u.ApprovalStatus != q.ApprovalStatus {
			return false
		}
		if len(names) == 0 {
			return true
		}
		for _, c := range names {
			if nameMatch(c, u) == or {
				return or // or: one match is enough; and: one miss is enough
			}
		}
		return !or
	}
}

// compareUsers is the order of docs/API.md#search: display_name (null first),
// username, sign_up_time, user_id.
func compareUsers(a, b *domain.User) int {
	switch {
	case a.DisplayName == nil && b.DisplayName != nil:
		return -1
	case a.DisplayName != nil && b.DisplayName == nil:
		return 1
	case a.DisplayName != nil:
		if c := cmp.Compare(*a.DisplayName, *b.DisplayName); c != 0 {
			return c
		}
	}
	if c := cmp.Compare(a.Username, b.Username); c != 0 {
		return c
	}
	if c := a.SignUpTime.Compare(b.SignUpTime); c != 0 {
		return c
	}
	return cmp.Compare(a.ID, b.ID)
}

// SearchUsers is GET /zato/sso/user/search (docs/API.md#search). The caller must be a
// super-user (domain.ErrNotAllowed). Blank name criteria, an unknown name_op
// and an e-mail search while e-mails are stored encrypted (docs/API.md#d31) are
// domain.ErrInvalidInput.
func (s *Service) SearchUsers(ctx context.Context, m Meta, ust string, q SearchQuery) (SearchResult, error) {
	names, err := q.check()
	if err != nil {
		return SearchResult{}, err
	}
	c, err := s.begin(ctx, ust, m)
	if err != nil {
		return SearchResult{}, err
	}
	if err := requireSuper(c); err != nil {
		return SearchResult{}, err
	}
	if q.Email != "" && s.cfg.EncryptEmail {
		return SearchResult{}, domain.ErrInvalidInput
	}
	match := q.matcher(names)
	var found []*domain.User
	s.view.Users(func(u *domain.User) bool {
		if match(u) {
			found = append(found, u)
		}
		return true
	})
	slices.SortFunc(found, compareUsers)

	r := SearchResult{Total: len(found), CurPage: int(min(max(q.CurPage, 1), 1<<31)),
		PageSize: int(min(q.PageSize, int64(s.cfg.SearchMaxPageSize)))}
	if r.PageSize < 1 {
		r.PageSize = s.cfg.SearchDefaultPageSize
	}
	if !q.Paginate {
		r.CurPage, r.PageSize = 1, max(r.Total, 1)
	}
	r.NumPages = (r.Total + r.PageSize - 1) / r.PageSize
	r.PrevPage = r.CurPage - 1
	r.HasPrevPage = r.PrevPage > 0
	if r.CurPage < r.NumPages {
		r.NextPage, r.HasNextPage = r.CurPage+1, true
	}
	start := min((r.CurPage-1)*r.PageSize, r.Total)
	end := min(start+r.PageSize, r.Total)
	r.Users = make([]map[string]any, 0, end-start)
	for _, u := range found[start:end] {
		f, err := s.UserFields(u, true)
		if err != nil {
			return SearchResult{}, err
		}
		r.Users = append(r.Users, f)
	}
	return r, nil
}

package httpapi

import (
	"encoding/json"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/ssoattr/ssoattr/domain"
	"github.com/ssoattr/ssoattr/sso"
)

// history is GET /zato/sso/user/attr/history and
// GET /zato/sso/session/attr/history: the changes of the target's
// attributes, in stream order, a page at a time. Input: the caller token,
// current_app, user_id or target_ust (as the other attribute endpoints),
// name, since, until (date-times, docs/API.md#time-format, both inclusive), limit (default
// 100, at most 1000), after (the cursor a previous page returned as next)
// and decrypt (default true, as GET). Output: result, the list of changes,
// and next, left out on the last page.
func (h attrHandlers) history(c echo.Context) error {
	in, ust, scope, m, err := h.start(c)
	if err != nil {
		return err
	}
	var q sso.HistoryQuery
	if q.Name, err = in.strPtr("name"); err != nil {
		return err
	}
	if q.Since, _, err = in.datetime("since"); err != nil {
		return err
	}
	if q.Until, _, err = in.datetime("until"); err != nil {
		return err
	}
	if q.Limit, _, err = in.integer("limit"); err != nil {
		return err
	}
	if q.After, _, err = in.str("after"); err != nil {
		return err
	}
	if q.Decrypt, err = in.boolean("decrypt", true); err != nil {
		return err
	}
	page, err := h.s.svc.AttrHistory(c.Request().Context(), m, ust, scope, q)
	if err != nil {
		return err
	}
	buf := []byte{'['}
	for i := range page.Changes {
		if i > 0 {
			buf = append(buf, ',')
		}
		if buf, err = appendChange(buf, &page.Changes[i]); err != nil {
			return err
		}
	}
	buf = append(buf, ']')
	var next any
	if page.Next != "" {
		next = page.Next
	}
	return h.s.reply(c, field{"result", json.RawMessage(buf)}, field{"next", next})
}

// appendChange appends one change as a JSON object, keys in a fixed order,
// empty ones left out (docs/API.md#envelope).
func appendChange(buf []byte, ch *sso.Change) ([]byte, error) {
	fields := []field{{"seq", ch.Seq}, {"id", ch.ID}, {"type", ch.Type},
		{"time", domain.FormatTime(ch.Time)}, {"name", ch.Name}}
	if a := ch.Attr; a != nil {
		fields = append(fields, field{"value", a.Value}, field{"is_encrypted", a.Encrypted},
			field{"expiration_time", domain.FormatTime(a.Expires)})
	}
	for _, f := range []field{{"reason", ch.Reason}, {"actor_user_id", ch.Actor},
		{"current_app", ch.App}, {"remote_addr", ch.RemoteAddr}, {"cid", ch.CID}} {
		if f.val != "" {
			fields = append(fields, f)
		}
	}
	return appendObject(buf, fields)
}

// asOf reads the as_of input of the attribute reads: a date-time (docs/API.md#time-format)
// at which to answer, as the service would have answered then.
func asOf(in *input) (time.Time, bool, error) { return in.datetime("as_of") }

// getAttrs is the read of GET: now, or at as_of.
func (h attrHandlers) getAttrs(c echo.Context, in *input, m sso.Meta, ust string, scope sso.AttrScope, names []string, decrypt bool) ([]sso.AttrResult, error) {
	at, ok, err := asOf(in)
	if err != nil {
		return nil, err
	}
	if ok {
		return h.s.svc.GetAttrsAt(c.Request().Context(), m, ust, scope, names, decrypt, at)
	}
	return h.s.svc.GetAttrs(c.Request().Context(), m, ust, scope, names, decrypt)
}

// attrsExist is the read of exists: now, or at as_of.
func (h attrHandlers) attrsExist(c echo.Context, in *input, m sso.Meta, ust string, scope sso.AttrScope, names []string) ([]sso.AttrResult, error) {
	at, ok, err := asOf(in)
	if err != nil {
		return nil, err
	}
	if ok {
		return h.s.svc.AttrsExistAt(c.Request().Context(), m, ust, scope, names, at)
	}
	return h.s.svc.AttrsExist(c.Request().Context(), m, ust, scope, names)
}

// attrNames is the read of names: now, or at as_of.
func (h attrHandlers) attrNames(c echo.Context, in *input, m sso.Meta, ust string, scope sso.AttrScope) ([]string, error) {
	at, ok, err := asOf(in)
	if err != nil {
		return nil, err
	}
	if ok {
		return h.s.svc.AttrNamesAt(c.Request().Context(), m, ust, scope, at)
	}
	return h.s.svc.AttrNames(c.Request().Context(), m, ust, scope)
}

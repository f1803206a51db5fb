package httpapi

import (
	"encoding/json"

	"github.com/labstack/echo/v4"

	"github.com/ssoattr/ssoattr/domain"
	"github.com/ssoattr/ssoattr/internal/jsontext"
	"github.com/ssoattr/ssoattr/sso"
)

// attrHandlers serves user attributes (docs/API.md#user-attributes) or, with session set, session
// attributes (docs/API.md#session-attributes): the same shapes, a different owner.
type attrHandlers struct {
	s       *Server
	session bool
}

func (h attrHandlers) create(c echo.Context) error { return h.write(c, domain.OpCreate) }
func (h attrHandlers) set(c echo.Context) error    { return h.write(c, domain.OpSet) }
func (h attrHandlers) update(c echo.Context) error { return h.write(c, domain.OpUpdate) }

// start runs the common steps: parse, required keys, app, caller token, scope.
func (h attrHandlers) start(c echo.Context) (*input, string, sso.AttrScope, sso.Meta, error) {
	in, app, err := h.s.admit(c, true)
	if err != nil {
		return nil, "", sso.AttrScope{}, sso.Meta{}, err
	}
	ust, err := in.callerToken()
	if err != nil {
		return nil, "", sso.AttrScope{}, sso.Meta{}, err
	}
	scope := sso.AttrScope{Session: h.session}
	if h.session {
		scope.TargetUST, err = in.id("target_ust")
	} else {
		scope.UserID, err = in.id("user_id")
	}
	if err != nil {
		return nil, "", sso.AttrScope{}, sso.Meta{}, err
	}
	return in, ust, scope, meta(c, app), nil
}

// writeOpts are the request-level defaults an item's fields take as they
// are read: encrypt. (The request's expiration is the service's to apply:
// sso.AttrWrites.)
type writeOpts struct {
	encrypt bool
}

// expiration reads an expiration field: an int, seconds from now, as sent
// (the service checks it: domain.CheckExpiration).
func expiration(in *input) (*int64, error) {
	n, ok, err := in.integer("expiration")
	if err != nil || !ok {
		return nil, err
	}
	return &n, nil
}

// writeItem reads one item (the request itself in single mode, an element of
// data in many mode) with defaults from the request.
func writeItem(in *input, op domain.AttrOp, def writeOpts, session bool) (sso.AttrItem, error) {
	var it sso.AttrItem
	name, ok, err := in.str("name")
	if err != nil || !ok {
		return it, domain.ErrInvalidInput
	}
	it.Name = name
	if value, ok := in.value("value"); ok {
		it.Value = value
	}
	if it.Expiration, err = expiration(in); err != nil {
		return it, err
	}
	if it.Encrypt, err = in.boolean("encrypt", def.encrypt); err != nil {
		return it, err
	}
	if !session {
		if it.UserID, err = in.id("user_id"); err != nil {
			return it, err
		}
	}
	return it, nil
}

func (h attrHandlers) write(c echo.Context, op domain.AttrOp) error {
	in, ust, scope, m, err := h.start(c)
	if err != nil {
		return err
	}
	var w sso.AttrWrites
	if w.Expiration, err = expiration(in); err != nil {
		return err
	}
	var def writeOpts
	if def.encrypt, err = in.boolean("encrypt", false); err != nil {
		return err
	}
	if in.has("name") && !isNull(in, "name") {
		it, err := writeItem(in, op, def, h.session)
		if err != nil {
			return err
		}
		it.UserID = "" // the request's user_id is the scope's
		w.Items = []sso.AttrItem{it}
	} else {
		list, ok, err := in.list("data")
		if err != nil {
			return err
		}
		if !ok {
			return domain.ErrInvalidInput
		}
		w.Items = make([]sso.AttrItem, 0, len(list))
		for _, raw := range list {
			obj, err := object(raw)
			if err != nil {
				return err
			}
			it, err := writeItem(obj, op, def, h.session)
			if err != nil {
				return err
			}
			w.Items = append(w.Items, it)
		}
	}
	if err := h.s.svc.WriteAttrs(c.Request().Context(), m, ust, scope, op, w); err != nil {
		return err
	}
	return h.s.reply(c)
}

func isNull(in *input, key string) bool {
	_, _, _, ok := in.lookup(key)
	return !ok
}

// object reads a many-mode item, which must be a JSON object.
func object(raw json.RawMessage) (*input, error) {
	if len(raw) == 0 || raw[0] != '{' {
		return nil, domain.ErrInvalidInput
	}
	in := &input{}
	var err error
	if in.body, err = splitObject(raw, in.small[:0]); err != nil {
		return nil, domain.ErrInvalidInput
	}
	return in, nil
}

// readNames reads the names of a read or delete: single (name) or many
// (data, a list of strings). many reports which mode was used. The service
// checks the names (domain.CheckNames).
func readNames(in *input) (names []string, many bool, err error) {
	if name, ok, err := in.str("name"); err != nil {
		return nil, false, err
	} else if ok {
		return []string{name}, false, nil
	}
	list, ok, err := in.list("data")
	if err != nil {
		return nil, false, err
	}
	if !ok {
		return nil, false, domain.ErrInvalidInput
	}
	names = make([]string, len(list))
	for i, raw := range list {
		if len(raw) == 0 || raw[0] != '"' {
			return nil, false, domain.ErrInvalidInput
		}
		names[i] = unquote(raw)
	}
	return names, true, nil
}

// attrFields returns head followed by the fields of an attribute (docs/API.md#attribute-object).
func attrFields(a *domain.Attr, head ...field) []field {
	return append(head,
		field{"name", a.Name},
		field{"value", a.Value},
		field{"creation_time", a.Created},
		field{"last_modified", a.Modified},
		field{"expiration_time", a.Expires},
		field{"is_encrypted", a.Encrypted},
	)
}

// attrObject is the JSON object of one attribute (docs/API.md#attribute-object).
type attrObject struct{ a *domain.Attr }

func (o attrObject) MarshalJSON() ([]byte, error) { return appendObject(nil, attrFields(o.a)) }

// resultObject is a many-mode result: name → value, in the order asked.
func resultObject(rs []sso.AttrResult, val func(sso.AttrResult) any) (json.RawMessage, error) {
	buf := []byte{'{'}
	for i, r := range rs {
		if i > 0 {
			buf = append(buf, ',')
		}
		buf = jsontext.AppendString(buf, r.Name, jsontext.NoHTML)
		buf = append(buf, ':')
		v := val(r)
		if v == nil {
			buf = append(buf, "null"...)
			continue
		}
		var err error
		if buf, err = appendJSON(buf, v); err != nil {
			return nil, err
		}
	}
	return append(buf, '}'), nil
}

func (h attrHandlers) get(c echo.Context) error {
	in, ust, scope, m, err := h.start(c)
	if err != nil {
		return err
	}
	decrypt, err := in.boolean("decrypt", true)
	if err != nil {
		return err
	}
	names, many, err := readNames(in)
	if err != nil {
		return err
	}
	rs, err := h.getAttrs(c, in, m, ust, scope, names, decrypt) // now, or at as_of
	if err != nil {
		return err
	}
	if !many {
		if rs[0].Attr == nil {
			return h.s.reply(c, field{"found", false})
		}
		return h.s.reply(c, attrFields(rs[0].Attr, field{"found", true})...)
	}
	obj, err := resultObject(rs, func(r sso.AttrResult) any {
		if r.Attr == nil {
			return nil
		}
		return attrObject{r.Attr}
	})
	if err != nil {
		return err
	}
	return h.s.reply(c, field{"result", obj})
}

func (h attrHandlers) delete(c echo.Context) error {
	in, ust, scope, m, err := h.start(c)
	if err != nil {
		return err
	}
	names, _, err := readNames(in)
	if err != nil {
		return err
	}
	if err := h.s.svc.DeleteAttrs(c.Request().Context(), m, ust, scope, names); err != nil {
		return err
	}
	return h.s.reply(c)
}

func (h attrHandlers) exists(c echo.Context) error {
	in, ust, scope, m, err := h.start(c)
	if err != nil {
		return err
	}
	names, many, err := readNames(in)
	if err != nil {
		return err
	}
	rs, err := h.attrsExist(c, in, m, ust, scope, names) // now, or at as_of
	if err != nil {
		return err
	}
	if !many {
		return h.s.reply(c, field{"result", rs[0].Attr != nil})
	}
	obj, err := resultObject(rs, func(r sso.AttrResult) any { return r.Attr != nil })
	if err != nil {
		return err
	}
	return h.s.reply(c, field{"result", obj})
}

func (h attrHandlers) names(c echo.Context) error {
	in, ust, scope, m, err := h.start(c)
	if err != nil {
		return err
	}
	names, err := h.attrNames(c, in, m, ust, scope) // now, or at as_of
	if err != nil {
		return err
	}
	return h.s.reply(c, field{"result", names})
}

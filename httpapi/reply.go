package httpapi

import (
	"encoding/json"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/ssoattr/ssoattr/domain"
	"github.com/ssoattr/ssoattr/internal/jsontext"
)

// field is one key of a response, written in order after cid and status.
// A nil value is left out (docs/API.md#envelope); a time.Time is written as docs/API.md#time-format
// says.
type field struct {
	key string
	val any
}

// reply writes a 200 response: cid, status and the fields.
func (s *Server) reply(c echo.Context, fields ...field) error {
	return s.write(c, http.StatusOK, "ok", nil, fields)
}

// replyBufs recycles response buffers: the writer copies a response out
// before Blob returns, and every request builds one.
var replyBufs = sync.Pool{New: func() any { b := make([]byte, 0, 1024); return &b }}

func (s *Server) write(c echo.Context, code int, status string, sub []string, fields []field) error {
	pb := replyBufs.Get().(*[]byte)
	defer func() {
		if cap(*pb) <= 64<<10 { // a rare huge answer is not kept
			replyBufs.Put(pb)
		}
	}()
	buf := (*pb)[:0]
	defer func() { *pb = buf[:0] }()
	buf = append(buf, `{"cid":"`...)
	buf = append(buf, cid(c)...)
	buf = append(buf, `","status":"`...)
	buf = append(buf, status...)
	buf = append(buf, '"')
	if len(sub) > 0 {
		buf = append(buf, `,"sub_status":`...)
		buf, _ = appendJSON(buf, sub)
	}
	buf, err := appendFields(buf, fields, true)
	if err != nil {
		return err
	}
	buf = append(buf, '}')
	return c.Blob(code, "application/json; charset=utf-8", buf) // docs/API.md#envelope
}

// appendObject appends a JSON object of fields in order, leaving out nil
// values (docs/API.md#envelope).
func appendObject(buf []byte, fields []field) ([]byte, error) {
	buf, err := appendFields(append(buf, '{'), fields, false)
	if err != nil {
		return nil, err
	}
	return append(buf, '}'), nil
}

// appendFields appends the fields as "key":value pairs, comma-separated,
// leaving out nil values; more says that a pair already precedes them.
func appendFields(buf []byte, fields []field, more bool) ([]byte, error) {
	for _, f := range fields {
		if f.val == nil {
			continue
		}
		if more {
			buf = append(buf, ',')
		}
		more = true
		buf = jsontext.AppendString(buf, f.key, jsontext.NoHTML)
		buf = append(buf, ':')
		var err error
		if buf, err = appendJSON(buf, f.val); err != nil {
			return nil, err
		}
	}
	return buf, nil
}

func appendJSON(buf []byte, v any) ([]byte, error) {
	switch x := v.(type) {
	case string:
		return jsontext.AppendString(buf, x, jsontext.NoHTML), nil
	case bool:
		return strconv.AppendBool(buf, x), nil
	case uint64:
		return strconv.AppendUint(buf, x, 10), nil
	case int:
		return strconv.AppendInt(buf, int64(x), 10), nil
	case int64:
		return strconv.AppendInt(buf, x, 10), nil
	case json.RawMessage:
		return append(buf, x...), nil
	case time.Time:
		return append(domain.AppendTime(append(buf, '"'), x), '"'), nil
	case []string:
		return jsontext.AppendStrings(buf, x, jsontext.NoHTML), nil
	}
	b, err := json.Marshal(v)
	return append(buf, b...), err
}

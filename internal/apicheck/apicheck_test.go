package apicheck_test

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/ssoattr/ssoattr/internal/apicheck"
)

const cid = "0123456789abcdef01234567"

// TestCheck holds the checker to what it must accept and refuse, so that a
// test passing through it means the answer matches the document.
func TestCheck(t *testing.T) {
	d, err := apicheck.Load()
	if err != nil {
		t.Fatal(err)
	}
	attr := `"name":"a","value":{"x":[1,null]},"creation_time":"2031-05-04T09:10:11","last_modified":"2031-05-04T09:10:11.250000","expiration_time":"9999-12-31T00:00:00","is_encrypted":false`
	for _, c := range []struct {
		name, method, path string
		status             int
		headerCID, body    string
		ok                 bool
	}{
		{"names", "GET", "/zato/sso/user/attr/names", 200, cid, `{"cid":"` + cid + `","status":"ok","result":["a","b"]}`, true},
		{"single found", "GET", "/zato/sso/user/attr", 200, cid, `{"cid":"` + cid + `","status":"ok","found":true,` + attr + `}`, true},
		{"single not found", "GET", "/zato/sso/session/attr?name=x", 200, cid, `{"cid":"` + cid + `","status":"ok","found":false}`, true},
		{"many with null", "GET", "/zato/sso/user/attr", 200, cid, `{"cid":"` + cid + `","status":"ok","result":{"a":{` + attr + `},"b":null}}`, true},
		{"error 403", "PUT", "/zato/sso/user/attr", 403, cid, `{"cid":"` + cid + `","status":"error","sub_status":["E009001"]}`, true},
		{"error 400", "PUT", "/zato/sso/user/attr", 400, cid, `{"cid":"` + cid + `","status":"error","sub_status":["E008003"],"result":"Error","details":"Bad request"}`, true},
		{"unknown path 404", "GET", "/zato/sso/nope", 404, cid, `{"cid":"` + cid + `","status":"error","sub_status":["E008001"]}`, true},
		{"unknown method 405", "PUT", "/zato/sso/user/login", 405, cid, `{"cid":"` + cid + `","status":"error","sub_status":["E008001"]}`, true},
		{"healthz", "GET", "/healthz", 503, cid, `{"status":"error"}`, true},

		{"an undocumented field", "GET", "/zato/sso/user/attr/names", 200, cid, `{"cid":"` + cid + `","status":"ok","result":[],"extra":1}`, false},
		{"a missing field", "GET", "/zato/sso/user/attr/names", 200, cid, `{"cid":"` + cid + `","status":"ok"}`, false},
		{"an undocumented status", "GET", "/zato/sso/user/attr/names", 418, cid, `{"cid":"` + cid + `","status":"error","sub_status":["E008004"]}`, false},
		{"a null value", "GET", "/zato/sso/user/attr", 200, cid, `{"cid":"` + cid + `","status":"ok","found":true,"name":"a","value":null,"creation_time":"2031-05-04T09:10:11","last_modified":"2031-05-04T09:10:11","expiration_time":"2031-05-04T09:10:11","is_encrypted":false}`, false},
		{"a time with a zone", "PATCH", "/zato/sso/user/session", 200, cid, `{"cid":"` + cid + `","status":"ok","expiration_time":"2031-05-04T09:10:11Z"}`, false},
		{"an empty sub_status", "GET", "/zato/sso/user", 403, cid, `{"cid":"` + cid + `","status":"error","sub_status":[]}`, false},
		{"a malformed code", "GET", "/zato/sso/user", 403, cid, `{"cid":"` + cid + `","status":"error","sub_status":["oops"]}`, false},
		{"no cid header", "GET", "/zato/sso/user/attr/names", 200, "", `{"cid":"` + cid + `","status":"ok","result":[]}`, false},
		{"another cid in the header", "GET", "/zato/sso/user/attr/names", 200, "fedcba9876543210fedcba98", `{"cid":"` + cid + `","status":"ok","result":[]}`, false},
		{"unknown path answered 200", "GET", "/zato/sso/nope", 200, cid, `{"cid":"` + cid + `","status":"ok"}`, false},
		{"unknown path, not an envelope", "GET", "/nope", 404, cid, `{"message":"Not Found"}`, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			req := httptest.NewRequest(c.method, "http://127.0.0.1:17010"+c.path, nil)
			h := http.Header{"Content-Type": {"application/json; charset=utf-8"}}
			if c.headerCID != "" {
				h.Set("X-Zato-CID", c.headerCID)
			}
			err := d.Check(req, c.status, h, []byte(c.body))
			if c.ok && err != nil {
				t.Fatalf("Check = %v, want nil", err)
			}
			if !c.ok && err == nil {
				t.Fatal("Check = nil, want an error")
			}
			if err != nil {
				t.Log(err)
			}
		})
	}
	t.Run("undocumented route", func(t *testing.T) {
		req := httptest.NewRequest("GET", "http://127.0.0.1:17010/metricz", nil)
		err := d.Check(req, 200, http.Header{}, []byte(`{}`))
		if !errors.Is(err, apicheck.ErrUndocumented) {
			t.Fatalf("Check = %v, want ErrUndocumented", err)
		}
	})
}

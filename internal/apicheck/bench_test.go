package apicheck_test

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/ssoattr/ssoattr/internal/apicheck"
)

func BenchmarkCheck(b *testing.B) {
	d, err := apicheck.Load()
	if err != nil {
		b.Fatal(err)
	}
	attr := `"name":"a","value":{"x":[1,null]},"creation_time":"2031-05-04T09:10:11","last_modified":"2031-05-04T09:10:11.250000","expiration_time":"9999-12-31T00:00:00","is_encrypted":false`
	body := []byte(`{"cid":"` + cid + `","status":"ok","found":true,` + attr + `}`)
	h := http.Header{"Content-Type": {"application/json; charset=utf-8"}, "X-Zato-Cid": {cid}}
	req := httptest.NewRequest("GET", "http://127.0.0.1:17010/zato/sso/user/attr", nil)
	b.ReportAllocs()
	for b.Loop() {
		if err := d.Check(req, 200, h, body); err != nil {
			b.Fatal(err)
		}
	}
}

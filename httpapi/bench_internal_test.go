package httpapi

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/ssoattr/ssoattr/domain"
)

// Request bodies as clients send them: a UST is ~150 characters of Fernet.
const (
	benchUST     = "gAAAAABoE1x2bGjP8vV9vXk0cQ3n0yR3tU8c3bN2yq4mQ2u7b8J9w8y0pX6qfS5hQ1lVdA7e6tV5pX3rK9s2wE1nM0oI4uY7tR6eW5qA3sD2fG1hJ0kL9zX8cV7bN6mM5nB4vC3xZ2aS1dF0gH9jK8lP7o"
	benchSetBody = `{"ust":"` + benchUST + `","current_app":"CRM","name":"bench-attr-00001","value":"0123456789abcdef0123456789abcdef"}`
	benchGetBody = `{"ust":"` + benchUST + `","current_app":"CRM","name":"bench-attr-00001"}`
)

func benchManyBody() string {
	var b bytes.Buffer
	b.WriteString(`{"ust":"` + benchUST + `","current_app":"CRM","data":[`)
	for i := range 10 {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(`{"name":"bench-many-0000` + string(rune('0'+i)) + `","value":"0123456789abcdef0123456789abcdef"}`)
	}
	b.WriteString(`]}`)
	return b.String()
}

// benchRequest is a request as the server hands it to a handler, made
// cheaply so the figures are the decoder's.
func benchRequest(method, body string) *http.Request {
	return &http.Request{Method: method, URL: &url.URL{Path: "/zato/sso/user/attr"},
		Header: http.Header{}, Body: io.NopCloser(strings.NewReader(body))}
}

// discard is a ResponseWriter that keeps nothing.
type discard struct{ h http.Header }

func (d *discard) Header() http.Header         { return d.h }
func (d *discard) Write(p []byte) (int, error) { return len(p), nil }
func (d *discard) WriteHeader(int)             {}

func BenchmarkParseInput(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := parseInput(benchRequest("PUT", benchSetBody)); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkDecodeSet is everything a PUT of one attribute reads from its
// request: the body, the caller token, the item.
func BenchmarkDecodeSet(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		in, err := parseInput(benchRequest("PUT", benchSetBody))
		if err != nil {
			b.Fatal(err)
		}
		if _, err := in.callerToken(); err != nil {
			b.Fatal(err)
		}
		if _, err := writeItem(in, domain.OpSet, writeOpts{}, false); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkDecodeSetMany is BenchmarkDecodeSet for a data list of ten items.
func BenchmarkDecodeSetMany(b *testing.B) {
	body := benchManyBody()
	b.ReportAllocs()
	for b.Loop() {
		in, err := parseInput(benchRequest("PUT", body))
		if err != nil {
			b.Fatal(err)
		}
		list, ok, err := in.list("data")
		if err != nil || !ok || len(list) != 10 {
			b.Fatalf("list = %d items, %v, %v", len(list), ok, err)
		}
		for _, raw := range list {
			obj, err := object(raw)
			if err != nil {
				b.Fatal(err)
			}
			if _, err := writeItem(obj, domain.OpSet, writeOpts{}, false); err != nil {
				b.Fatal(err)
			}
		}
	}
}

// BenchmarkDecodeGet is what a GET of one attribute reads from its request.
func BenchmarkDecodeGet(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		in, err := parseInput(benchRequest("GET", benchGetBody))
		if err != nil {
			b.Fatal(err)
		}
		if _, err := in.callerToken(); err != nil {
			b.Fatal(err)
		}
		if _, err := in.boolean("decrypt", true); err != nil {
			b.Fatal(err)
		}
		if _, _, err := readNames(in); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkReplyAttr is the answer to a GET of one attribute: the envelope
// and the attribute's fields.
func BenchmarkReplyAttr(b *testing.B) {
	s := &Server{}
	e := echo.New()
	now := time.Date(2026, 5, 1, 12, 0, 0, 123456000, time.UTC)
	a := &domain.Attr{Name: "bench-attr-00001", Value: []byte(`"0123456789abcdef0123456789abcdef"`),
		Created: now, Modified: now, Expires: domain.Never}
	w := &discard{h: http.Header{}}
	req := httptest.NewRequest("GET", "/zato/sso/user/attr", nil)
	b.ReportAllocs()
	for b.Loop() {
		clear(w.h)
		c := e.NewContext(req, w)
		c.Set(cidKey, "0123456789abcdef01234567")
		if err := s.reply(c, append([]field{{"found", true}}, attrFields(a)...)...); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkMiddleware is what every request pays around its handler: the
// correlation id, the deadline, the request logger (debug off) and Echo's
// routing, on GET /healthz, whose handler writes a constant.
func BenchmarkMiddleware(b *testing.B) {
	s := New(nil, slog.New(slog.DiscardHandler), Options{})
	// As net/http's: a request's context is cancellable, so a deadline
	// below it registers with it.
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	req := httptest.NewRequest("GET", "/healthz", nil).WithContext(ctx)
	w := &discard{h: http.Header{}}
	b.ReportAllocs()
	for b.Loop() {
		clear(w.h)
		s.ServeHTTP(w, req)
	}
}

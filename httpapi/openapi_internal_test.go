package httpapi

import (
	"log/slog"
	"net/http"
	"slices"
	"testing"

	"github.com/labstack/echo/v4"

	"github.com/ssoattr/ssoattr/internal/apicheck"
)

// TestOpenAPI_DocumentsEveryRoute walks the routes registered on Echo and
// fails on one that docs/openapi.json lacks, and on a documented operation
// that no route serves.
func TestOpenAPI_DocumentsEveryRoute(t *testing.T) {
	d, err := apicheck.Load()
	if err != nil {
		t.Fatal(err)
	}
	documented := d.Operations()
	// Every optional route on: MetricsHandler registers GET /metrics.
	s := New(nil, slog.New(slog.DiscardHandler), Options{MetricsHandler: http.NotFoundHandler()})
	var registered []string
	for _, r := range s.e.Routes() {
		if r.Method == echo.RouteNotFound {
			continue
		}
		registered = append(registered, r.Method+" "+r.Path)
	}
	slices.Sort(registered)
	registered = slices.Compact(registered)
	if len(registered) < 30 {
		t.Fatalf("%d routes registered, expected the whole API: %v", len(registered), registered)
	}
	for _, r := range registered {
		if !slices.Contains(documented, r) {
			t.Errorf("route %s is not in docs/openapi.json: document it there and in docs/API.md", r)
		}
	}
	for _, op := range documented {
		if !slices.Contains(registered, op) {
			t.Errorf("docs/openapi.json documents %s, which no route serves", op)
		}
	}
}

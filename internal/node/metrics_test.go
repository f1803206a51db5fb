package node_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/ssoattr/ssoattr/internal/node/nodetest"
)

// scrape gets GET /metrics of inst through its listener and parses it.
func scrape(t *testing.T, inst *nodetest.Instance) map[string]*dto.MetricFamily {
	t.Helper()
	resp, err := http.Get(inst.URL + "/metrics")
	if err != nil {
		t.Fatalf("GET /metrics: %v", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/plain") {
		t.Fatalf("GET /metrics = %d %s, want 200 text/plain", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(resp.Body)
	if err != nil {
		t.Fatalf("parse /metrics: %v", err)
	}
	return fams
}

// metricValue returns the value of the series of family name with exactly
// those labels (name=value pairs), and whether it exists. For a histogram
// it is the sample count.
func metricValue(fams map[string]*dto.MetricFamily, name string, labels ...string) (float64, bool) {
	f := fams[name]
	if f == nil {
		return 0, false
	}
	want := map[string]string{}
	for i := 0; i+1 < len(labels); i += 2 {
		want[labels[i]] = labels[i+1]
	}
next:
	for _, m := range f.GetMetric() {
		if len(m.GetLabel()) != len(want) {
			continue
		}
		for _, l := range m.GetLabel() {
			if v, ok := want[l.GetName()]; !ok || v != l.GetValue() {
				continue next
			}
		}
		switch {
		case m.Counter != nil:
			return m.Counter.GetValue(), true
		case m.Gauge != nil:
			return m.Gauge.GetValue(), true
		case m.Histogram != nil:
			return float64(m.Histogram.GetSampleCount()), true
		}
	}
	return 0, false
}

// TestMetrics_Scrape makes requests, logins, a conflict, an expiry and a
// sweep happen on one instance, then reads them back from GET /metrics.
func TestMetrics_Scrape(t *testing.T) {
	clock := nodetest.NewManualClock(time.Now())
	inst := nodetest.Start(t, nodetest.WithNow(clock.Now),
		nodetest.WithExpiryInterval(20*time.Millisecond), nodetest.WithSweepInterval(100*time.Millisecond))
	ust, _ := inst.SuperUser("metrics")
	if r := inst.Do("POST", "/zato/sso/user/login", map[string]any{
		"username": "metrics", "password": "wrong-password", "current_app": "CRM"}); r.Status != 403 {
		t.Fatalf("login with a wrong password = %d %s, want 403", r.Status, r.Raw)
	}
	put := func(name string, extra ...any) {
		t.Helper()
		body := map[string]any{"ust": ust, "current_app": "CRM", "name": name, "value": "v"}
		for i := 0; i+1 < len(extra); i += 2 {
			body[extra[i].(string)] = extra[i+1]
		}
		if r := inst.Do("PUT", "/zato/sso/user/attr", body); r.Status != 200 {
			t.Fatalf("PUT %s = %d %s", name, r.Status, r.Raw)
		}
	}
	put("a")
	put("b")
	put("short-lived", "expiration", 1) // seconds
	for range 3 {
		if r := inst.Do("GET", "/zato/sso/user/attr", map[string]any{"ust": ust, "current_app": "CRM", "name": "a"}); r.Status != 200 {
			t.Fatalf("GET = %d %s", r.Status, r.Raw)
		}
	}
	if r := inst.Do("GET", "/no/such/route/42", nil); r.Status != 404 {
		t.Fatalf("GET /no/such/route/42 = %d, want 404", r.Status)
	}

	// Writers racing for one owner: the losers conflict and decide again.
	deadline := time.Now().Add(20 * time.Second)
	for inst.Store.Conflicts() == 0 && time.Now().Before(deadline) {
		var wg sync.WaitGroup
		for i := range 16 {
			wg.Go(func() {
				body := map[string]any{"ust": ust, "current_app": "CRM", "name": fmt.Sprintf("race-%d", i), "value": "v"}
				if r := inst.Do("PUT", "/zato/sso/user/attr", body); r.Status != 200 {
					t.Errorf("racing PUT = %d %s", r.Status, r.Raw)
				}
			})
		}
		wg.Wait()
	}

	// A message no instance signed, on a user's attribute subject: the
	// view refuses it (and counts it).
	if _, err := inst.JetStream().Publish(t.Context(), "sso.uattr.zusrforged", []byte(`{"not":"an event"}`)); err != nil {
		t.Fatalf("publish a forged message: %v", err)
	}

	// The short-lived attribute expires (on the instance's clock); the
	// expirer records it, and the sweeper runs meanwhile.
	clock.Advance(1500 * time.Millisecond)
	var fams map[string]*dto.MetricFamily
	for {
		fams = scrape(t, inst)
		expired, _ := metricValue(fams, "ssoattr_expired_total", "item", "attr")
		sweeps, _ := metricValue(fams, "ssoattr_view_sweeps_total")
		lag, _ := metricValue(fams, "ssoattr_view_lag_sequences")
		if expired >= 1 && sweeps >= 1 && lag == 0 {
			// One scrape reads the counters one after another, so this one
			// may have read the store's appended count just before the
			// expiry round finished. Everything the round did happened
			// before this scrape ended: the next scrape sees all of it.
			fams = scrape(t, inst)
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after 20s: ssoattr_expired_total{item=attr} = %v, ssoattr_view_sweeps_total = %v, "+
				"ssoattr_view_lag_sequences = %v; want ≥ 1, ≥ 1, 0", expired, sweeps, lag)
		}
		time.Sleep(20 * time.Millisecond)
	}

	const attrRoute = "/zato/sso/user/attr"
	exact := []struct {
		name   string
		labels []string
		want   float64
	}{
		{"ssoattr_http_requests_total", []string{"route", attrRoute, "method", "GET", "status", "200"}, 3},
		{"ssoattr_http_request_duration_seconds", []string{"route", attrRoute, "method", "GET", "status", "200"}, 3},
		{"ssoattr_http_requests_total", []string{"route", "unmatched", "method", "GET", "status", "404"}, 1},
		{"ssoattr_http_requests_total", []string{"route", "/zato/sso/user/login", "method", "POST", "status", "403"}, 1},
		{"ssoattr_logins_total", []string{"outcome", "ok"}, 1},
		{"ssoattr_logins_total", []string{"outcome", "E005001"}, 1},
		{"ssoattr_expiry_rounds_total", []string{"result", "failed"}, 0},
		{"ssoattr_view_lag_seconds", nil, 0},
		{"ssoattr_nats_connected", nil, 1},
		{"ssoattr_nats_reconnects_total", nil, 0},
		{"ssoattr_events_rejected_total", nil, 1},
		{"ssoattr_events_appended_total", []string{"kind", "attr.expired"}, 1},
	}
	for _, c := range exact {
		if got, ok := metricValue(fams, c.name, c.labels...); !ok || got != c.want {
			t.Errorf("%s%v = %v (present %v), want %v", c.name, c.labels, got, ok, c.want)
		}
	}
	// PUTs: three plus the racing ones, all 200.
	if got, _ := metricValue(fams, "ssoattr_http_requests_total", "route", attrRoute, "method", "PUT", "status", "200"); got < 3+16 {
		t.Errorf("PUT 200 requests = %v, want ≥ 19", got)
	}
	if got, _ := metricValue(fams, "ssoattr_write_conflicts_total"); got < 1 {
		t.Errorf("ssoattr_write_conflicts_total = %v, want ≥ 1 after racing writers", got)
	}
	if got, _ := metricValue(fams, "ssoattr_write_retries_total"); got < 1 {
		t.Errorf("ssoattr_write_retries_total = %v, want ≥ 1 after racing writers", got)
	}
	// Every event appended here was applied here: the view's counts by kind
	// match the store's for the kinds this test wrote.
	for _, kind := range []string{"attr.set", "attr.expired", "session.created", "user.created"} {
		appended, _ := metricValue(fams, "ssoattr_events_appended_total", "kind", kind)
		applied, _ := metricValue(fams, "ssoattr_events_applied_total", "kind", kind)
		if appended < 1 || applied != appended {
			t.Errorf("kind %s: appended %v, applied %v; want equal and ≥ 1", kind, appended, applied)
		}
	}
	last, _ := metricValue(fams, "ssoattr_stream_last_sequence")
	applied, _ := metricValue(fams, "ssoattr_view_applied_sequence")
	if last < 1 || applied != last {
		t.Errorf("ssoattr_stream_last_sequence = %v, ssoattr_view_applied_sequence = %v; want equal and ≥ 1", last, applied)
	}
	if _, ok := metricValue(fams, "go_goroutines"); !ok {
		t.Error("no go_goroutines: the Go collector is not registered")
	}
}

// TestMetrics_RegistryPerInstance: two instances in one process each count
// their own requests.
func TestMetrics_RegistryPerInstance(t *testing.T) {
	url, _ := nodetest.StartNATS(t)
	a := nodetest.Start(t, nodetest.WithNATS(url))
	b := nodetest.Start(t, nodetest.WithNATS(url))
	for range 2 {
		a.Do("GET", "/healthz", nil)
	}
	b.Do("GET", "/healthz", nil)
	for _, c := range []struct {
		inst *nodetest.Instance
		want float64
	}{{a, 2}, {b, 1}} {
		got, _ := metricValue(scrape(t, c.inst), "ssoattr_http_requests_total", "route", "/healthz", "method", "GET", "status", "200")
		if got != c.want {
			t.Errorf("GET /healthz counted %v, want %v", got, c.want)
		}
	}
}

// TestMetrics_BackoffRefusals: failed logins past the back-off's threshold
// are refused unchecked, and counted as such besides their E005001.
func TestMetrics_BackoffRefusals(t *testing.T) {
	inst := nodetest.Start(t)
	const tries = 8 // a username's threshold is 5 failures
	for range tries {
		if r := inst.Do("POST", "/zato/sso/user/login", map[string]any{
			"username": "nobody", "password": "wrong-password", "current_app": "CRM"}); r.Status != 403 {
			t.Fatalf("login = %d %s, want 403", r.Status, r.Raw)
		}
	}
	fams := scrape(t, inst)
	if got, _ := metricValue(fams, "ssoattr_logins_total", "outcome", "E005001"); got != tries {
		t.Errorf("ssoattr_logins_total{outcome=E005001} = %v, want %d", got, tries)
	}
	if got, _ := metricValue(fams, "ssoattr_backoff_refusals_total"); got < 1 || got > tries-5 {
		t.Errorf("ssoattr_backoff_refusals_total = %v, want 1 to %d after %d failures", got, tries-5, tries)
	}
}

// TestMetrics_BackoffRecordsRejected: a back-off record the service did
// not sign is counted each time it is read.
func TestMetrics_BackoffRecordsRejected(t *testing.T) {
	inst := nodetest.Start(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	kv, err := inst.JetStream().KeyValue(ctx, "SSO_BACKOFF")
	if err != nil {
		t.Fatal(err)
	}
	h := sha256.Sum256([]byte("nobody"))
	if _, err := kv.Put(ctx, "user."+hex.EncodeToString(h[:]), []byte(`{"failures":0}`)); err != nil {
		t.Fatal(err)
	}
	if got, _ := metricValue(scrape(t, inst), "ssoattr_backoff_records_rejected_total"); got != 0 {
		t.Fatalf("ssoattr_backoff_records_rejected_total = %v before any read, want 0", got)
	}
	if r := inst.Do("POST", "/zato/sso/user/login", map[string]any{
		"username": "nobody", "password": "wrong-password", "current_app": "CRM"}); r.Status != 403 {
		t.Fatalf("login = %d %s, want 403", r.Status, r.Raw)
	}
	if got, _ := metricValue(scrape(t, inst), "ssoattr_backoff_records_rejected_total"); got < 1 {
		t.Errorf("ssoattr_backoff_records_rejected_total = %v after a login over an unsigned record, want ≥ 1", got)
	}
}

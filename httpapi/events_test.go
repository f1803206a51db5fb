package httpapi_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ssoattr/ssoattr/domain"
	"github.com/ssoattr/ssoattr/eventstore"
	"github.com/ssoattr/ssoattr/internal/jsontext"
	"github.com/ssoattr/ssoattr/internal/node/nodetest"
	"github.com/ssoattr/ssoattr/sso"
)

// auSSE is a client of GET /zato/sso/events.
type auSSE struct {
	t      *testing.T
	resp   *http.Response
	rd     *bufio.Reader
	cancel context.CancelFunc
}

// auOpenEvents opens the event stream with the query fields and, unless
// empty, a Last-Event-ID header. It returns the response for a non-stream
// answer (an error envelope), or the open stream.
func auOpenEvents(t *testing.T, inst *nodetest.Instance, fields map[string]string, lastID string) (*auSSE, nodetest.Response) {
	t.Helper()
	q := url.Values{}
	for k, v := range fields {
		q.Set(k, v)
	}
	ctx, cancel := context.WithCancel(context.Background())
	req, err := http.NewRequestWithContext(ctx, "GET", inst.URL+"/zato/sso/events?"+q.Encode(), nil)
	if err != nil {
		t.Fatalf("request: %v", err)
	}
	if lastID != "" {
		req.Header.Set("Last-Event-ID", lastID)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		cancel()
		t.Fatalf("GET /zato/sso/events: %v", err)
	}
	if !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/event-stream") {
		defer cancel()
		defer resp.Body.Close()
		r := nodetest.Response{Status: resp.StatusCode, Header: resp.Header}
		if err := json.NewDecoder(resp.Body).Decode(&r.Body); err != nil {
			t.Fatalf("events answer: neither a stream nor JSON: %v", err)
		}
		return nil, r
	}
	s := &auSSE{t: t, resp: resp, rd: bufio.NewReader(resp.Body), cancel: cancel}
	t.Cleanup(s.close)
	return s, nodetest.Response{Status: resp.StatusCode, Header: resp.Header}
}

func (s *auSSE) close() { s.cancel(); s.resp.Body.Close() }

// auEvent is one server-sent event.
type auEvent struct {
	id   uint64
	data map[string]any
}

// next returns the next event, failing the test if none comes within 10 s.
func (s *auSSE) next() auEvent {
	s.t.Helper()
	timer := time.AfterFunc(10*time.Second, s.cancel)
	defer timer.Stop()
	var ev auEvent
	hasID := false
	for {
		line, err := s.rd.ReadString('\n')
		if err != nil {
			s.t.Fatalf("event stream: %v (no event within 10s?)", err)
		}
		line = strings.TrimSuffix(line, "\n")
		switch {
		case line == "" && hasID:
			return ev
		case strings.HasPrefix(line, "id: "):
			if ev.id, err = strconv.ParseUint(line[4:], 10, 64); err != nil {
				s.t.Fatalf("event id %q: %v", line, err)
			}
			hasID = true
		case strings.HasPrefix(line, "data: "):
			if err := json.Unmarshal([]byte(line[6:]), &ev.data); err != nil {
				s.t.Fatalf("event data %q: %v", line, err)
			}
		}
	}
}

// auStreamSeqs returns the sequences of the stored events of one user's
// account, sessions and attributes, in order.
func auStreamSeqs(t *testing.T, inst *nodetest.Instance, userID string) []uint64 {
	t.Helper()
	var out []uint64
	err := inst.Store.Scan(t.Context(), eventstore.UserFilters(userID), 1, 0, func(m eventstore.Msg) bool {
		out = append(out, m.Seq)
		return true
	})
	if err != nil {
		t.Fatalf("scan the stream: %v", err)
	}
	return out
}

// auConsumers returns how many consumers the stream has.
func auConsumers(t *testing.T, inst *nodetest.Instance) int {
	t.Helper()
	st, err := inst.JetStream().Stream(t.Context(), inst.Store.StreamName())
	if err != nil {
		t.Fatalf("stream: %v", err)
	}
	info, err := st.Info(t.Context())
	if err != nil {
		t.Fatalf("stream info: %v", err)
	}
	return info.State.Consumers
}

// auWaitConsumers waits until the stream has n consumers.
func auWaitConsumers(t *testing.T, inst *nodetest.Instance, n int) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		got := auConsumers(t, inst)
		if got == n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the stream has %d consumers, want %d", got, n)
		}
	}
}

func TestEvents(t *testing.T) {
	inst := nodetest.Start(t)
	root, _ := inst.SuperUser("ev-root")
	alice, aliceID := inst.User(root, "ev-alice")
	bob, _ := inst.User(root, "ev-bob")
	put := func(ust, name string) {
		t.Helper()
		auDo(t, inst, "PUT", auUserAttr, auReq(ust, "name", name, "value", name), "")
	}

	t.Run("super-users only", func(t *testing.T) {
		_, r := auOpenEvents(t, inst, map[string]string{"ust": alice, "current_app": "CRM"}, "")
		if r.Status != 403 || r.SubStatus() != "E005001" {
			t.Fatalf("a regular user's stream = %d %v, want 403 E005001", r.Status, r.Body)
		}
		_, r = auOpenEvents(t, inst, map[string]string{"ust": root}, "")
		if r.Status != 400 || r.SubStatus() != "E008003" {
			t.Fatalf("without current_app = %d %v, want 400 E008003", r.Status, r.Body)
		}
		_, r = auOpenEvents(t, inst, map[string]string{"ust": root, "current_app": "CRM", "type": "attr.nope"}, "")
		if r.SubStatus() != "E008002" {
			t.Fatalf("unknown type = %d %v, want E008002", r.Status, r.Body)
		}
		_, r = auOpenEvents(t, inst, map[string]string{"ust": root, "current_app": "CRM"}, "x")
		if r.SubStatus() != "E008002" {
			t.Fatalf("bad Last-Event-ID = %d %v, want E008002", r.Status, r.Body)
		}
	})

	t.Run("a client that disconnects and resumes sees every event once, in order", func(t *testing.T) {
		before := auStreamSeqs(t, inst, aliceID)
		// The instance's follower is the one consumer the stream keeps;
		// the reads above release theirs in the background.
		auWaitConsumers(t, inst, 1)
		query := map[string]string{"ust": root, "current_app": "CRM", "user_id": aliceID}
		s, _ := auOpenEvents(t, inst, query, "")
		auWaitConsumers(t, inst, 2)
		for i := range 10 {
			put(alice, fmt.Sprintf("a%d", i))
			put(bob, fmt.Sprintf("b%d", i)) // another user's: filtered out
		}
		var seen []uint64
		for range 4 {
			ev := s.next()
			if subj := ev.data["subject"]; subj != "sso.uattr."+aliceID {
				t.Fatalf("event %d has subject %v, want alice's attributes", ev.id, subj)
			}
			seen = append(seen, ev.id)
		}
		s.close()
		auWaitConsumers(t, inst, 1) // the server noticed the client left, and released its consumer
		for i := range 10 {
			put(alice, fmt.Sprintf("c%d", i))
		}
		auDo(t, inst, "DELETE", auUserAttr, auReq(alice, "name", "a0"), "")
		s, _ = auOpenEvents(t, inst, query, strconv.FormatUint(seen[len(seen)-1], 10))
		want := auStreamSeqs(t, inst, aliceID)[len(before):]
		for len(seen) < len(want) {
			seen = append(seen, s.next().id)
		}
		if !slices.Equal(seen, want) {
			t.Fatalf("ids seen = %v, want %v", seen, want)
		}
	})

	t.Run("filters by type", func(t *testing.T) {
		last, err := inst.Store.LastSeq(t.Context())
		if err != nil {
			t.Fatalf("LastSeq: %v", err)
		}
		s, _ := auOpenEvents(t, inst, map[string]string{"ust": root, "current_app": "CRM",
			"type": "attr.deleted,session.created"}, strconv.FormatUint(last, 10))
		put(alice, "t1")
		auDo(t, inst, "DELETE", auUserAttr, auReq(alice, "name", "t1"), "")
		inst.Login("ev-bob", nodetest.Password)
		for _, want := range []string{"attr.deleted", "session.created"} {
			if ev := s.next(); ev.data["type"] != jsontext.EventType(want) {
				t.Fatalf("event %d = %v, want type %s", ev.id, ev.data["type"], jsontext.EventType(want))
			}
		}
	})
}

func TestEvents_CloseEndsOpenStreams(t *testing.T) {
	inst := nodetest.Start(t)
	root, _ := inst.SuperUser("evc-root")
	s, _ := auOpenEvents(t, inst, map[string]string{"ust": root, "current_app": "CRM"}, "")
	done := make(chan struct{})
	start := time.Now()
	go func() { inst.Stop(); close(done) }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("Close still waiting for the open event stream after 5s")
	}
	if took := time.Since(start); took > 3*time.Second {
		t.Fatalf("Close took %v with an open event stream, want it prompt", took)
	}
	// The client sees the end of the stream, not a connection left hanging.
	var gaveUp atomic.Bool
	timer := time.AfterFunc(5*time.Second, func() { gaveUp.Store(true); s.cancel() })
	defer timer.Stop()
	for {
		if _, err := s.rd.ReadString('\n'); err != nil {
			break
		}
	}
	if gaveUp.Load() {
		t.Fatal("the event stream was still open 5s after Close")
	}
}

// TestExpiry_ReplicasRecordEachExpiryOnce runs expiry rounds on two replicas
// at once, repeatedly, and counts what the stream holds.
func TestExpiry_ReplicasRecordEachExpiryOnce(t *testing.T) {
	natsURL, _ := nodetest.StartNATS(t)
	clock := nodetest.NewManualClock(auStart)
	opts := []nodetest.Option{nodetest.WithNATS(natsURL), nodetest.WithNow(clock.Now),
		nodetest.WithExpiryInterval(time.Hour), nodetest.WithSweepInterval(time.Hour),
		nodetest.WithConfig(func(c *sso.Config) { c.SessionExpiry = 30 * time.Minute })}
	a := nodetest.Start(t, opts...)
	b := nodetest.Start(t, opts...)
	root, _ := a.SuperUser("rx-root")
	var users []string
	for i := range 3 {
		ust, id := a.User(root, fmt.Sprintf("rx-user%d", i))
		users = append(users, id)
		for j := range 4 {
			auDo(t, a, "PUT", auUserAttr, auReq(ust, "name", fmt.Sprintf("k%d", j), "value", j, "expiration", 60*(j+1)), "")
		}
		auDo(t, a, "PUT", auUserAttr, auReq(ust, "name", "keep", "value", 1), "")
		auDo(t, a, "PUT", auSessionAttr, auReq(ust, "name", "early", "value", 1, "expiration", 60), "")
		auDo(t, a, "PUT", auSessionAttr, auReq(ust, "name", "late", "value", 1), "")
	}
	rounds := func() {
		var wg sync.WaitGroup
		for _, inst := range []*nodetest.Instance{a, b, a, b} {
			wg.Go(func() {
				for range 3 {
					if _, err := inst.SSO.Expire(context.Background(), inst.View); err != nil {
						t.Errorf("Expire: %v", err)
					}
				}
			})
		}
		wg.Wait()
	}
	clock.Advance(150 * time.Second) // k0 and k1 (60 s, 120 s) and every "early" have expired
	rounds()
	clock.Advance(time.Hour) // k2, k3 and every session have expired
	rounds()

	for _, uid := range users {
		expired := map[string]int{}
		for _, e := range a.OwnerEvents(domain.UserAttrsOwner(uid)) {
			if e.Kind == domain.KindAttrExpired {
				for _, n := range e.Data.Names {
					expired[n]++
				}
			}
		}
		if want := map[string]int{"k0": 1, "k1": 1, "k2": 1, "k3": 1}; fmt.Sprint(expired) != fmt.Sprint(want) {
			t.Fatalf("expired events of %s name %v, want each of k0..k3 once", uid, expired)
		}
	}
	// Every session (the users' and root's) ended once, by expiry; the
	// users' session attributes: early expired, late went with the session.
	var ended int
	err := a.Store.Scan(t.Context(), eventstore.UserFilters("", domain.OwnerSession, domain.OwnerSessionAttrs), 1, 0,
		func(m eventstore.Msg) bool {
			e := m.Event
			switch e.Kind {
			case domain.KindSessionEnded:
				ended++
				if e.Data.Reason != domain.ReasonExpired || e.Actor != sso.ActorSystem {
					t.Errorf("session.ended %v, want reason expired by system", e)
				}
			case domain.KindAttrExpired:
				if !slices.Equal(e.Data.Names, []string{"early"}) {
					t.Errorf("session attrs expired %q, want [early]", e.Data.Names)
				}
			case domain.KindAttrRemoved:
				if !slices.Equal(e.Data.Names, []string{"late"}) || e.Data.Reason != domain.ReasonExpired {
					t.Errorf("session attrs removed %q (%s), want [late] (expired)", e.Data.Names, e.Data.Reason)
				}
			}
			return true
		})
	if err != nil {
		t.Fatalf("scan: %v", err)
	}
	if ended != len(users)+1 {
		t.Fatalf("session.ended events = %d, want %d (one per session)", ended, len(users)+1)
	}
	for _, uid := range users {
		var kinds []string
		for _, sid := range auSessionsOf(t, a, uid) {
			for _, e := range a.OwnerEvents(domain.SessionAttrsOwner(uid, sid)) {
				kinds = append(kinds, e.Kind)
			}
		}
		if want := []string{"attr.set", "attr.set", "attr.expired", "attr.removed"}; !slices.Equal(kinds, want) {
			t.Fatalf("session attribute events of %s = %v, want %v", uid, kinds, want)
		}
	}
}

// auSessionsOf returns the ids of the user's sessions the stream holds.
func auSessionsOf(t *testing.T, inst *nodetest.Instance, uid string) []string {
	t.Helper()
	var out []string
	err := inst.Store.Scan(t.Context(), eventstore.UserFilters(uid, domain.OwnerSession), 1, 0, func(m eventstore.Msg) bool {
		if m.Event.Kind == domain.KindSessionCreated && !slices.Contains(out, m.Event.Owner.Session) {
			out = append(out, m.Event.Owner.Session)
		}
		return true
	})
	if err != nil {
		t.Fatalf("scan sessions: %v", err)
	}
	return out
}

package httpapi_test

import (
	"fmt"
	"maps"
	"math/rand/v2"
	"os"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ssoattr/ssoattr/domain"
	"github.com/ssoattr/ssoattr/internal/node/nodetest"
)

// auAttr is an attribute as the model keeps it.
type auAttr struct {
	value                     any // as JSON decodes it
	enc                       bool
	created, modified, expire time.Time
}

// auChange is a change the model expects in the history.
type auChange struct {
	typ, name string
	at        time.Time
	attr      *auAttr // written changes
}

// auModel is the simple in-memory model of one owner's attributes: what the
// view stores (expired attributes included, until their expired event),
// its state after every step, and the history it expects.
type auModel struct {
	stored  map[string]auAttr
	snaps   []auSnap
	changes []auChange
}

type auSnap struct {
	at     time.Time
	stored map[string]auAttr
}

func (m *auModel) live(name string, at time.Time) (auAttr, bool) {
	a, ok := m.stored[name]
	return a, ok && a.expire.After(at)
}

func (m *auModel) write(typ, name string, a auAttr, at time.Time) {
	m.stored[name] = a
	m.changes = append(m.changes, auChange{typ: typ, name: name, at: at, attr: &a})
}

func (m *auModel) drop(typ string, names []string, at time.Time) {
	for _, n := range names {
		delete(m.stored, n)
		m.changes = append(m.changes, auChange{typ: typ, name: n, at: at})
	}
}

func (m *auModel) snapshot(at time.Time) {
	m.snaps = append(m.snaps, auSnap{at, maps.Clone(m.stored)})
}

// at returns the live attributes at the moment t: the state after the last
// step at or before t, less what had expired by t.
func (m *auModel) at(t time.Time) map[string]auAttr {
	out := map[string]auAttr{}
	for _, s := range m.snaps {
		if s.at.After(t) {
			break
		}
		out = s.stored
	}
	live := map[string]auAttr{}
	for n, a := range out {
		if a.expire.After(t) {
			live[n] = a
		}
	}
	return live
}

// auSeed returns the random seed: AU_SEED if set (to replay a failure),
// else a fresh one. The test logs it.
func auSeed(t *testing.T) uint64 {
	if s := os.Getenv("AU_SEED"); s != "" {
		n, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			t.Fatalf("AU_SEED: %v", err)
		}
		return n
	}
	return uint64(time.Now().UnixNano())
}

// TestAsOf_AgreesWithModel applies a long random sequence of creates, sets,
// updates, deletes and expiry rounds at controlled times, then checks that
// reads as_of random moments, and the history, agree with auModel.
func TestAsOf_AgreesWithModel(t *testing.T) {
	seed := auSeed(t)
	t.Logf("seed %d (AU_SEED=%d replays it)", seed, seed)
	clock := nodetest.NewManualClock(auStart)
	inst := nodetest.Start(t, nodetest.WithNow(clock.Now),
		nodetest.WithExpiryInterval(time.Hour), nodetest.WithSweepInterval(time.Hour))
	root, _ := inst.SuperUser("asof-root")
	for i, scope := range []string{"user", "session"} {
		t.Run(scope, func(t *testing.T) {
			rng := rand.New(rand.NewPCG(seed, uint64(i)))
			path := auUserAttr
			if scope == "session" {
				path = auSessionAttr
			}
			ust, _ := inst.User(root, "asof-"+scope)
			start := clock.Now()
			m := &auModel{stored: map[string]auAttr{}}
			auRandomSteps(t, inst, clock, rng, m, path, ust, 150)

			// Session attributes: end the session, then look at it from
			// another one, as an auditor would.
			caller, target := ust, ""
			var ended time.Time
			if scope == "session" {
				ended = clock.Advance(time.Second)
				var live []string
				for n := range m.stored {
					if _, ok := m.live(n, ended); ok {
						live = append(live, n)
					}
				}
				slices.Sort(live)
				auDo(t, inst, "POST", "/zato/sso/user/logout", auReq(ust), "")
				m.drop("removed", live, ended)
				m.stored = map[string]auAttr{}
				caller, target = inst.Login("asof-"+scope, nodetest.Password), ust
			}
			body := func(kv ...any) map[string]any {
				b := auReq(caller, kv...)
				if target != "" {
					b["target_ust"] = target
				}
				return b
			}

			// Moments: random ones among every step, just after it, and every
			// expiry and just before it; then before the start, now, later.
			var moments []time.Time
			for _, s := range m.snaps {
				moments = append(moments, s.at, s.at.Add(500*time.Millisecond))
				for _, a := range s.stored {
					if a.expire != domain.Never {
						moments = append(moments, a.expire, a.expire.Add(-time.Microsecond))
					}
				}
			}
			rng.Shuffle(len(moments), func(i, j int) { moments[i], moments[j] = moments[j], moments[i] })
			moments = append(moments[:min(len(moments), 40)], start.Add(-time.Second), clock.Now(), clock.Now().Add(time.Hour))
			for _, at := range moments {
				want := m.at(at)
				if now := clock.Now(); at.After(now) {
					want = m.at(now) // a moment in the future is taken as now
				}
				// A session is readable only while it was live, as the
				// service would then have answered.
				if scope == "session" && (at.Before(start) || !at.Before(ended)) {
					auDo(t, inst, "GET", path+"/names", body("as_of", domain.FormatTime(at)), "E007001")
					continue
				}
				auCheckAt(t, inst, path, body, at, want)
			}

			got := auHistory(t, inst, path, body(), 7)
			auCheckHistory(t, got, m.changes)
		})
	}
}

// auNames is the pool of attribute names the random steps use.
var auNames = []string{"n0", "n1", "n2", "n3", "n4"}

// auRandomSteps applies n random steps through the API and to the model.
func auRandomSteps(t *testing.T, inst *nodetest.Instance, clock *nodetest.ManualClock, rng *rand.Rand, m *auModel, path, ust string, n int) {
	t.Helper()
	value := func() (any, bool) {
		i := float64(rng.IntN(100))
		switch rng.IntN(4) {
		case 0:
			return i, false
		case 1:
			return map[string]any{"k": i}, false
		case 2:
			return []any{i, "x"}, false
		}
		return fmt.Sprintf("v%v", i), rng.IntN(2) == 0
	}
	expiration := func() (int64, bool) {
		switch rng.IntN(3) {
		case 0:
			return 0, false
		case 1:
			return 0, true
		}
		return int64(1 + rng.IntN(8)), true
	}
	for step := range n {
		if rng.IntN(4) > 0 {
			clock.Advance(time.Duration(rng.IntN(3)+1) * time.Second)
		}
		now := clock.Now()
		name := auNames[rng.IntN(len(auNames))]
		cur, live := m.live(name, now)
		req := auReq(ust, "name", name)
		what := fmt.Sprintf("step %d at %s", step, domain.FormatTime(now))
		exp, hasExp := expiration()
		if hasExp {
			req["expiration"] = exp
		}
		expires := func(keep time.Time) time.Time {
			if !hasExp {
				return keep
			}
			return domain.ExpiresAfter(now, exp)
		}
		switch op := rng.IntN(10); {
		case op < 2: // POST
			v, enc := value()
			req["value"], req["encrypt"] = v, enc
			if live {
				auDo(t, inst, "POST", path, req, "E009001")
				continue
			}
			auDo(t, inst, "POST", path, req, "")
			m.write("created", name, auAttr{v, enc, now, now, expires(domain.Never)}, now)
		case op < 4: // PUT
			v, enc := value()
			req["value"], req["encrypt"] = v, enc
			auDo(t, inst, "PUT", path, req, "")
			a := auAttr{v, enc, now, now, expires(domain.Never)}
			if live {
				a.created, a.expire = cur.created, expires(cur.expire)
			}
			m.write("set", name, a, now)
		case op < 5: // PUT of two attributes in one event
			other := auNames[(slices.Index(auNames, name)+1)%len(auNames)]
			v1, _ := value()
			v2, _ := value()
			delete(req, "name")
			req["data"] = []any{map[string]any{"name": name, "value": v1}, map[string]any{"name": other, "value": v2}}
			auDo(t, inst, "PUT", path, req, "")
			for _, w := range []struct {
				name string
				v    any
			}{{name, v1}, {other, v2}} {
				a := auAttr{w.v, false, now, now, expires(domain.Never)}
				if c, ok := m.live(w.name, now); ok {
					a.created, a.expire = c.created, expires(c.expire)
				}
				m.write("set", w.name, a, now)
			}
		case op < 7: // PATCH
			a := cur
			if rng.IntN(2) == 0 {
				v, enc := value()
				req["value"], req["encrypt"] = v, enc
				a.value, a.enc = v, enc
			}
			if !live {
				auDo(t, inst, "PATCH", path, req, "E009002")
				continue
			}
			auDo(t, inst, "PATCH", path, req, "")
			a.modified, a.expire = now, expires(cur.expire)
			m.write("updated", name, a, now)
		case op < 9: // DELETE
			auDo(t, inst, "DELETE", path, auReq(ust, "name", name), "")
			if live {
				m.drop("deleted", []string{name}, now)
			}
		default: // an expiry round
			if _, err := inst.SSO.Expire(t.Context(), inst.View); err != nil {
				t.Fatalf("%s: Expire: %v", what, err)
			}
			var gone []string
			for n, a := range m.stored {
				if !a.expire.After(now) {
					gone = append(gone, n)
				}
			}
			slices.Sort(gone)
			m.drop("expired", gone, now)
		}
		m.snapshot(now)
	}
}

// auCheckAt checks names, exists and get (many mode) as_of at against want.
func auCheckAt(t *testing.T, inst *nodetest.Instance, path string, body func(...any) map[string]any, at time.Time, want map[string]auAttr) {
	t.Helper()
	asOf := domain.FormatTime(at)
	wantNames := slices.Sorted(maps.Keys(want))
	r := auDo(t, inst, "GET", path+"/names", body("as_of", asOf), "")
	if got := saStrings(r.Body["result"]); !slices.Equal(got, wantNames) {
		t.Fatalf("names as_of %s = %v, want %v", asOf, got, wantNames)
	}
	data := []any{}
	for _, n := range auNames {
		data = append(data, n)
	}
	r = auDo(t, inst, "GET", path+"/exists", body("as_of", asOf, "data", data), "")
	exists, _ := r.Body["result"].(map[string]any)
	r = auDo(t, inst, "GET", path, body("as_of", asOf, "data", data), "")
	got, _ := r.Body["result"].(map[string]any)
	for _, n := range auNames {
		w, ok := want[n]
		if exists[n] != ok {
			t.Fatalf("exists %s as_of %s = %v, want %v", n, asOf, exists[n], ok)
		}
		g, _ := got[n].(map[string]any)
		if !ok {
			if got[n] != nil {
				t.Fatalf("get %s as_of %s = %v, want null", n, asOf, got[n])
			}
			continue
		}
		if g == nil || !reflect.DeepEqual(g["value"], w.value) || g["is_encrypted"] != w.enc ||
			g["creation_time"] != domain.FormatTime(w.created) || g["last_modified"] != domain.FormatTime(w.modified) ||
			g["expiration_time"] != domain.FormatTime(w.expire) {
			t.Fatalf("get %s as_of %s = %v, want %+v", n, asOf, got[n], w)
		}
		if w.enc {
			r := auDo(t, inst, "GET", path, body("as_of", asOf, "name", n, "decrypt", false), "")
			if v, _ := r.Body["value"].(string); !strings.HasPrefix(v, "gAAAAA") {
				t.Fatalf("get %s as_of %s without decrypt = %s, want ciphertext", n, asOf, r.Raw)
			}
		}
	}
}

// auCheckHistory compares a history with the changes the model expects.
func auCheckHistory(t *testing.T, got []map[string]any, want []auChange) {
	t.Helper()
	for i := range max(len(got), len(want)) {
		if i >= len(got) || i >= len(want) {
			t.Fatalf("history has %d changes, the model %d; first difference at %d", len(got), len(want), i)
		}
		g, w := got[i], want[i]
		ok := g["type"] == w.typ && g["name"] == w.name && g["time"] == domain.FormatTime(w.at)
		if a := w.attr; ok && a != nil {
			ok = reflect.DeepEqual(g["value"], a.value) && g["is_encrypted"] == a.enc &&
				g["expiration_time"] == domain.FormatTime(a.expire)
		} else if ok {
			_, hasValue := g["value"]
			ok = !hasValue
		}
		if !ok {
			t.Fatalf("history change %d = %v, model: %s %s at %s %+v", i, g, w.typ, w.name, domain.FormatTime(w.at), w.attr)
		}
	}
}

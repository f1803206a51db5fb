package domain_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ssoattr/ssoattr/domain"
)

var (
	t0 = time.Date(2031, 5, 4, 9, 0, 0, 0, time.UTC)
	t1 = t0.Add(time.Hour)
)

func ptr[T any](v T) *T { return &v }

// stored returns a lookup over attrs, as a view snapshot would.
func stored(attrs ...domain.Attr) domain.AttrLookup {
	m := make(map[string]domain.Attr, len(attrs))
	for _, a := range attrs {
		m[a.Name] = a
	}
	return func(n string) (domain.Attr, bool) { a, ok := m[n]; return a, ok }
}

// live is an attribute created at t0 that never expires.
func live(name, value string) domain.Attr {
	return domain.Attr{Name: name, Value: json.RawMessage(value), Created: t0, Modified: t0, Expires: domain.Never}
}

// expired is an attribute that expired before t1 but was not swept.
func expired(name, value string) domain.Attr {
	a := live(name, value)
	a.Expires = t1.Add(-time.Second)
	return a
}

func write(name, value string) domain.AttrWrite {
	w := domain.AttrWrite{Name: name}
	if value != "" {
		w.Value = json.RawMessage(value)
	}
	return w
}

func TestAttrTx_Decisions(t *testing.T) {
	tests := []struct {
		name    string
		have    []domain.Attr
		op      domain.AttrOp
		w       domain.AttrWrite
		wantErr error
		want    domain.Attr // checked when wantErr is nil
	}{
		{name: "create new", op: domain.OpCreate, w: write("a", `"v"`),
			want: domain.Attr{Name: "a", Value: json.RawMessage(`"v"`), Created: t1, Modified: t1, Expires: domain.Never}},
		{name: "create with expiration", op: domain.OpCreate,
			w:    domain.AttrWrite{Name: "a", Value: json.RawMessage(`1`), Expiration: ptr[int64](60)},
			want: domain.Attr{Name: "a", Value: json.RawMessage(`1`), Created: t1, Modified: t1, Expires: t1.Add(time.Minute)}},
		{name: "create with expiration 0 is never", op: domain.OpCreate,
			w:    domain.AttrWrite{Name: "a", Value: json.RawMessage(`1`), Expiration: ptr[int64](0)},
			want: domain.Attr{Name: "a", Value: json.RawMessage(`1`), Created: t1, Modified: t1, Expires: domain.Never}},
		{name: "create encrypted", op: domain.OpCreate,
			w:    domain.AttrWrite{Name: "a", Value: json.RawMessage(`"gAAAAAx"`), Encrypt: true},
			want: domain.Attr{Name: "a", Value: json.RawMessage(`"gAAAAAx"`), Encrypted: true, Created: t1, Modified: t1, Expires: domain.Never}},
		{name: "create on live name", have: []domain.Attr{live("a", `"old"`)}, op: domain.OpCreate,
			w: write("a", `"v"`), wantErr: domain.ErrAttrExists},
		{name: "create on expired name replaces it (API.md#d7)", have: []domain.Attr{expired("a", `"old"`)}, op: domain.OpCreate,
			w:    write("a", `"v"`),
			want: domain.Attr{Name: "a", Value: json.RawMessage(`"v"`), Created: t1, Modified: t1, Expires: domain.Never}},
		{name: "create without value (API.md#d5)", op: domain.OpCreate, w: write("a", ""), wantErr: domain.ErrInvalidInput},
		{name: "set without value (API.md#d5)", have: []domain.Attr{live("a", `"old"`)}, op: domain.OpSet,
			w: write("a", ""), wantErr: domain.ErrInvalidInput},
		{name: "set new", op: domain.OpSet, w: write("a", `"v"`),
			want: domain.Attr{Name: "a", Value: json.RawMessage(`"v"`), Created: t1, Modified: t1, Expires: domain.Never}},
		{name: "set on expired name creates afresh (API.md#d7)", have: []domain.Attr{expired("a", `"old"`)}, op: domain.OpSet,
			w:    write("a", `"v"`),
			want: domain.Attr{Name: "a", Value: json.RawMessage(`"v"`), Created: t1, Modified: t1, Expires: domain.Never}},
		{name: "set on live keeps creation time and expiry",
			have: []domain.Attr{{Name: "a", Value: json.RawMessage(`"old"`), Created: t0, Modified: t0, Expires: t1.Add(time.Hour)}},
			op:   domain.OpSet, w: write("a", `"v"`),
			want: domain.Attr{Name: "a", Value: json.RawMessage(`"v"`), Created: t0, Modified: t1, Expires: t1.Add(time.Hour)}},
		{name: "set plain over encrypted rewrites is_encrypted (API.md#d6)",
			have: []domain.Attr{{Name: "a", Value: json.RawMessage(`"gAAAAAx"`), Encrypted: true, Created: t0, Modified: t0, Expires: domain.Never}},
			op:   domain.OpSet, w: write("a", `"plain"`),
			want: domain.Attr{Name: "a", Value: json.RawMessage(`"plain"`), Created: t0, Modified: t1, Expires: domain.Never}},
		{name: "update missing (API.md#d3)", op: domain.OpUpdate, w: write("a", `"v"`), wantErr: domain.ErrNoSuchAttr},
		{name: "update expired (API.md#d3, API.md#d7)", have: []domain.Attr{expired("a", `"old"`)}, op: domain.OpUpdate,
			w: write("a", `"v"`), wantErr: domain.ErrNoSuchAttr},
		{name: "update without value keeps value and is_encrypted (API.md#d4)",
			have: []domain.Attr{{Name: "a", Value: json.RawMessage(`"gAAAAAx"`), Encrypted: true, Created: t0, Modified: t0, Expires: domain.Never}},
			op:   domain.OpUpdate, w: domain.AttrWrite{Name: "a", Encrypt: false, Expiration: ptr[int64](60)},
			want: domain.Attr{Name: "a", Value: json.RawMessage(`"gAAAAAx"`), Encrypted: true, Created: t0, Modified: t1, Expires: t1.Add(time.Minute)}},
		{name: "update with empty string stores it (API.md#d4)", have: []domain.Attr{live("a", `"old"`)}, op: domain.OpUpdate,
			w:    write("a", `""`),
			want: domain.Attr{Name: "a", Value: json.RawMessage(`""`), Created: t0, Modified: t1, Expires: domain.Never}},
		{name: "update touch only changes last_modified", have: []domain.Attr{live("a", `"old"`)}, op: domain.OpUpdate,
			w:    write("a", ""),
			want: domain.Attr{Name: "a", Value: json.RawMessage(`"old"`), Created: t0, Modified: t1, Expires: domain.Never}},
		{name: "update expiration 0 resets to never (API.md#d10)",
			have: []domain.Attr{{Name: "a", Value: json.RawMessage(`1`), Created: t0, Modified: t0, Expires: t1.Add(time.Hour)}},
			op:   domain.OpUpdate, w: domain.AttrWrite{Name: "a", Expiration: ptr[int64](0)},
			want: domain.Attr{Name: "a", Value: json.RawMessage(`1`), Created: t0, Modified: t1, Expires: domain.Never}},
		{name: "update encrypts a plain value (API.md#d6)", have: []domain.Attr{live("a", `"old"`)}, op: domain.OpUpdate,
			w:    domain.AttrWrite{Name: "a", Value: json.RawMessage(`"gAAAAAx"`), Encrypt: true},
			want: domain.Attr{Name: "a", Value: json.RawMessage(`"gAAAAAx"`), Encrypted: true, Created: t0, Modified: t1, Expires: domain.Never}},
		{name: "empty name", op: domain.OpSet, w: write("", `1`), wantErr: domain.ErrInvalidInput},
		{name: "name too long", op: domain.OpSet, w: write(strings.Repeat("é", 192), `1`), wantErr: domain.ErrInvalidInput},
		{name: "name of 191 characters", op: domain.OpSet, w: write(strings.Repeat("é", 191), `1`),
			want: domain.Attr{Name: strings.Repeat("é", 191), Value: json.RawMessage(`1`), Created: t1, Modified: t1, Expires: domain.Never}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tx := domain.NewAttrTx(t1, stored(tt.have...))
			err := tx.Apply(tt.op, tt.w)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("Apply = %v, want %v", err, tt.wantErr)
			}
			res := tx.Result()
			if tt.wantErr != nil {
				if len(res) != 0 {
					t.Fatalf("Result after a failed Apply = %+v, want nothing", res)
				}
				return
			}
			if len(res) != 1 {
				t.Fatalf("Result = %+v, want one attribute", res)
			}
			assertAttr(t, res[0], tt.want)
		})
	}
}

func assertAttr(t *testing.T, got, want domain.Attr) {
	t.Helper()
	if got.Name != want.Name || string(got.Value) != string(want.Value) || got.Encrypted != want.Encrypted ||
		!got.Created.Equal(want.Created) || !got.Modified.Equal(want.Modified) || !got.Expires.Equal(want.Expires) {
		t.Fatalf("attribute = %+v (value %s)\nwant        %+v (value %s)", got, got.Value, want, want.Value)
	}
}

func TestAttrTx_ItemsSeeEarlierItems(t *testing.T) {
	t.Run("create twice in one list is E009001", func(t *testing.T) {
		tx := domain.NewAttrTx(t1, stored())
		if err := tx.Apply(domain.OpCreate, write("a", `1`)); err != nil {
			t.Fatalf("first create: %v", err)
		}
		if err := tx.Apply(domain.OpCreate, write("a", `2`)); !errors.Is(err, domain.ErrAttrExists) {
			t.Fatalf("second create = %v, want ErrAttrExists", err)
		}
	})
	t.Run("update after create in one list", func(t *testing.T) {
		tx := domain.NewAttrTx(t1, stored())
		if err := tx.Apply(domain.OpSet, write("a", `1`)); err != nil {
			t.Fatalf("set: %v", err)
		}
		if err := tx.Apply(domain.OpUpdate, domain.AttrWrite{Name: "a", Expiration: ptr[int64](10)}); err != nil {
			t.Fatalf("update of a name set earlier in the list: %v", err)
		}
		res := tx.Result()
		if len(res) != 2 || string(res[1].Value) != "1" || !res[1].Expires.Equal(t1.Add(10*time.Second)) {
			t.Fatalf("Result = %+v, want the set then the update with value 1", res)
		}
	})
	t.Run("set twice: the last occurrence wins", func(t *testing.T) {
		tx := domain.NewAttrTx(t1, stored(live("a", `0`)))
		for _, v := range []string{`1`, `2`} {
			if err := tx.Apply(domain.OpSet, write("a", v)); err != nil {
				t.Fatalf("set %s: %v", v, err)
			}
		}
		res := tx.Result()
		if len(res) != 2 || string(res[len(res)-1].Value) != "2" || !res[1].Created.Equal(t0) {
			t.Fatalf("Result = %+v, want last value 2 keeping creation time t0", res)
		}
	})
}

// A long list (past the size where the transaction starts indexing its
// items) still sees each name's latest write, whether it came before or
// after the switch.
func TestAttrTx_LongListSeesLatestWrite(t *testing.T) {
	have := []domain.Attr{live("s0", `0`), live("s1", `0`)}
	tx := domain.NewAttrTx(t1, stored(have...))
	for i := range 30 {
		name := fmt.Sprintf("n%d", i%12) // n0..n11 twice, n0..n5 three times
		if err := tx.Apply(domain.OpSet, write(name, strconv.Itoa(i))); err != nil {
			t.Fatalf("set %s: %v", name, err)
		}
	}
	if err := tx.Apply(domain.OpCreate, write("n3", `1`)); !errors.Is(err, domain.ErrAttrExists) {
		t.Fatalf("create of n3, written by items 3, 15 and 27: %v, want ErrAttrExists", err)
	}
	if err := tx.Apply(domain.OpUpdate, domain.AttrWrite{Name: "n7", Expiration: ptr[int64](5)}); err != nil {
		t.Fatalf("update of n7: %v", err)
	}
	if err := tx.Apply(domain.OpUpdate, domain.AttrWrite{Name: "s1", Expiration: ptr[int64](5)}); err != nil {
		t.Fatalf("update of stored s1: %v", err)
	}
	res := tx.Result()
	if got := res[len(res)-2]; got.Name != "n7" || string(got.Value) != "19" {
		t.Fatalf("update of n7 = %+v, want the value of its last write, 19", got)
	}
	if got := res[len(res)-1]; got.Name != "s1" || string(got.Value) != "0" || !got.Created.Equal(t0) {
		t.Fatalf("update of s1 = %+v, want the stored value and creation time", got)
	}
}

func TestLookupIn(t *testing.T) {
	for _, n := range []int{0, 1, 8, 9, 50} {
		var attrs []domain.Attr
		for i := range n {
			attrs = append(attrs, live(fmt.Sprintf("a%d", i), strconv.Itoa(i)))
		}
		look := domain.LookupIn(attrs)
		for i := range n {
			if a, ok := look(fmt.Sprintf("a%d", i)); !ok || string(a.Value) != strconv.Itoa(i) {
				t.Fatalf("%d attributes: a%d = %+v, %v", n, i, a, ok)
			}
		}
		if _, ok := look("missing"); ok {
			t.Fatalf("%d attributes: found a name that is not there", n)
		}
	}
}

func TestAttrTx_TruncatesNow(t *testing.T) {
	now := t1.Add(1234567 * time.Nanosecond)
	tx := domain.NewAttrTx(now, stored())
	if err := tx.Apply(domain.OpCreate, write("a", `1`)); err != nil {
		t.Fatal(err)
	}
	want := t1.Add(1234 * time.Microsecond)
	if got := tx.Result()[0].Created; !got.Equal(want) {
		t.Fatalf("Created = %v, want %v (microseconds)", got, want)
	}
}

func TestAttr_Live(t *testing.T) {
	a := domain.Attr{Expires: t1}
	if !a.Live(t1.Add(-time.Microsecond)) {
		t.Error("Live just before expiration_time = false, want true")
	}
	if a.Live(t1) {
		t.Error("Live at expiration_time = true, want false (docs/API.md#attribute-operations: expiration_time > now)")
	}
}

func TestLiveNames(t *testing.T) {
	lookup := stored(live("a", `1`), expired("b", `2`), live("c", `3`))
	got := domain.LiveNames(t1, lookup, []string{"c", "b", "missing", "a", "c"})
	want := []string{"c", "a"}
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Fatalf("LiveNames = %q, want %q", got, want)
	}
}

func TestValidName(t *testing.T) {
	tests := []struct {
		name string
		want bool
	}{
		{"", false},
		{"a", true},
		{"ui.theme", true},
		{"with space", true},
		{"wild*card>", true},
		{"名前", true},
		{strings.Repeat("x", 191), true},
		{strings.Repeat("x", 192), false},
		{strings.Repeat("名", 191), true},
		{"\xff\xfe", false},
	}
	for _, tt := range tests {
		if got := domain.ValidName(tt.name); got != tt.want {
			t.Errorf("ValidName(%q) = %v, want %v", tt.name, got, tt.want)
		}
	}
}

func TestAttrOp_Kind(t *testing.T) {
	for op, want := range map[domain.AttrOp]string{
		domain.OpCreate: domain.KindAttrCreated, domain.OpSet: domain.KindAttrSet, domain.OpUpdate: domain.KindAttrUpdated,
	} {
		if got := op.Kind(); got != want {
			t.Errorf("AttrOp(%d).Kind() = %q, want %q", op, got, want)
		}
	}
}

func TestAttrWrite_Check(t *testing.T) {
	v := json.RawMessage(`"v"`)
	deep := json.RawMessage(strings.Repeat("[", domain.MaxValueDepth+1) + strings.Repeat("]", domain.MaxValueDepth+1))
	for _, c := range []struct {
		what string
		op   domain.AttrOp
		w    domain.AttrWrite
		ok   bool
	}{
		{"a string", domain.OpSet, domain.AttrWrite{Name: "a", Value: v}, true},
		{"encrypt a string", domain.OpCreate, domain.AttrWrite{Name: "a", Value: v, Encrypt: true}, true},
		{"encrypt a number", domain.OpSet, domain.AttrWrite{Name: "a", Value: json.RawMessage(`1`), Encrypt: true}, false},
		{"encrypt an object", domain.OpUpdate, domain.AttrWrite{Name: "a", Value: json.RawMessage(`{"k":"v"}`), Encrypt: true}, false},
		{"update without a value", domain.OpUpdate, domain.AttrWrite{Name: "a"}, true},
		{"update without a value, encrypt", domain.OpUpdate, domain.AttrWrite{Name: "a", Encrypt: true}, true},
		{"create without a value", domain.OpCreate, domain.AttrWrite{Name: "a"}, false},
		{"set without a value", domain.OpSet, domain.AttrWrite{Name: "a"}, false},
		{"empty name", domain.OpSet, domain.AttrWrite{Value: v}, false},
		{"name of 191 characters", domain.OpSet, domain.AttrWrite{Name: strings.Repeat("é", domain.MaxNameLen), Value: v}, true},
		{"name of 192 characters", domain.OpSet, domain.AttrWrite{Name: strings.Repeat("é", domain.MaxNameLen+1), Value: v}, false},
		{"value too deep", domain.OpSet, domain.AttrWrite{Name: "a", Value: deep}, false},
		{"expiration 0 (never)", domain.OpSet, domain.AttrWrite{Name: "a", Value: v, Expiration: new(int64(0))}, true},
		{"expiration in a year", domain.OpCreate, domain.AttrWrite{Name: "a", Value: v, Expiration: new(int64(365 * 24 * 3600))}, true},
		{"negative expiration", domain.OpSet, domain.AttrWrite{Name: "a", Value: v, Expiration: new(int64(-1))}, false},
		{"update of the expiration alone, negative", domain.OpUpdate, domain.AttrWrite{Name: "a", Expiration: new(int64(-1))}, false},
	} {
		err := c.w.Check(c.op)
		if c.ok != (err == nil) || err != nil && !errors.Is(err, domain.ErrInvalidInput) {
			t.Errorf("%s: Check = %v, want ok %v (or ErrInvalidInput)", c.what, err, c.ok)
		}
	}
}

func TestCheckExpiration(t *testing.T) {
	for _, c := range []struct {
		seconds *int64
		ok      bool
	}{
		{nil, true}, {new(int64(0)), true}, {new(int64(1)), true}, {new(int64(math.MaxInt64)), true},
		{new(int64(-1)), false}, {new(int64(math.MinInt64)), false},
	} {
		err := domain.CheckExpiration(c.seconds)
		if c.ok != (err == nil) || err != nil && !errors.Is(err, domain.ErrInvalidInput) {
			what := "nil"
			if c.seconds != nil {
				what = fmt.Sprint(*c.seconds)
			}
			t.Errorf("CheckExpiration(%s) = %v, want ok %v (or ErrInvalidInput)", what, err, c.ok)
		}
	}
}

func TestCheckNames(t *testing.T) {
	many := make([]string, domain.MaxItems+1)
	for i := range many {
		many[i] = "n"
	}
	for _, c := range []struct {
		what  string
		names []string
		ok    bool
	}{
		{"one", []string{"a"}, true},
		{"the most", many[:domain.MaxItems], true},
		{"none", nil, false},
		{"too many", many, false},
		{"an empty name", []string{"a", ""}, false},
		{"invalid UTF-8", []string{"\xff"}, false},
	} {
		if err := domain.CheckNames(c.names, domain.MaxItems); c.ok != (err == nil) {
			t.Errorf("%s: CheckNames = %v, want ok %v", c.what, err, c.ok)
		}
	}
}

// TestLiveAt checks the one liveness rule on both of its forms: visible
// while expiration_time > now, to the microsecond, so that the view (on
// microseconds) and a decision (on times) always agree.
func TestLiveAt(t *testing.T) {
	exp := time.Date(2031, 5, 4, 9, 10, 11, 123456000, time.UTC)
	for _, c := range []struct {
		what string
		now  time.Time
		live bool
	}{
		{"a microsecond before", exp.Add(-time.Microsecond), true},
		{"a nanosecond before", exp.Add(-time.Nanosecond), true},
		{"at expiry", exp, false},
		{"a nanosecond after", exp.Add(time.Nanosecond), false},
		{"long after", exp.Add(time.Hour), false},
	} {
		a := domain.Attr{Name: "a", Expires: exp}
		if got := a.Live(c.now); got != c.live {
			t.Errorf("%s: Attr.Live = %v, want %v", c.what, got, c.live)
		}
		if got := domain.LiveAt(exp.UnixMicro(), domain.Truncate(c.now).UnixMicro()); got != c.live {
			t.Errorf("%s: LiveAt = %v, want %v", c.what, got, c.live)
		}
	}
	if a := (domain.Attr{Expires: domain.Never}); !a.Live(time.Date(9999, 12, 30, 0, 0, 0, 0, time.UTC)) {
		t.Error("an attribute that never expires is not live the day before Never")
	}
}

package domain_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/ssoattr/ssoattr/domain"
)

func TestValueDepth(t *testing.T) {
	tests := []struct {
		v    string
		want int
	}{
		{`1`, 0},
		{`"[{"`, 0},
		{`"\"[{"`, 0},
		{`[]`, 1},
		{`{"a":[1,{"b":"]}"}],"c":[[]]}`, 3},
		{`["\\",[["\"]"]]]`, 3},
		{strings.Repeat("[", domain.MaxValueDepth) + strings.Repeat("]", domain.MaxValueDepth), domain.MaxValueDepth},
	}
	for _, tt := range tests {
		if got := domain.ValueDepth([]byte(tt.v)); got != tt.want {
			t.Errorf("ValueDepth(%.40q) = %d, want %d", tt.v, got, tt.want)
		}
	}
	deep := strings.Repeat("[", domain.MaxValueDepth+1) + strings.Repeat("]", domain.MaxValueDepth+1)
	if domain.ValidValue([]byte(deep)) {
		t.Fatalf("ValidValue accepted a value nested %d deep", domain.MaxValueDepth+1)
	}
}

// An item whose value nests deeper than MaxValueDepth is invalid input, in
// every write operation.
func TestAttrTx_RefusesTooDeepValue(t *testing.T) {
	deep := []byte(strings.Repeat("[", domain.MaxValueDepth+1) + strings.Repeat("]", domain.MaxValueDepth+1))
	for _, op := range []domain.AttrOp{domain.OpCreate, domain.OpSet} {
		tx := domain.NewAttrTx(time.Now(), domain.LookupIn(nil))
		if err := tx.Apply(op, domain.AttrWrite{Name: "a", Value: deep}); !errors.Is(err, domain.ErrInvalidInput) {
			t.Errorf("%v of a value nested %d deep: %v, want ErrInvalidInput", op, domain.MaxValueDepth+1, err)
		}
	}
}

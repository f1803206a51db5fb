package domain_test

import (
	"errors"
	"math"
	"strings"
	"testing"

	"github.com/ssoattr/ssoattr/domain"
)

func TestHistoryLimit(t *testing.T) {
	for _, tt := range []struct {
		limit int64
		want  int
	}{
		{math.MinInt64, domain.DefaultHistoryLimit},
		{-1, domain.DefaultHistoryLimit},
		{0, domain.DefaultHistoryLimit},
		{1, 1},
		{domain.MaxHistoryLimit, domain.MaxHistoryLimit},
		{domain.MaxHistoryLimit + 1, domain.MaxHistoryLimit},
		{math.MaxInt64, domain.MaxHistoryLimit},
	} {
		if got := domain.HistoryLimit(tt.limit); got != tt.want {
			t.Errorf("HistoryLimit(%d) = %d, want %d", tt.limit, got, tt.want)
		}
	}
}

func TestCheckHistoryName(t *testing.T) {
	for _, tt := range []struct {
		what string
		name *string
		want error
	}{
		{"not sent: every name", nil, nil},
		{"a name", new("ui.theme"), nil},
		{"the longest name", new(strings.Repeat("é", domain.MaxNameLen)), nil},
		{"empty", new(""), domain.ErrInvalidInput},
		{"too long", new(strings.Repeat("n", domain.MaxNameLen+1)), domain.ErrInvalidInput},
		{"not UTF-8", new("a\xff"), domain.ErrInvalidInput},
	} {
		if err := domain.CheckHistoryName(tt.name); !errors.Is(err, tt.want) || (err == nil) != (tt.want == nil) {
			t.Errorf("CheckHistoryName(%s) = %v, want %v", tt.what, err, tt.want)
		}
	}
}

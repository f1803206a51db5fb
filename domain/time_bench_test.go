package domain_test

import (
	"testing"
	"time"

	"github.com/ssoattr/ssoattr/domain"
)

var sink string

// BenchmarkFormatTime writes a time with microseconds, as an answer's
// creation_time.
func BenchmarkFormatTime(b *testing.B) {
	t := time.Date(2026, 5, 1, 12, 0, 0, 123456000, time.UTC)
	b.ReportAllocs()
	for b.Loop() {
		sink = domain.FormatTime(t)
	}
}

// BenchmarkAppendTime appends the same time to a buffer, as a reply does.
func BenchmarkAppendTime(b *testing.B) {
	t := time.Date(2026, 5, 1, 12, 0, 0, 123456000, time.UTC)
	buf := make([]byte, 0, 64)
	b.ReportAllocs()
	for b.Loop() {
		buf = domain.AppendTime(buf[:0], t)
	}
}

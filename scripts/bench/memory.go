package main

import (
	"encoding/json"
	"fmt"
	"runtime"
	"time"

	"github.com/ssoattr/ssoattr/domain"
	"github.com/ssoattr/ssoattr/projections"
)

// memoryResult is the view's heap cost of live attributes.
type memoryResult struct {
	Attrs        int     `json:"attrs"`
	Users        int     `json:"users"`
	AttrsPerUser int     `json:"attrs_per_user"`
	HeapBytes    uint64  `json:"heap_bytes"`
	BytesPerAttr float64 `json:"bytes_per_attr"`
}

func gc() { runtime.GC(); runtime.GC() }

func heapAlloc() uint64 {
	gc()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}

// heapPerAttr measures what live attributes cost the view: the users are
// applied first, then the heap in use is read after a full GC; then
// perUser attributes per user (16-byte names, 32-byte string values) are
// applied with View.Apply, one attr.set event each, round after round over
// the users as real traffic would interleave them; then the heap is read
// again. The events are made one at a time and dropped after Apply, so the
// difference is what the view keeps: maps, keys, values. Nothing else runs
// meanwhile (the servers are stopped by then).
func heapPerAttr(users, perUser int) memoryResult {
	v := projections.NewView(time.Now)
	ids := make([]string, users)
	seq := uint64(0)
	now := domain.Truncate(time.Now())
	for i := range ids {
		ids[i] = domain.NewUserID()
		seq++
		v.Apply(domain.Event{Kind: domain.KindUserCreated, Owner: domain.UserOwner(ids[i]),
			Data: domain.EventData{User: &domain.User{ID: ids[i], Username: fmt.Sprintf("mem-user-%07d", i)}}}, seq)
	}
	val := json.RawMessage(value32)
	before := heapAlloc()
	for round := range perUser {
		for _, id := range ids {
			seq++
			v.Apply(domain.Event{Kind: domain.KindAttrSet, Owner: domain.UserAttrsOwner(id),
				Data: domain.EventData{Attrs: []domain.Attr{{
					Name:  fmt.Sprintf("bench-attr-%05d", round), // a fresh 16-byte string, as decoding makes
					Value: val, Created: now, Modified: now, Expires: domain.Never,
				}}}}, seq)
		}
	}
	after := heapAlloc()
	n := v.Len()
	runtime.KeepAlive(v)
	runtime.KeepAlive(ids)
	r := memoryResult{Attrs: n, Users: users, AttrsPerUser: perUser}
	if after > before {
		r.HeapBytes = after - before
	}
	r.BytesPerAttr = float64(r.HeapBytes) / float64(max(n, 1))
	return r
}

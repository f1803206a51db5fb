// Package projections builds the current state of users, sessions and
// attributes from the event stream and answers reads from memory.
//
// The View has one writer, the follower, which applies events in stream
// order; readers take a read lock. Every owner keeps the stream sequence of
// its last event, which is the version a writer must expect when it appends
// the next one. Expired attributes and sessions are never returned, whether
// or not a sweep has freed them yet.
package projections

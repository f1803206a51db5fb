// Package sso carries out the SSO operations of docs/API.md: authentication,
// users, sessions and attributes. It reads the current state from a View,
// decides with package domain which events follow, and appends them through
// a Store, expecting each owner's last sequence. When another writer got
// there first it waits for the view to catch up and decides again, a
// bounded number of times.
//
// It is shared by the HTTP API and the admin commands that arrive over NATS.
package sso

// Package domain holds ssoattr's business types and rules: users, sessions,
// attributes, the events that change them, and the decisions that turn a
// command into an event. It imports only the standard library; time arrives
// as a value, identifiers are strings, and nothing here does I/O.
package domain

package domain

import "time"

// MaxHistory is how many interaction-history entries a session keeps (docs/API.md#interaction-history).
const MaxHistory = 100

// Session is a logged-in session (docs/API.md#sessions). ID is the internal "zust" id;
// clients only ever see it sealed in a UST.
type Session struct {
	ID            string         `json:"session_id"`
	UserID        string         `json:"user_id"`
	Created       time.Time      `json:"creation_time"`
	Expires       time.Time      `json:"expiration_time"`
	RemoteAddr    string         `json:"remote_addr"`
	UserAgent     string         `json:"user_agent"`
	AuthType      string         `json:"auth_type"`
	AuthPrincipal string         `json:"auth_principal"`
	ExtSessionID  *string        `json:"ext_session_id,omitempty"`
	History       []HistoryEntry `json:"history,omitempty"`
}

// HistoryEntry is one interaction of a session (docs/API.md#interaction-history).
type HistoryEntry struct {
	RemoteAddr string    `json:"remote_addr"`
	UserAgent  string    `json:"user_agent"`
	Timestamp  time.Time `json:"timestamp_utc"`
	Source     string    `json:"ctx_source"` // "login" or "renew"
	Idx        int       `json:"idx"`
}

// Live reports whether the session is valid at now (docs/API.md#sessions: now < expiration_time).
func (s *Session) Live(now time.Time) bool { return now.Before(s.Expires) }

// AddHistory appends an entry, numbering it after the last one and keeping at
// most MaxHistory entries.
func (s *Session) AddHistory(e HistoryEntry) {
	e.Idx = 1
	if n := len(s.History); n > 0 {
		e.Idx = s.History[n-1].Idx + 1
	}
	s.History = append(s.History, e)
	if len(s.History) > MaxHistory {
		s.History = append([]HistoryEntry(nil), s.History[len(s.History)-MaxHistory:]...)
	}
}

package faults

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"
)

// Answer is what a client saw for one request.
type Answer struct {
	Status int    // 0: no answer (transport error)
	Code   string // "ok", or the first sub_status code
	Found  bool   // a read's "found"
	Err    error  // transport error
}

// failed reports a definite failure: the answer says the write was not
// stored and never will be (docs/API.md#error-codes). A 503 E008006, a 500
// or no answer at all leaves the outcome unknown.
func (a Answer) failed() bool {
	return a.Status == http.StatusServiceUnavailable && a.Code == "E008005" || a.Status/100 == 4
}

func (a Answer) String() string {
	if a.Err != nil {
		return "no answer"
	}
	return fmt.Sprintf("%d %s", a.Status, a.Code)
}

// Write is one attribute write and its answer. Every write sets an
// attribute name of its own, so the stream must hold it once if it was
// acknowledged, never if it definitely failed.
type Write struct {
	User       string // the owner's user id
	Name       string
	Start, End time.Time
	Answer
}

// Read is one read of an attribute whose write was acknowledged before the
// read began: a strict read must find it.
type Read struct {
	Name       string
	Start, End time.Time
	Answer
}

// Recorder keeps every answer of a load.
type Recorder struct {
	mu     sync.Mutex
	writes []Write
	reads  []Read
	acked  []Write // acknowledged writes, for the readers
}

func (r *Recorder) write(w Write) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.writes = append(r.writes, w)
	if w.Status == 200 && w.Code == "ok" {
		r.acked = append(r.acked, w)
	}
}

func (r *Recorder) read(rd Read) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.reads = append(r.reads, rd)
}

// FirstAckAfter returns how long after t the first write sent after t
// was acknowledged, or -1 if none was.
func (r *Recorder) FirstAckAfter(t time.Time) time.Duration {
	r.mu.Lock()
	defer r.mu.Unlock()
	first := time.Duration(-1)
	for _, w := range r.writes {
		if w.Status == 200 && w.Code == "ok" && !w.Start.Before(t) {
			if d := w.End.Sub(t); first < 0 || d < first {
				first = d
			}
		}
	}
	return first
}

// AnswerlessSince lists the requests in flight at t or sent within window
// after it that got no answer at all (a reset, an EOF), other than those
// refused a connection: a server that drains must answer every request it
// received.
func (r *Recorder) AnswerlessSince(t time.Time, window time.Duration) []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []string
	note := func(name string, start, end time.Time, a Answer) {
		if a.Err != nil && end.After(t) && start.Before(t.Add(window)) && !strings.Contains(a.Err.Error(), "connection refused") {
			out = append(out, name+": "+a.Err.Error())
		}
	}
	for _, w := range r.writes {
		note(w.Name, w.Start, w.End, w.Answer)
	}
	for _, rd := range r.reads {
		note(rd.Name, rd.Start, rd.End, rd.Answer)
	}
	return out
}

// someAcked returns a random acknowledged write, if any.
func (r *Recorder) someAcked() (Write, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.acked) == 0 {
		return Write{}, false
	}
	return r.acked[rand.N(len(r.acked))], true
}

// Client is a load client of one user on the service's HTTP listeners.
type Client struct {
	HTTP  *http.Client
	URLs  []string // one per instance: http://host:port
	UST   string
	User  string // the user's id
	Label string // makes the attribute names unique to this client
}

// Load runs writers and readers through every URL until ctx ends or each
// writer has sent max writes, recording every answer. Each writer waits
// pause between writes.
func Load(ctx context.Context, rec *Recorder, clients []Client, readers int, max int, pause time.Duration) {
	var wg sync.WaitGroup
	for ci, c := range clients {
		for ui, url := range c.URLs {
			wg.Go(func() {
				for n := 0; n < max && ctx.Err() == nil; n++ {
					name := fmt.Sprintf("%s-u%d-%d", c.Label, ui, n)
					w := Write{User: c.User, Name: name, Start: time.Now()}
					w.Answer = c.call(ctx, url, "PUT", map[string]any{"name": name, "value": n})
					w.End = time.Now()
					if ctx.Err() != nil && w.Err != nil {
						return // cut off by the end of the load, not by a fault
					}
					rec.write(w)
					sleep(ctx, pause)
				}
			})
		}
		for i := range readers {
			wg.Go(func() {
				for ctx.Err() == nil {
					w, ok := rec.someAcked()
					if !ok || w.User != c.User {
						sleep(ctx, pause)
						continue
					}
					url := c.URLs[(ci+i)%len(c.URLs)]
					rd := Read{Name: w.Name, Start: time.Now()}
					rd.Answer = c.call(ctx, url, "GET", map[string]any{"name": w.Name})
					rd.End = time.Now()
					if ctx.Err() != nil && rd.Err != nil {
						return
					}
					rec.read(rd)
					sleep(ctx, pause)
				}
			})
		}
	}
	wg.Wait()
}

func sleep(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-ctx.Done():
	}
}

// call sends an attribute request of c's user; fields go in the body.
func (c Client) call(ctx context.Context, url, method string, fields map[string]any) Answer {
	fields["ust"], fields["current_app"] = c.UST, "CRM"
	data, _ := json.Marshal(fields)
	req, err := http.NewRequestWithContext(context.WithoutCancel(ctx), method, url+"/zato/sso/user/attr", bytes.NewReader(data))
	if err != nil {
		return Answer{Err: err}
	}
	resp, err := c.HTTP.Do(req)
	if err != nil {
		return Answer{Err: err}
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		return Answer{Status: resp.StatusCode, Err: err}
	}
	var body struct {
		Status    string   `json:"status"`
		SubStatus []string `json:"sub_status"`
		Found     bool     `json:"found"`
	}
	_ = json.Unmarshal(raw, &body)
	a := Answer{Status: resp.StatusCode, Code: body.Status, Found: body.Found}
	if body.Status != "ok" && len(body.SubStatus) > 0 {
		a.Code = body.SubStatus[0]
	}
	if resp.StatusCode == http.StatusServiceUnavailable && resp.Header.Get("Retry-After") == "" {
		a.Code += " (no Retry-After)"
	}
	return a
}

// Report is what a load's clients saw, checked against the stream.
type Report struct {
	Writes, Acked, Failed, Unknown int
	Reads, ReadsOK                 int
	Answers                        map[string]int // answer → count, other than 200 ok
	LongestWriteGap                time.Duration  // between two acknowledged writes
	LongestAnswer                  time.Duration  // the slowest request
	// Violations.
	Lost         []string // acknowledged, not stored
	Twice        []string // stored more than once
	FailedStored []string // answered as a definite failure, stored
	Stale        []string // a read that missed an acknowledged write
	NoRetryAfter int      // 503s without Retry-After
}

// OK reports whether nothing was lost, doubled, stored despite a definite
// failure, or read stale.
func (rep Report) OK() bool {
	return len(rep.Lost)+len(rep.Twice)+len(rep.FailedStored)+len(rep.Stale)+rep.NoRetryAfter == 0
}

func (rep Report) String() string {
	keys := make([]string, 0, len(rep.Answers))
	for k := range rep.Answers {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var other []string
	for _, k := range keys {
		other = append(other, fmt.Sprintf("%s ×%d", k, rep.Answers[k]))
	}
	return fmt.Sprintf("writes %d (acknowledged %d, failed %d, unknown %d), reads %d (ok %d); "+
		"other answers [%s]; longest gap between acknowledged writes %v, slowest answer %v; "+
		"lost %d, stored twice %d, failed but stored %d, stale reads %d, 503 without Retry-After %d",
		rep.Writes, rep.Acked, rep.Failed, rep.Unknown, rep.Reads, rep.ReadsOK,
		strings.Join(other, ", "), rep.LongestWriteGap.Round(time.Millisecond), rep.LongestAnswer.Round(time.Millisecond),
		len(rep.Lost), len(rep.Twice), len(rep.FailedStored), len(rep.Stale), rep.NoRetryAfter)
}

// Check compares the recorded answers with stored, how many times the
// stream holds each attribute name.
func (r *Recorder) Check(stored map[string]int) Report {
	r.mu.Lock()
	defer r.mu.Unlock()
	rep := Report{Answers: map[string]int{}}
	var ackedEnds []time.Time
	note := func(a Answer, took time.Duration) {
		rep.LongestAnswer = max(rep.LongestAnswer, took)
		if strings.HasSuffix(a.Code, "(no Retry-After)") {
			rep.NoRetryAfter++
		}
		if !(a.Status == 200 && a.Code == "ok") {
			rep.Answers[a.String()]++
		}
	}
	for _, w := range r.writes {
		rep.Writes++
		note(w.Answer, w.End.Sub(w.Start))
		n := stored[w.Name]
		if n > 1 {
			rep.Twice = append(rep.Twice, w.Name)
		}
		switch {
		case w.Status == 200 && w.Code == "ok":
			rep.Acked++
			ackedEnds = append(ackedEnds, w.End)
			if n == 0 {
				rep.Lost = append(rep.Lost, w.Name)
			}
		case w.failed():
			rep.Failed++
			if n > 0 {
				rep.FailedStored = append(rep.FailedStored, w.Name+": "+w.Answer.String())
			}
		default:
			rep.Unknown++
		}
	}
	for _, rd := range r.reads {
		rep.Reads++
		note(rd.Answer, rd.End.Sub(rd.Start))
		if rd.Status == 200 && rd.Code == "ok" {
			rep.ReadsOK++
			if !rd.Found {
				rep.Stale = append(rep.Stale, rd.Name)
			}
		}
	}
	slices.SortFunc(ackedEnds, func(a, b time.Time) int { return a.Compare(b) })
	for i := 1; i < len(ackedEnds); i++ {
		rep.LongestWriteGap = max(rep.LongestWriteGap, ackedEnds[i].Sub(ackedEnds[i-1]))
	}
	return rep
}

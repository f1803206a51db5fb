package httpapi

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/ssoattr/ssoattr/domain"
)

// EventSource is the stream behind GET /zato/sso/events; eventstore.Store
// satisfies it.
type EventSource interface {
	// LastSeq returns the stream's last sequence.
	LastSeq(ctx context.Context) (uint64, error)
	// TailEvents delivers, in stream order, the stored events of one user
	// (every user when userID is empty) whose kind is one of kinds (every
	// kind when empty), from sequence from (0: only new ones), with their
	// stored JSON, until ctx ends or h returns an error.
	// Messages a reader refuses (unsigned, forged, on another owner's
	// subject, undecodable) are never delivered: they go to refused, if
	// not nil (the service's follower has logged and counted each).
	TailEvents(ctx context.Context, userID string, kinds []string, from uint64, h func(seq uint64, e domain.Event, data []byte) error, refused func(seq uint64, err error)) error
}

// eventsKeepAlive is how often an idle event stream sends a comment, which
// keeps proxies from closing it, notices a client that has gone, and
// re-checks that the caller may still watch.
const eventsKeepAlive = 15 * time.Second

// events is GET /zato/sso/events: the event stream as Server-Sent Events,
// for consumers that only speak HTTP. Super-users only (else E005001).
// Filters: user_id (that user's account, sessions and attributes) and type
// (event kinds, comma-separated). Each event's SSE id is its stream
// sequence and its data the stored CloudEvents JSON. A client that sends
// Last-Event-ID (EventSource does on reconnect; last_event_id in the query
// string does the same) resumes right after that event, with no gap and no
// duplicate; without it, the stream holds every event stored after the
// response headers were sent. The stream ends when the client goes away,
// when the caller's session stops being valid (checked every 15 s), and
// when the server shuts down.
func (s *Server) events(c echo.Context) error {
	in, app, err := s.admit(c, true)
	if err != nil {
		return err
	}
	ust, err := in.callerToken()
	if err != nil {
		return err
	}
	userID, err := in.id("user_id")
	if err != nil {
		return err
	}
	if userID != "" && !domain.IsToken(userID) {
		return domain.ErrInvalidInput
	}
	var kinds []string
	if t, _, err := in.str("type"); err != nil {
		return err
	} else if t != "" {
		for _, k := range strings.Split(t, ",") {
			if k = strings.TrimSpace(k); !domain.KnownKind(k) {
				return domain.ErrInvalidInput
			}
			kinds = append(kinds, k)
		}
	}
	var from uint64
	last := c.Request().Header.Get("Last-Event-ID")
	if last == "" {
		if last, _, err = in.str("last_event_id"); err != nil {
			return err
		}
	}
	if last != "" {
		n, err := strconv.ParseUint(strings.TrimSpace(last), 10, 64)
		if err != nil {
			return domain.ErrInvalidInput
		}
		from = n + 1
	}
	m := meta(c, app)
	if err := s.svc.AuthorizeEvents(c.Request().Context(), m, ust); err != nil {
		return err
	}
	if s.opt.Events == nil {
		return errors.New("no event source configured")
	}
	if from == 0 {
		// Decided before the answer starts: a client that has the headers
		// gets every event stored after that.
		last, err := s.opt.Events.LastSeq(c.Request().Context())
		if err != nil {
			return err
		}
		from = last + 1
	}

	// The stream lives until the client goes or the server shuts down:
	// http.Server.Shutdown does not cancel running handlers, it waits for them.
	ctx, cancel := context.WithCancel(c.Request().Context())
	defer cancel()
	if s.opt.Done != nil {
		go func() {
			select {
			case <-s.opt.Done:
				cancel()
			case <-ctx.Done():
			}
		}()
	}
	w := c.Response()
	rc := http.NewResponseController(w)
	// The server's read and write timeouts are for ordinary requests; on a
	// stream the read deadline would cancel the request's context.
	_ = rc.SetReadDeadline(time.Time{})
	_ = rc.SetWriteDeadline(time.Time{})
	h := w.Header()
	h.Set(echo.HeaderContentType, "text/event-stream; charset=utf-8")
	h.Set("Cache-Control", "no-cache")
	h.Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	if _, err := fmt.Fprint(w, "retry: 2000\n\n"); err != nil {
		return nil
	}
	if rc.Flush() != nil {
		return nil
	}

	type item struct {
		seq  uint64
		data []byte
	}
	items := make(chan item, 64)
	tailDone := make(chan struct{})
	var tailErr error
	go func() {
		defer close(tailDone)
		tailErr = s.opt.Events.TailEvents(ctx, userID, kinds, from, func(seq uint64, _ domain.Event, data []byte) error {
			select {
			case items <- item{seq, data}:
				return nil
			case <-ctx.Done():
				return ctx.Err()
			}
		}, nil)
	}()
	defer func() {
		cancel()
		<-tailDone // the consumer is released before the handler returns
	}()
	ping := time.NewTicker(eventsKeepAlive)
	defer ping.Stop()
	buf := make([]byte, 0, 1024)
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-tailDone:
			if ctx.Err() == nil {
				s.log.ErrorContext(ctx, "event stream stopped", slog.String("cid", cid(c)), slog.Any("err", tailErr))
			}
			return nil
		case it := <-items:
			// Stored events are compact JSON: one line, as a data field needs.
			buf = append(buf[:0], "id: "...)
			buf = strconv.AppendUint(buf, it.seq, 10)
			buf = append(buf, "\ndata: "...)
			buf = append(buf, it.data...)
			buf = append(buf, "\n\n"...)
			if _, err := w.Write(buf); err != nil {
				return nil
			}
			if len(items) == 0 && rc.Flush() != nil {
				return nil
			}
		case <-ping.C:
			if err := s.svc.AuthorizeEvents(ctx, m, ust); err != nil {
				return nil // the session ended or lost its rights: so does the stream
			}
			if _, err := fmt.Fprint(w, ": ping\n\n"); err != nil || rc.Flush() != nil {
				return nil
			}
		}
	}
}

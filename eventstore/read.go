package eventstore

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/ssoattr/ssoattr/domain"
)

// Msg is one stored message as a reader sees it: its stream sequence, the
// stored CloudEvents JSON, and the decoded event (Err wraps
// jsontext.ErrMalformed when the message is not an ssoattr event).
type Msg struct {
	Seq     uint64
	Subject string
	Data    []byte
	Event   domain.Event
	Err     error
	// Pending is how many more messages matching the reader's filters the
	// stream held when this one was delivered (0: the reader is caught up).
	Pending uint64
}

// Attach returns a Store on an existing stream without creating or changing
// it: the CLI's readers use it, and must not reconfigure a running service's
// stream. c.Keys verify what it reads (required). It returns
// jetstream.ErrStreamNotFound (wrapped) if there is no stream.
func Attach(ctx context.Context, js jetstream.JetStream, c Config) (*Store, error) {
	c = c.withDefaults()
	if c.Keys == nil {
		return nil, errors.New("attach to stream: no event signing keys")
	}
	st, err := js.Stream(ctx, c.Stream)
	if err != nil {
		return nil, fmt.Errorf("stream %s: %w", c.Stream, err)
	}
	return newStore(js, st, c), nil
}

// OwnerFilter returns the subject filter of an owner. An empty User matches
// every user (sso.session.*.<session>), which finds a session from its id alone.
func OwnerFilter(o domain.Owner) string {
	if o.User == "" {
		o.User = "*"
	}
	return Subject(o)
}

// UserFilters returns the subject filters of the given owner kinds (every
// kind when kinds is empty) of one user, or of every user when userID is
// empty. Username claims are keyed by a hash of the username, not by the
// user id, so with a userID they are left out.
func UserFilters(userID string, kinds ...domain.OwnerKind) []string {
	if len(kinds) == 0 {
		if userID == "" {
			return []string{Prefix + ".>"}
		}
		kinds = []domain.OwnerKind{domain.OwnerUser, domain.OwnerUserAttrs, domain.OwnerSession, domain.OwnerSessionAttrs}
	}
	user := userID
	if user == "" {
		user = "*"
	}
	out := make([]string, 0, len(kinds))
	for _, k := range kinds {
		switch k {
		case domain.OwnerSession, domain.OwnerSessionAttrs:
			out = append(out, Prefix+"."+string(k)+"."+user+".*")
		case domain.OwnerUsername:
			if userID == "" {
				out = append(out, Prefix+"."+string(k)+".*")
			}
		default:
			out = append(out, Prefix+"."+string(k)+"."+user)
		}
	}
	return out
}

// Scan delivers, in stream order, the messages whose subjects match one of
// filters (every message when filters is empty), starting at sequence from,
// until h returns false, the last matching message present when the scan
// reached it has been delivered, or (when to > 0) sequence to has been
// passed. Only the matching messages travel: JetStream filters on the
// server, so reading one owner costs what that owner holds, not the stream.
func (s *Store) Scan(ctx context.Context, filters []string, from, to uint64, h func(Msg) bool) error {
	if to > 0 && from > to {
		return nil
	}
	// On a replicated stream the consumer runs on any of the stream's
	// servers, perhaps one that lags behind the leader: its counts of what
	// is pending may say "done" early. So the scan learns the stream's
	// last sequence now, and where the consumer says done before it, asks
	// the leader whether a matching message follows (complete).
	var last uint64
	if s.replicated() {
		var err error
		if last, err = s.LastSeq(ctx); err != nil {
			return fmt.Errorf("scan %v: %w", filters, err)
		}
	}
	cons, it, err := s.consume(ctx, filters, from, 10*time.Second)
	if err != nil {
		return Unavailable(err)
	}
	defer s.release(cons, it)
	if info := cons.CachedInfo(); info != nil && info.NumPending == 0 {
		if done, err := s.complete(ctx, filters, from-1, last, to); done || err != nil {
			return err
		}
	}
	stop := context.AfterFunc(ctx, it.Stop)
	defer stop()
	for {
		msg, err := it.Next()
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			return Unavailable(fmt.Errorf("scan %v: %w", filters, err))
		}
		seq, pending, ok := ackPosition(msg.Reply())
		if !ok {
			return fmt.Errorf("scan %v: delivered message without a stream position (reply subject %q)", filters, msg.Reply())
		}
		if to > 0 && seq > to {
			return nil
		}
		e, derr := s.check(seq, msg.Subject(), msg.Headers(), msg.Data())
		if !h(Msg{Seq: seq, Subject: msg.Subject(), Data: msg.Data(), Event: e, Err: derr, Pending: pending}) {
			return nil
		}
		if to > 0 && seq >= to {
			return nil
		}
		if pending == 0 {
			if done, err := s.complete(ctx, filters, seq, last, to); done || err != nil {
				return err
			}
		}
	}
}

// replicated reports whether the stream has more than one replica.
func (s *Store) replicated() bool {
	info := s.stream.CachedInfo()
	return info != nil && info.Config.Replicas > 1
}

// complete reports whether a scan whose consumer has nothing pending after
// sequence after is done: the stream is not replicated, or it had last
// messages when the scan began and its leader holds no message matching
// filters in (after, last] (and ≤ to, when to > 0). Otherwise the consumer's
// server lags and will deliver the rest.
func (s *Store) complete(ctx context.Context, filters []string, after, last, to uint64) (bool, error) {
	if to > 0 {
		last = min(last, to)
	}
	if last <= after {
		return true, nil
	}
	if len(filters) == 0 {
		filters = []string{Prefix + ".>"}
	}
	for _, f := range filters {
		m, err := s.firstAfter(ctx, f, after)
		if err != nil {
			return false, Unavailable(fmt.Errorf("scan %v: %w", filters, err))
		}
		if m != nil && m.Seq <= last {
			return false, nil
		}
	}
	return true, nil
}

// ReadOwners delivers the events of the given owners in stream order, from
// sequence from to the end of the stream, until h returns false. Malformed
// messages are skipped. An owner with an empty User matches every user.
func (s *Store) ReadOwners(ctx context.Context, owners []domain.Owner, from uint64, h func(seq uint64, e domain.Event) bool) error {
	filters := make([]string, len(owners))
	for i, o := range owners {
		filters[i] = OwnerFilter(o)
	}
	return s.Scan(ctx, filters, from, 0, func(m Msg) bool {
		return m.Err != nil || h(m.Seq, m.Event)
	})
}

// Tail delivers the messages matching filters from sequence from (0: only
// those stored after the call) in order, and keeps delivering new ones until
// ctx ends or h returns an error, which Tail returns. An ordered consumer
// recovers from gaps and reconnects, so nothing is skipped or delivered
// twice; a reader that stops can resume exactly at its last sequence + 1.
func (s *Store) Tail(ctx context.Context, filters []string, from uint64, h func(Msg) error) error {
	return s.tail(ctx, filters, from, s.check, h)
}

// tail is Tail with the messages' events read by decode (Store.check, or
// the follower's own).
func (s *Store) tail(ctx context.Context, filters []string, from uint64, decode func(seq uint64, subject string, hdr nats.Header, data []byte) (domain.Event, error), h func(Msg) error) error {
	if from == 0 {
		last, err := s.fetchLastSeq(ctx)
		if err != nil {
			return err
		}
		from = last + 1
	}
	cons, err := s.ordered(ctx, filters, from, 0)
	if err != nil {
		return err
	}
	// The client delivers to a callback on a goroutine of its own. h runs
	// under mu, and never after tail has returned: the consumer can still
	// deliver between Stop and its end.
	var (
		mu     sync.Mutex
		ended  bool
		failed = make(chan error, 1)
	)
	cc, err := cons.Consume(func(msg jetstream.Msg) {
		mu.Lock()
		defer mu.Unlock()
		if ended {
			return
		}
		seq, pending, ok := ackPosition(msg.Reply())
		if !ok {
			// The library hands over stream messages only. Skipping one
			// would leave a reader silently behind: stop instead.
			ended = true
			failed <- fmt.Errorf("delivered message without a stream position (reply subject %q)", msg.Reply())
			return
		}
		e, derr := decode(seq, msg.Subject(), msg.Headers(), msg.Data())
		if err := h(Msg{Seq: seq, Subject: msg.Subject(), Data: msg.Data(), Event: e, Err: derr, Pending: pending}); err != nil {
			ended = true
			failed <- err
		}
	}, jetstream.PullMaxMessages(followBuffer), jetstream.PullHeartbeat(pullHeartbeat))
	if err != nil {
		s.release(cons, nil)
		return fmt.Errorf("consume: %w", err)
	}
	closed := cc.Closed()
	select {
	case <-ctx.Done():
		err = ctx.Err()
	case err = <-failed:
	case <-closed:
		// Gaps, missed heartbeats and reconnects are repaired inside; the
		// consumer ends of itself only when the connection is closed.
		err = fmt.Errorf("follow: %w", jetstream.ErrMsgIteratorClosed)
	}
	mu.Lock()
	ended = true
	mu.Unlock()
	s.release(cons, cc)
	return err
}

// pullHeartbeat is how often the server of a reader's consumer says it is
// alive while it has nothing to deliver. Two missed, and the ordered
// consumer is created anew where it left off: a pull request lost in a
// cluster (or a consumer on a server that hangs) costs 2 s, not the
// library's default of 30 s, which outlasted the request deadline and left
// history pages hanging.
const pullHeartbeat = time.Second

// followBuffer is how many messages a consumer asks for at once. A deep
// buffer keeps the start-up rebuild, which reads the whole stream through
// Follow, from waiting on round trips.
const followBuffer = 2048

// ackPosition reads a delivered message's stream sequence and the number of
// messages pending after it from its reply subject, as
// jetstream.Msg.Metadata does, without building the rest of the metadata:
// $JS.ACK.<stream>.<consumer>.<delivered>.<sseq>.<cseq>.<tm>.<pending>, or
// with <domain>.<account hash> after ACK and perhaps a token at the end.
func ackPosition(reply string) (seq, pending uint64, ok bool) {
	const prefix = "$JS.ACK."
	if !strings.HasPrefix(reply, prefix) {
		return 0, 0, false
	}
	var tokens [12]string
	n := 2
	for rest := reply[len(prefix):]; n < len(tokens); n++ {
		i := strings.IndexByte(rest, '.')
		if i < 0 {
			tokens[n] = rest
			n++
			break
		}
		tokens[n], rest = rest[:i], rest[i+1:]
	}
	var sseq, pend string
	switch {
	case n == 9:
		sseq, pend = tokens[5], tokens[8]
	case n >= 11:
		sseq, pend = tokens[7], tokens[10]
	default:
		return 0, 0, false
	}
	seq, err1 := strconv.ParseUint(sseq, 10, 64)
	pending, err2 := strconv.ParseUint(pend, 10, 64)
	if err1 != nil || err2 != nil || seq == 0 {
		return 0, 0, false
	}
	return seq, pending, true
}

// TailEvents is Tail over the events of one user (every user when userID
// is empty; see UserFilters) whose kind is one of kinds (every kind when
// kinds is empty), with each event's stored JSON. Other kinds are passed
// over, and so are the messages a reader refuses (see Store.check): those
// go to refused instead, unless it is nil.
func (s *Store) TailEvents(ctx context.Context, userID string, kinds []string, from uint64, h func(seq uint64, e domain.Event, data []byte) error, refused func(seq uint64, err error)) error {
	var owners []domain.OwnerKind
	want := make(map[string]bool, len(kinds))
	for _, k := range kinds {
		want[k] = true
		for _, o := range KindFamily(k) {
			if !slices.Contains(owners, o) {
				owners = append(owners, o)
			}
		}
	}
	if len(kinds) > 0 && len(owners) == 0 {
		return fmt.Errorf("no known event kind in %q", kinds)
	}
	return s.Tail(ctx, UserFilters(userID, owners...), from, func(m Msg) error {
		if m.Err != nil {
			if refused != nil {
				refused(m.Seq, m.Err)
			}
			return nil
		}
		if len(want) > 0 && !want[m.Event.Kind] {
			return nil
		}
		return h(m.Seq, m.Event, m.Data)
	})
}

// ordered opens an ordered consumer at sequence from (1 or 0: the start).
// inactive > 0 lets the server drop the consumer soon if the client
// vanishes; reads are short.
func (s *Store) ordered(ctx context.Context, filters []string, from uint64, inactive time.Duration) (jetstream.Consumer, error) {
	cfg := jetstream.OrderedConsumerConfig{FilterSubjects: filters, DeliverPolicy: jetstream.DeliverAllPolicy,
		InactiveThreshold: inactive}
	if from > 1 {
		cfg.DeliverPolicy, cfg.OptStartSeq = jetstream.DeliverByStartSequencePolicy, from
	}
	cons, err := s.js.OrderedConsumer(ctx, s.cfg.Stream, cfg)
	if err != nil {
		return nil, fmt.Errorf("ordered consumer: %w", err)
	}
	return cons, nil
}

// consume opens an ordered consumer (see ordered) and its message iterator.
func (s *Store) consume(ctx context.Context, filters []string, from uint64, inactive time.Duration) (jetstream.Consumer, jetstream.MessagesContext, error) {
	cons, err := s.ordered(ctx, filters, from, inactive)
	if err != nil {
		return nil, nil, err
	}
	it, err := cons.Messages(jetstream.PullMaxMessages(followBuffer), jetstream.PullHeartbeat(pullHeartbeat))
	if err != nil {
		s.release(cons, nil)
		return nil, nil, fmt.Errorf("consume: %w", err)
	}
	return cons, it, nil
}

// release stops the consuming (an iterator or a callback, when there is
// one) and deletes the consumer on the server at once: left alone, an
// ordered consumer lingers until its inactivity threshold, and busy
// point-in-time reads would pile them up.
func (s *Store) release(cons jetstream.Consumer, consuming interface{ Stop() }) {
	if consuming != nil {
		consuming.Stop()
	}
	info := cons.CachedInfo()
	if info == nil {
		return
	}
	// Best effort, and off the caller's path: the threshold is the safety net.
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		_ = s.stream.DeleteConsumer(ctx, info.Name)
	}()
}

// subjects returns the subjects matching filter that hold messages.
func (s *Store) subjects(ctx context.Context, filter string) ([]string, error) {
	info, err := s.stream.Info(ctx, jetstream.WithSubjectFilter(filter))
	if err != nil {
		return nil, fmt.Errorf("stream info: %w", err)
	}
	out := make([]string, 0, len(info.State.Subjects))
	for subj, n := range info.State.Subjects {
		if n > 0 {
			out = append(out, subj)
		}
	}
	return out, nil
}

// HasEvents reports whether the stream holds any event of o (a user who
// has been deleted still has the events of their account).
func (s *Store) HasEvents(ctx context.Context, o domain.Owner) (bool, error) {
	subs, err := s.subjects(ctx, OwnerFilter(o))
	return len(subs) > 0, err
}

// SessionUser returns the user of the session with that internal id, live
// or ended, or "" if the stream holds no such session.
func (s *Store) SessionUser(ctx context.Context, sessionID string) (string, error) {
	if !domain.IsToken(sessionID) {
		return "", nil
	}
	subs, err := s.subjects(ctx, OwnerFilter(domain.Owner{Kind: domain.OwnerSession, Session: sessionID}))
	if err != nil {
		return "", err
	}
	for _, subj := range subs {
		if o, err := ParseSubject(subj); err == nil && o.Session == sessionID {
			return o.User, nil
		}
	}
	return "", nil
}

// KindFamily returns the owner kinds whose subjects carry events of the
// given kind ("attr.set" lives on user and session attribute subjects), or
// nil for an unknown kind.
func KindFamily(kind string) []domain.OwnerKind {
	family, _, _ := strings.Cut(kind, ".")
	switch family {
	case "attr":
		return []domain.OwnerKind{domain.OwnerUserAttrs, domain.OwnerSessionAttrs}
	case "user":
		return []domain.OwnerKind{domain.OwnerUser}
	case "session":
		return []domain.OwnerKind{domain.OwnerSession}
	case "username":
		return []domain.OwnerKind{domain.OwnerUsername}
	}
	return nil
}

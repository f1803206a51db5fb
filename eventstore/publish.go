package eventstore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/ssoattr/ssoattr/internal/ctxtime"
	"github.com/ssoattr/ssoattr/internal/jsonscan"
)

// publish sends data to subject with the subject's expected last sequence
// and returns the stored message's sequence. It is what jetstream.Publish
// with WithExpectLastSequencePerSubject does, minus what a write pays there
// for nothing (measured in the benchmark's set case: about 2 % of a PUT's
// CPU): the options and their allocations, a header map per message, and an
// encoding/json decoding of the acknowledgement, which parseAck reads in
// one pass instead.
//
// The wait is bounded by ctx's deadline (publishTimeout without one), not
// by watching ctx: a publish is short, and one abandoned midway leaves its
// outcome unknown anyway (see sso's landedAnyway). Like jetstream.Publish,
// it tries again after a pause when no server answers, which is what a
// moment without a stream leader looks like.
func (s *Store) publish(ctx context.Context, subject string, data []byte, sig string, expected uint64) (uint64, error) {
	s.appending.Add(1)
	defer s.appending.Add(-1)
	m := pubMsgs.Get().(*nats.Msg)
	defer func() {
		m.Subject, m.Data = "", nil
		pubMsgs.Put(m)
	}()
	m.Subject, m.Data = subject, data
	// The header is encoded while the request is sent, so one map per
	// pooled message is reused: only its value changes.
	m.Header[jetstream.ExpectedLastSubjSeqHeader][0] = strconv.FormatUint(expected, 10)
	m.Header[SignatureHeader][0] = sig
	nc := s.js.Conn()
	for attempt := 0; ; attempt++ {
		timeout := publishTimeout
		if d, ok := ctx.Deadline(); ok {
			if timeout = time.Until(d); timeout <= 0 {
				return 0, context.DeadlineExceeded
			}
		}
		resp, err := nc.RequestMsg(m, timeout)
		if errors.Is(err, nats.ErrNoResponders) && attempt < jetstream.DefaultPubRetryAttempts {
			if err := ctxtime.Sleep(ctx, jetstream.DefaultPubRetryWait); err != nil {
				return 0, err
			}
			continue
		}
		if errors.Is(err, nats.ErrNoResponders) {
			return 0, jetstream.ErrNoStreamResponse
		}
		if err != nil {
			return 0, err
		}
		return parseAck(resp.Data)
	}
}

// publishTimeout bounds a publish whose context has no deadline, as
// jetstream.Publish does.
const publishTimeout = 5 * time.Second

var pubMsgs = sync.Pool{New: func() any {
	return &nats.Msg{Header: nats.Header{jetstream.ExpectedLastSubjSeqHeader: make([]string, 1),
		SignatureHeader: make([]string, 1)}}
}}

// parseAck reads a publish acknowledgement as jetstream.Publish does: an
// error reply ({"error":{...}}) comes back as its *jetstream.APIError,
// anything else that does not name a stream as jetstream.ErrInvalidJSAck.
// The acknowledgement a server sends, {"stream":"SSO","seq":5} with perhaps
// a domain or a duplicate flag, is read in one pass without allocating;
// any other text goes to encoding/json, so the answer is always the one
// jetstream.Publish would give.
func parseAck(data []byte) (uint64, error) {
	var (
		seq          uint64
		stream, seen bool
	)
	sc := jsonscan.New(data)
	err := sc.Object(func(key []byte) error {
		switch string(key) {
		case "stream":
			name, err := sc.Text()
			stream = len(name) > 0
			return err
		case "seq":
			raw, err := sc.Skip()
			if err != nil {
				return err
			}
			seq, err = strconv.ParseUint(string(raw), 10, 64)
			seen = true
			return err
		case "domain", "duplicate":
			_, err := sc.Skip()
			return err
		}
		return errUnusualAck
	})
	if err == nil {
		err = sc.End()
	}
	if err == nil && stream && seen {
		return seq, nil
	}
	var reply struct {
		Error  *jetstream.APIError `json:"error"`
		Stream string              `json:"stream"`
		Seq    uint64              `json:"seq"`
	}
	switch {
	case json.Unmarshal(data, &reply) != nil:
		return 0, jetstream.ErrInvalidJSAck
	case reply.Error != nil:
		return 0, fmt.Errorf("nats: %w", reply.Error)
	case reply.Stream == "":
		return 0, jetstream.ErrInvalidJSAck
	}
	return reply.Seq, nil
}

var errUnusualAck = errors.New("not the usual acknowledgement")

// Package faults holds the fault suite: a three-node JetStream cluster in
// this process, an R3 stream, two service instances on different nodes,
// and writers and readers through both instances' HTTP listeners while
// nodes are shut down, paused and restarted and instances killed. Every
// answer is recorded and compared with what the stream holds afterwards
// (see Recorder). Run it with go test ./faults/; scripts/chaos runs the
// same checks against the docker-compose cluster.
package faults

import (
	"errors"
	"io"
	"net"
	"sync"
)

// Proxy forwards TCP connections from its own loopback listener to a
// target address, and can pause: while paused it forwards nothing in
// either direction but keeps every connection open, as a frozen process
// would (SIGSTOP), which is what a client must notice by itself.
type Proxy struct {
	ln     net.Listener
	target func() string // read at each new connection: a restarted server moves

	mu     sync.Mutex
	paused bool
	resume chan struct{} // closed when a pause ends
	conns  map[net.Conn]struct{}
	closed bool
}

// NewProxy listens on a free loopback port and forwards to target().
func NewProxy(target func() string) (*Proxy, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	p := &Proxy{ln: ln, target: target, conns: map[net.Conn]struct{}{}}
	go p.accept()
	return p, nil
}

// Addr returns the proxy's host:port.
func (p *Proxy) Addr() string { return p.ln.Addr().String() }

func (p *Proxy) accept() {
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		go p.serve(c)
	}
}

func (p *Proxy) serve(c net.Conn) {
	t, err := net.Dial("tcp", p.target())
	if err != nil {
		c.Close()
		return
	}
	if !p.track(c, t) {
		c.Close()
		t.Close()
		return
	}
	done := make(chan struct{}, 2)
	go func() { p.copy(t, c); done <- struct{}{} }()
	go func() { p.copy(c, t); done <- struct{}{} }()
	<-done
	c.Close()
	t.Close()
	<-done
	p.mu.Lock()
	delete(p.conns, c)
	delete(p.conns, t)
	p.mu.Unlock()
}

func (p *Proxy) track(conns ...net.Conn) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return false
	}
	for _, c := range conns {
		p.conns[c] = struct{}{}
	}
	return true
}

// copy forwards src to dst, holding each chunk while the proxy is paused.
func (p *Proxy) copy(dst, src net.Conn) {
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		if n > 0 {
			p.wait()
			if _, werr := dst.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			if !errors.Is(err, io.EOF) {
				return
			}
			return
		}
	}
}

func (p *Proxy) wait() {
	p.mu.Lock()
	ch := p.resume
	paused := p.paused
	p.mu.Unlock()
	if paused {
		<-ch
	}
}

// Pause stops forwarding; open connections stay open.
func (p *Proxy) Pause() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.paused {
		p.paused, p.resume = true, make(chan struct{})
	}
}

// Resume forwards again what was held and what comes.
func (p *Proxy) Resume() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.paused {
		p.paused = false
		close(p.resume)
	}
}

// Close stops listening, closes every connection and ends a pause.
func (p *Proxy) Close() {
	p.ln.Close()
	p.Resume()
	p.mu.Lock()
	p.closed = true
	for c := range p.conns {
		c.Close()
	}
	p.mu.Unlock()
}

package harness

import (
	"io"
	"net"
	"os"
	"strings"
	"sync"
	"testing"
)

// Proxy forwards TCP connections from a loopback port to a target, and can cut them: a network
// cut between herald and the API server, without touching either.
type Proxy struct {
	t      testing.TB
	ln     net.Listener
	target string

	mu      sync.Mutex
	conns   map[net.Conn]struct{}
	cut     bool
	refused bool // the listening socket is closed
	wg      sync.WaitGroup
}

// NewProxy listens on 127.0.0.1 and forwards to target (host:port) until the test ends.
func NewProxy(t testing.TB, target string) *Proxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &Proxy{t: t, ln: ln, target: target, conns: map[net.Conn]struct{}{}}
	p.wg.Add(1)
	go p.serve()
	t.Cleanup(func() {
		p.Refuse()
	})
	return p
}

// Addr is the proxy's address, 127.0.0.1:PORT.
func (p *Proxy) Addr() string { return p.ln.Addr().String() }

// Cut closes every forwarded connection and refuses new ones (accepts and closes them) until
// Restore: what a client sees when a link or a load balancer in between goes away.
func (p *Proxy) Cut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.cut = true
	for c := range p.conns {
		c.Close()
	}
}

// Refuse closes every forwarded connection and the listening socket: new connections are
// refused (the port is closed) until Restore listens again on the same address.
func (p *Proxy) Refuse() {
	p.Cut()
	p.mu.Lock()
	p.refused = true
	p.mu.Unlock()
	p.ln.Close()
	p.wg.Wait() // serve has returned; forwarded connections are closed
}

// Restore forwards new connections again (after Cut or Refuse).
func (p *Proxy) Restore() {
	p.mu.Lock()
	p.cut = false
	refused := p.refused
	p.refused = false
	p.mu.Unlock()
	if !refused {
		return
	}
	ln, err := net.Listen("tcp", p.ln.Addr().String())
	if err != nil {
		p.t.Fatalf("proxy: listen again on %s: %v", p.ln.Addr(), err)
	}
	p.ln = ln
	p.wg.Add(1)
	go p.serve()
}

// Kubeconfig writes a copy of the kubeconfig at path whose server is the proxy instead of
// server (https://127.0.0.1:PORT), and returns the copy's path. The certificate still matches:
// it names 127.0.0.1, not a port.
func (p *Proxy) Kubeconfig(path, server string) string {
	p.t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		p.t.Fatal(err)
	}
	if !strings.Contains(string(b), server) {
		p.t.Fatalf("%s does not name the server %s", path, server)
	}
	out := p.t.TempDir() + "/kubeconfig-via-proxy"
	if err := os.WriteFile(out, []byte(strings.ReplaceAll(string(b), server, "https://"+p.Addr())), 0o600); err != nil {
		p.t.Fatal(err)
	}
	return out
}

func (p *Proxy) serve() {
	defer p.wg.Done()
	ln := p.ln
	for {
		in, err := ln.Accept()
		if err != nil {
			return
		}
		p.mu.Lock()
		if p.cut {
			p.mu.Unlock()
			in.Close()
			continue
		}
		out, err := net.Dial("tcp", p.target)
		if err != nil {
			p.mu.Unlock()
			in.Close()
			continue
		}
		p.conns[in] = struct{}{}
		p.conns[out] = struct{}{}
		p.mu.Unlock()
		p.wg.Add(2)
		go p.pipe(in, out)
		go p.pipe(out, in)
	}
}

// pipe copies src to dst; when either side ends, both are closed.
func (p *Proxy) pipe(dst, src net.Conn) {
	defer p.wg.Done()
	_, _ = io.Copy(dst, src) // a reset or a close is how every connection here ends
	dst.Close()
	src.Close()
	p.mu.Lock()
	delete(p.conns, dst)
	delete(p.conns, src)
	p.mu.Unlock()
}

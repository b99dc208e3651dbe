package syslog

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"os"
	"syscall"
	"time"
)

// conn is the sink's connection to the receiver: dialled when first needed, kept between batches,
// and dropped on any error so the next batch dials again.
type conn struct {
	cfg *Config
	c   net.Conn // the stream or datagram connection (a *tls.Conn for tls)
	raw net.Conn // the TCP connection under c, for the liveness check
}

// get returns a connection that is open as far as herald can tell: a kept TCP or TLS connection
// the receiver has closed is dropped and a new one dialled, so a batch is never written into a
// connection whose first write the kernel would accept and the receiver never read.
func (k *conn) get(ctx context.Context) (net.Conn, error) {
	if k.c != nil && k.cfg.Network != NetworkUDP && !k.alive() {
		k.close()
	}
	if k.c != nil {
		return k.c, nil
	}
	ctx, cancel := context.WithTimeout(ctx, k.cfg.Timeout)
	defer cancel()
	d := &net.Dialer{KeepAlive: 30 * time.Second}
	network := k.cfg.Network
	if network == NetworkTLS {
		network = NetworkTCP
	}
	raw, err := d.DialContext(ctx, network, k.cfg.Address)
	if err != nil {
		return nil, k.dialError(err)
	}
	c := raw
	if k.cfg.Network == NetworkTLS {
		tc := tls.Client(raw, k.cfg.TLS)
		if err := tc.HandshakeContext(ctx); err != nil {
			raw.Close()
			return nil, k.tlsError(err)
		}
		c = tc
	}
	k.c, k.raw = c, raw
	return c, nil
}

// alive reports whether the kept stream is still open. A syslog receiver sends nothing, so
// anything waiting on the socket means it is closing: the end of the stream, a reset, or (TLS)
// a close_notify alert. TLS 1.3 receivers also send session tickets after the handshake; those
// are read through crypto/tls, which takes them and finds nothing else.
func (k *conn) alive() bool {
	switch peek(k.raw) {
	case peekNothing:
		return true
	case peekData:
		if k.cfg.Network != NetworkTLS {
			return false
		}
		_ = k.c.SetReadDeadline(time.Now().Add(5 * time.Millisecond))
		var b [1]byte
		n, err := k.c.Read(b[:])
		_ = k.c.SetReadDeadline(time.Time{})
		var ne net.Error
		return n == 0 && errors.As(err, &ne) && ne.Timeout()
	}
	return false
}

const (
	peekNothing = iota // nothing has arrived
	peekData           // bytes wait to be read
	peekClosed         // the end of the stream, or an error
)

// peek looks at c's socket without reading from it or waiting.
func peek(c net.Conn) int {
	sc, ok := c.(syscall.Conn)
	if !ok {
		return peekNothing
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return peekClosed
	}
	state := peekClosed
	err = rc.Read(func(fd uintptr) bool {
		var b [1]byte
		n, _, rerr := syscall.Recvfrom(int(fd), b[:], syscall.MSG_PEEK|syscall.MSG_DONTWAIT)
		switch {
		case rerr == syscall.EAGAIN || rerr == syscall.EWOULDBLOCK || rerr == syscall.EINTR:
			state = peekNothing
		case rerr == nil && n > 0:
			state = peekData
		}
		return true // never wait
	})
	if err != nil {
		return peekClosed
	}
	return state
}

// write writes b within the timeout (and ctx) and returns how many bytes the kernel took. Any
// error drops the connection: a TCP stream cut inside a frame cannot be continued.
func (k *conn) write(ctx context.Context, c net.Conn, b []byte) (int, error) {
	deadline := time.Now().Add(k.cfg.Timeout)
	if d, ok := ctx.Deadline(); ok && d.Before(deadline) {
		deadline = d
	}
	_ = c.SetWriteDeadline(deadline)
	stop := context.AfterFunc(ctx, func() { _ = c.SetWriteDeadline(time.Now()) })
	n, err := c.Write(b)
	stop()
	if err != nil {
		k.close()
		if ctx.Err() != nil {
			return n, fmt.Errorf("writing to %s: %w", k.cfg.Address, ctx.Err())
		}
		return n, k.writeError(err)
	}
	return n, nil
}

func (k *conn) close() {
	if k.c != nil {
		_ = k.c.Close()
		k.c, k.raw = nil, nil
	}
}

// dialError explains a failed connect; every one is an outage, retried.
func (k *conn) dialError(err error) error {
	where := fmt.Sprintf("%s://%s", k.cfg.Network, k.cfg.Address)
	switch {
	case errors.Is(err, syscall.ECONNREFUSED):
		return fmt.Errorf("cannot connect to %s: nothing listens there (connection refused); check the address, and that the receiver accepts %s", where, k.cfg.Network)
	case errors.Is(err, context.DeadlineExceeded) || errors.Is(err, os.ErrDeadlineExceeded):
		return fmt.Errorf("cannot connect to %s within %s (timeout); check the address and the network path", where, k.cfg.Timeout)
	}
	var dnsErr *net.DNSError
	if errors.As(err, &dnsErr) {
		return fmt.Errorf("cannot connect to %s: %v; check the host name", where, dnsErr)
	}
	return fmt.Errorf("cannot connect to %s: %w", where, err)
}

// tlsError explains a failed TLS handshake: an outage (the receiver's certificate, or herald's
// ca_file, must change), retried until it succeeds, never a verdict on the events.
func (k *conn) tlsError(err error) error {
	where := "tls://" + k.cfg.Address
	var unknown x509.UnknownAuthorityError
	var host x509.HostnameError
	var invalid x509.CertificateInvalidError
	switch {
	case errors.As(err, &unknown):
		return fmt.Errorf("TLS handshake with %s: the receiver's certificate is not signed by a CA herald trusts (%v); give the CA that signed it in ca_file", where, err)
	case errors.As(err, &host):
		return fmt.Errorf("TLS handshake with %s: %v; connect by a name the certificate holds, or have the receiver's certificate include this one", where, err)
	case errors.As(err, &invalid):
		return fmt.Errorf("TLS handshake with %s: the receiver's certificate is not valid (%v); renew it", where, err)
	case errors.Is(err, context.DeadlineExceeded) || errors.Is(err, os.ErrDeadlineExceeded):
		return fmt.Errorf("TLS handshake with %s did not finish within %s; check that the port speaks TLS (6514), not plain syslog", where, k.cfg.Timeout)
	}
	return fmt.Errorf("TLS handshake with %s failed: %w; check that the port speaks TLS, and the receiver's certificate requirements (cert_file, key_file)", where, err)
}

// writeError explains a failed write; an outage, retried.
func (k *conn) writeError(err error) error {
	where := fmt.Sprintf("%s://%s", k.cfg.Network, k.cfg.Address)
	switch {
	case errors.Is(err, os.ErrDeadlineExceeded):
		return fmt.Errorf("writing to %s: the receiver took nothing for %s (timeout, it stopped reading); herald reconnects and retries", where, k.cfg.Timeout)
	case errors.Is(err, syscall.ECONNREFUSED):
		return fmt.Errorf("writing to %s: nothing listens there (connection refused, reported by ICMP for an earlier datagram); check the address and that the receiver runs", where)
	case errors.Is(err, syscall.EMSGSIZE):
		return fmt.Errorf("writing to %s: the datagram is larger than the path allows (%w); lower max_message_size", where, err)
	}
	return fmt.Errorf("writing to %s: %w; herald reconnects and retries", where, err)
}

package syslog_test

import (
	"bufio"
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/leodido/go-syslog/v4/rfc3164"
	"github.com/leodido/go-syslog/v4/rfc5424"
)

// receiver is a syslog server on 127.0.0.1 that reads what a real one reads and refuses what a
// strict one refuses. UDP: one message per datagram. TCP and TLS: octet counting as RFC 6587
// 3.4.1 defines it (MSG-LEN = NONZERO-DIGIT *DIGIT, one space, exactly MSG-LEN octets), or one
// message per line for framing=lf. Each message is parsed by go-syslog's RFC 5424 parser in its
// compliant mode (an MSG that starts with a BOM must be UTF-8; parameter values must escape '"',
// '\' and ']'; at most six fractional digits), and must say VERSION 1; or by its RFC 3164 parser.
// A message larger than max is refused. What breaks a stream's framing ends the connection, as a
// server would.
type receiver struct {
	t               testing.TB
	network, format string
	lf              bool
	max             int
	Addr            string

	ln net.Listener
	pc net.PacketConn

	mu    sync.Mutex
	msgs  []received
	errs  []string
	conns int
	// closeAfter, when set, makes the server close each connection after that many messages.
	closeAfter int
	// stall, when set, makes the server accept connections and read nothing.
	stall bool
	open  []net.Conn
	done  chan struct{}
	wg    sync.WaitGroup
}

// received is one message: its bytes and how the parser read them.
type received struct {
	raw  []byte
	m    *rfc5424.SyslogMessage
	bsd  *rfc3164.SyslogMessage
	conn int // which connection brought it (1, 2, ...), 0 for UDP
}

type receiverOptions struct {
	network, format string // "udp", "tcp", "tls"; "rfc5424" (default) or "rfc3164"
	lf              bool
	max             int // largest message (default 8192)
	cert            *tls.Certificate
	closeAfter      int
	stall           bool
}

func newReceiver(t testing.TB, o receiverOptions) *receiver {
	t.Helper()
	r := &receiver{t: t, network: o.network, format: o.format, lf: o.lf, max: o.max, closeAfter: o.closeAfter, stall: o.stall, done: make(chan struct{})}
	if r.format == "" {
		r.format = "rfc5424"
	}
	if r.max == 0 {
		r.max = 8192
	}
	var err error
	switch o.network {
	case "udp":
		r.pc, err = net.ListenPacket("udp", "127.0.0.1:0")
		if err == nil {
			r.Addr = r.pc.LocalAddr().String()
			r.wg.Add(1)
			go r.serveUDP()
		}
	case "tcp", "tls":
		r.ln, err = net.Listen("tcp", "127.0.0.1:0")
		if err == nil && o.network == "tls" {
			r.ln = tls.NewListener(r.ln, &tls.Config{Certificates: []tls.Certificate{*o.cert}, MinVersion: tls.VersionTLS12})
		}
		if err == nil {
			r.Addr = r.ln.Addr().String()
			r.wg.Add(1)
			go r.serveStream()
		}
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(r.close)
	return r
}

func (r *receiver) close() {
	close(r.done)
	if r.pc != nil {
		r.pc.Close()
	}
	if r.ln != nil {
		r.ln.Close()
	}
	r.mu.Lock()
	for _, c := range r.open {
		c.Close()
	}
	r.mu.Unlock()
	r.wg.Wait()
}

func (r *receiver) serveUDP() {
	defer r.wg.Done()
	buf := make([]byte, 65536)
	for {
		n, _, err := r.pc.ReadFrom(buf)
		if err != nil {
			return
		}
		r.take(append([]byte(nil), buf[:n]...), 0)
	}
}

func (r *receiver) serveStream() {
	defer r.wg.Done()
	for {
		c, err := r.ln.Accept()
		if err != nil {
			return
		}
		r.mu.Lock()
		r.conns++
		id := r.conns
		r.open = append(r.open, c)
		r.mu.Unlock()
		r.wg.Add(1)
		go func() {
			defer r.wg.Done()
			defer c.Close()
			if r.stall {
				<-r.done // read nothing until the test ends
				return
			}
			br := bufio.NewReader(c)
			for n := 1; ; n++ {
				msg, err := r.frame(br)
				if err != nil {
					if !errors.Is(err, io.EOF) && !errors.Is(err, net.ErrClosed) {
						r.fail("connection %d: %v", id, err)
					}
					return
				}
				r.take(msg, id)
				if r.closeAfter > 0 && n == r.closeAfter {
					return
				}
			}
		}()
	}
}

// frame reads one framed message from a stream.
func (r *receiver) frame(br *bufio.Reader) ([]byte, error) {
	if r.lf {
		line, err := br.ReadBytes('\n')
		if err != nil {
			if len(line) > 0 {
				return nil, fmt.Errorf("a message without its closing LF: %q", line)
			}
			return nil, err
		}
		return line[:len(line)-1], nil
	}
	// MSG-LEN = NONZERO-DIGIT 0*DIGIT, then SP.
	var digits []byte
	for {
		b, err := br.ReadByte()
		if err != nil {
			if len(digits) > 0 {
				return nil, fmt.Errorf("the stream ends inside MSG-LEN %q", digits)
			}
			return nil, err
		}
		if b == ' ' {
			break
		}
		if b < '0' || b > '9' || len(digits) == 0 && b == '0' || len(digits) > 9 {
			return nil, fmt.Errorf("octet counting: MSG-LEN %q followed by %q is not NONZERO-DIGIT *DIGIT SP", digits, b)
		}
		digits = append(digits, b)
	}
	if len(digits) == 0 {
		return nil, errors.New("octet counting: a frame starts with a space, no MSG-LEN")
	}
	n, _ := strconv.Atoi(string(digits))
	if n > r.max {
		return nil, fmt.Errorf("octet counting: MSG-LEN %d is larger than this server takes (%d)", n, r.max)
	}
	msg := make([]byte, n)
	if _, err := io.ReadFull(br, msg); err != nil {
		return nil, fmt.Errorf("octet counting: MSG-LEN says %d octets, the stream ended first: %v", n, err)
	}
	return msg, nil
}

// take parses one message and records it, or records why a strict server would refuse it.
func (r *receiver) take(raw []byte, conn int) {
	if len(raw) > r.max {
		r.fail("a %d-byte message, more than this server takes (%d)", len(raw), r.max)
		return
	}
	got := received{raw: raw, conn: conn}
	if r.format == "rfc3164" {
		m, err := rfc3164.NewParser(rfc3164.WithYear(rfc3164.CurrentYear{}), rfc3164.WithEmbeddedNewlines()).Parse(raw)
		if err != nil {
			r.fail("not RFC 3164: %v: %q", err, raw)
			return
		}
		got.bsd = m.(*rfc3164.SyslogMessage)
	} else {
		m, err := rfc5424.NewParser(rfc5424.WithCompliantMsg()).Parse(raw)
		if err != nil {
			r.fail("not RFC 5424: %v: %q", err, raw)
			return
		}
		got.m = m.(*rfc5424.SyslogMessage)
		if got.m.Version != 1 {
			r.fail("VERSION %d, want 1: %q", got.m.Version, raw)
			return
		}
	}
	r.mu.Lock()
	r.msgs = append(r.msgs, got)
	r.mu.Unlock()
}

func (r *receiver) fail(format string, args ...any) {
	r.mu.Lock()
	r.errs = append(r.errs, fmt.Sprintf(format, args...))
	r.mu.Unlock()
}

// wait returns the messages once n have arrived, failing the test on a refused one or after 10s.
func (r *receiver) wait(n int) []received {
	r.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		r.mu.Lock()
		msgs, errs, got := append([]received(nil), r.msgs...), r.errs, len(r.msgs)
		r.mu.Unlock()
		if len(errs) > 0 {
			r.t.Fatalf("the receiver refused what it got:\n%s", bytes.Join(toBytes(errs), []byte("\n")))
		}
		if got >= n {
			return msgs
		}
		if time.Now().After(deadline) {
			r.t.Fatalf("the receiver has %d messages after 10s, want %d", got, n)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func (r *receiver) connections() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.conns
}

func toBytes(ss []string) [][]byte {
	out := make([][]byte, len(ss))
	for i, s := range ss {
		out[i] = []byte(s)
	}
	return out
}

// sd returns the parameters of the structured data element id.
func sd(m *rfc5424.SyslogMessage, id string) map[string]string {
	if m.StructuredData == nil {
		return nil
	}
	return (*m.StructuredData)[id]
}

func str(p *string) string {
	if p == nil {
		return "<nil>"
	}
	return *p
}

// testCA is a CA and a certificate it signed for 127.0.0.1 and localhost, made for one test;
// the certificate and its key are in certFile and keyFile too.
type testCA struct {
	caFile, certFile, keyFile string
	cert                      tls.Certificate
}

func newTestCA(t testing.TB, dir, name string) testCA {
	t.Helper()
	caKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	caTmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: name + " test CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	caCert, _ := x509.ParseCertificate(caDER)
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "syslog"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		DNSNames: []string{"localhost"}, IPAddresses: []net.IP{net.ParseIP("127.0.0.1")},
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}, KeyUsage: x509.KeyUsageDigitalSignature,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, caCert, &key.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	ca := testCA{caFile: filepath.Join(dir, name+"-ca.pem"), certFile: filepath.Join(dir, name+"-cert.pem"), keyFile: filepath.Join(dir, name+"-key.pem"),
		cert: tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}}
	for file, block := range map[string]*pem.Block{
		ca.caFile:   {Type: "CERTIFICATE", Bytes: caDER},
		ca.certFile: {Type: "CERTIFICATE", Bytes: der},
		ca.keyFile:  {Type: "EC PRIVATE KEY", Bytes: keyDER},
	} {
		if err := os.WriteFile(file, pem.EncodeToMemory(block), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return ca
}

// Package httpx is the one HTTP path every HTTP sink posts through: a client with timeouts, TLS
// and proxy settings, a Do that always closes the reply, and one table that turns a reply into
// "delivered", "retry later" or "permanent", with every error scrubbed of secrets.
package httpx

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net"
	"net/http"
	"os"
	"slices"
	"time"

	"github.com/heraldproject/herald/common/uri"
)

// UserAgent is sent with every request unless the sink sets its own.
const UserAgent = "herald"

// Defaults for Options fields left zero.
const (
	DefaultTimeout     = 30 * time.Second
	DefaultDialTimeout = 10 * time.Second
	DefaultTLSTimeout  = 10 * time.Second
)

// Params are the HTTP parameters an HTTP sink declares next to its own.
var Params = []uri.Param{
	{Name: "timeout", Default: "30s", Example: "10s",
		Help: "longest time one request may take, from connecting to reading the reply; a request that takes longer is retried"},
	{Name: "ca_file", Aliases: []string{"cacert"}, Example: "/etc/herald/ca.crt",
		Help: "PEM file of CA certificates to trust for an https receiver, in addition to the system's"},
	{Name: "insecure_skip_verify", Aliases: []string{"insecuressl"}, Default: "false", Example: "true",
		Help: "do not verify the receiver's TLS certificate (for testing only: anyone on the path can read and change what herald sends)"},
	{Name: "redirects", Default: "none", Example: "same-host",
		Help: "none: a 3xx reply is an error naming where it points (write that URL instead), so the sink's headers and query (tokens) never go to another host; same-host: follow up to 5 redirects that stay on the same scheme, host and port, without a Referer"},
}

// TransportParams are Params without redirects, for sinks whose client library builds the
// requests on NewTransport and never follows a redirect (elasticsearch, influxdb).
var TransportParams = slices.DeleteFunc(slices.Clone(Params), func(p uri.Param) bool { return p.Name == "redirects" })

// Redirect policies.
const (
	RedirectsNone     = "none"
	RedirectsSameHost = "same-host"
)

// Options configure a Client. Proxies come from the environment (HTTPS_PROXY, HTTP_PROXY,
// NO_PROXY), as for every Go program.
type Options struct {
	// Timeout bounds one request, reply included (default DefaultTimeout).
	Timeout time.Duration
	// DialTimeout bounds the TCP connect; TLSHandshakeTimeout the TLS handshake;
	// ResponseHeaderTimeout the wait for the reply's headers once the request is written
	// (defaults: DefaultDialTimeout, DefaultTLSTimeout, Timeout).
	DialTimeout           time.Duration
	TLSHandshakeTimeout   time.Duration
	ResponseHeaderTimeout time.Duration
	// CAFile is a PEM file of extra CA certificates to trust.
	CAFile string
	// InsecureSkipVerify turns off certificate verification.
	InsecureSkipVerify bool
	// Redirects is RedirectsNone (the default: a 3xx reply is a permanent error) or
	// RedirectsSameHost.
	Redirects string
	// Secrets are scrubbed from every error besides those the request itself carries (a
	// signing secret that a receiver might echo).
	Secrets []string
	// Now is the clock used to read an HTTP-date Retry-After (default time.Now).
	Now func() time.Time
}

// OptionsFromParams reads Params; errors are recorded in p.
func OptionsFromParams(p *uri.Params) Options {
	o := Options{
		Timeout:            p.Duration("timeout"),
		CAFile:             p.String("ca_file"),
		InsecureSkipVerify: p.Bool("insecure_skip_verify"),
	}
	if p.IsDeclared("redirects") { // not by sinks whose transport never follows one
		o.Redirects = p.OneOf("redirects", RedirectsNone, RedirectsSameHost)
	}
	if p.Has("timeout") && o.Timeout == 0 {
		p.Errorf("timeout", `write a positive duration such as "30s"`, "a zero timeout would let a stuck receiver hold the sink forever")
	}
	return o
}

// Client sends requests for one sink. It is safe for concurrent use.
type Client struct {
	http    *http.Client
	timeout time.Duration
	secrets []string
	now     func() time.Time
}

// NewClient builds a Client. Its errors name the parameter; the registry names the sink.
func NewClient(o Options) (*Client, error) {
	if o.Timeout <= 0 {
		o.Timeout = DefaultTimeout
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	transport, err := NewTransport(o)
	if err != nil {
		return nil, err
	}
	return &Client{
		http:    &http.Client{Transport: transport, CheckRedirect: CheckRedirect(o.Redirects)},
		timeout: o.Timeout,
		secrets: o.Secrets,
		now:     o.Now,
	}, nil
}

// NewTransport is the transport every HTTP sink uses, for sinks whose client library takes a
// transport (elasticsearch, influxdb): TLS 1.2 or later with CAFile's certificates besides the
// system's, the dial, handshake and reply-header timeouts of o, proxies from the environment.
func NewTransport(o Options) (*http.Transport, error) {
	if o.Timeout <= 0 {
		o.Timeout = DefaultTimeout
	}
	if o.DialTimeout <= 0 {
		o.DialTimeout = DefaultDialTimeout
	}
	if o.TLSHandshakeTimeout <= 0 {
		o.TLSHandshakeTimeout = DefaultTLSTimeout
	}
	if o.ResponseHeaderTimeout <= 0 {
		o.ResponseHeaderTimeout = o.Timeout
	}
	tlsConfig := &tls.Config{
		MinVersion:         tls.VersionTLS12,
		InsecureSkipVerify: o.InsecureSkipVerify, //nolint:gosec // the user asked for it, and the docs say what it costs
	}
	if o.CAFile != "" {
		pool, err := caPool(o.CAFile)
		if err != nil {
			return nil, fmt.Errorf("parameter \"ca_file\" (or \"cacert\"): %v; give a readable PEM file of CA certificates", err)
		}
		tlsConfig.RootCAs = pool
	}
	dialer := &net.Dialer{Timeout: o.DialTimeout, KeepAlive: 30 * time.Second}
	transport := &http.Transport{
		Proxy:                 http.ProxyFromEnvironment,
		DialContext:           dialer.DialContext,
		TLSClientConfig:       tlsConfig,
		TLSHandshakeTimeout:   o.TLSHandshakeTimeout,
		ResponseHeaderTimeout: o.ResponseHeaderTimeout,
		ExpectContinueTimeout: time.Second,
		ForceAttemptHTTP2:     true,
		MaxIdleConns:          64,
		MaxIdleConnsPerHost:   16, // up to a sink's concurrency= lanes, reused
		IdleConnTimeout:       90 * time.Second,
	}
	return transport, nil
}

// CheckRedirect is the http.Client redirect policy for policy (RedirectsNone when empty): none
// hands the 3xx reply back to the caller; same-host follows up to 5 redirects on the first
// request's scheme, host and port, without a Referer. Go would otherwise forward the sink's own
// headers (X-Api-Key, a custom Authorization) to another host and put the URL, with its token,
// in the Referer.
func CheckRedirect(policy string) func(*http.Request, []*http.Request) error {
	return func(req *http.Request, via []*http.Request) error {
		if policy != RedirectsSameHost {
			return http.ErrUseLastResponse
		}
		first := via[0].URL
		if req.URL.Scheme != first.Scheme || req.URL.Host != first.Host || len(via) > 5 {
			return http.ErrUseLastResponse
		}
		req.Header.Del("Referer")
		return nil
	}
}

// Close releases idle connections.
func (c *Client) Close() {
	c.http.CloseIdleConnections()
}

// caPool returns the system pool plus the certificates in file.
func caPool(file string) (*x509.CertPool, error) {
	pem, err := os.ReadFile(file)
	if err != nil {
		return nil, err
	}
	pool, err := x509.SystemCertPool()
	if err != nil || pool == nil {
		pool = x509.NewCertPool()
	}
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("%s holds no PEM certificate", file)
	}
	return pool, nil
}

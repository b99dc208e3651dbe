package syslog

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/heraldproject/herald/common/template"
	"github.com/heraldproject/herald/common/uri"
	"github.com/heraldproject/herald/sinks"
)

// Networks, formats, framings and hostname sources: the accepted values of their parameters.
const (
	NetworkUDP = "udp"
	NetworkTCP = "tcp"
	NetworkTLS = "tls"

	FormatRFC5424 = "rfc5424"
	FormatRFC3164 = "rfc3164"

	FramingOctetCounting = "octet-counting"
	FramingLF            = "lf"

	HostnameSource  = "source"
	HostnameCluster = "cluster"
)

// Defaults.
const (
	DefaultTag  = "herald"
	DefaultSDID = "k8s@32473"
	// DefaultFacility is local0, as kubernetes-event-exporter's syslog receiver sends: rules
	// written for it keep matching. local0-7 are for the site's own use; daemon is for the
	// host's daemons, which herald's events are not about.
	DefaultFacility = 16
	// MaxUDPMessageSize and MaxUDP3164Size bound a datagram: RFC 5426 asks every receiver to
	// take 2048 octets, RFC 3164 allows 1024. MaxStreamMessageSize bounds a TCP or TLS message:
	// RFC 5425 asks receivers to take 8192 (rsyslog's default limit too).
	MaxUDPMessageSize     = 2048
	MaxUDP3164Size        = 1024
	MaxStreamMessageSize  = 8192
	DefaultPortUDPAndTCP  = "514"
	DefaultPortTLS        = "6514"
	defaultTimeout        = 10 * time.Second
	minMessageSize        = 480   // RFC 5426: every IPv4 receiver takes this much
	maxDatagram           = 65507 // the largest UDP payload over IPv4
	maxStreamMessageLimit = 1 << 20
)

// Facilities are the facility names RFC 5424 (Table 1) and the syslog tools use, by code.
var Facilities = []string{
	"kern", "user", "mail", "daemon", "auth", "syslog", "lpr", "news", "uucp", "cron",
	"authpriv", "ftp", "ntp", "audit", "alert", "clock",
	"local0", "local1", "local2", "local3", "local4", "local5", "local6", "local7",
}

// Params are the syslog sink's own parameters. network, tag and the target's address are
// kubernetes-event-exporter's syslog receiver fields.
var Params = slices.Concat([]uri.Param{
	{Name: "network", Default: NetworkUDP, Example: NetworkTLS,
		Help: `transport: "udp" (RFC 5426, one message per datagram, no delivery confirmation), "tcp" (RFC 6587) or "tls" (RFC 5425); the port defaults to 514 (udp, tcp) or 6514 (tls)`},
	{Name: "format", Default: FormatRFC5424, Example: FormatRFC3164,
		Help: `"rfc5424" (structured data with the involved object, MSGID = reason, the event's time to the microsecond) or "rfc3164" (BSD syslog: "<PRI>Mmm dd hh:mm:ss HOST TAG: MSG", the object and reason written into MSG)`},
	{Name: "framing", Default: FramingOctetCounting, Example: FramingLF,
		Help: `how messages are delimited on tcp and tls: "octet-counting" (RFC 6587 3.4.1: the length, a space, the message; line breaks in the message kept) or "lf" (one message per line, for receivers that only split on newlines; line breaks in the message written as \n)`},
	{Name: "facility", Default: "local0", Example: "daemon",
		Help: "syslog facility: " + strings.Join(Facilities, ", ") + ", or its number 0-23"},
	{Name: "tag", Default: DefaultTag, Example: "k8s-events",
		Help: "APP-NAME (rfc5424) or TAG (rfc3164): up to 48 printable ASCII characters (32 for rfc3164), no space, ':' or brackets"},
	{Name: "hostname", Default: HostnameSource, Example: HostnameCluster,
		Help: `HOSTNAME: "source" (the node that reported the event, else --cluster-name) or "cluster" (--cluster-name, for a receiver that files messages by cluster)`},
	{Name: "sd_id", Default: DefaultSDID, Example: "k8s@12345",
		Help: "rfc5424 structured data ID of the involved object's element, NAME@PEN: RFC 5424 reserves names without '@' for IANA. The default's 32473 is the number RFC 5612 sets aside for documentation; a site with its own Private Enterprise Number writes it here. Restart details go in restart@PEN"},
	{Name: "max_message_size", Example: "4096",
		Help: "longest message in bytes (without the tcp/tls length prefix); a longer MSG is cut at a UTF-8 boundary and ends in ...[truncated]. Default: 2048 over udp (RFC 5426), 1024 over udp with rfc3164, 8192 over tcp and tls (RFC 5425)"},
	{Name: "timeout", Default: "10s", Example: "5s",
		Help: "longest time to connect (TLS handshake included) or to write a batch; a receiver that stops reading is an outage after it, not a hang"},
	{Name: "ca_file", Aliases: []string{"cacert"}, Example: "/etc/herald/syslog-ca.crt",
		Help: "PEM file of CA certificates to trust for network=tls, in addition to the system's"},
	{Name: "cert_file", Example: "/etc/herald/client.crt",
		Help: "client certificate (PEM) for network=tls, for receivers that authenticate senders; needs key_file"},
	{Name: "key_file", Example: "/etc/herald/client.key",
		Help: "the client certificate's private key (PEM); needs cert_file"},
	{Name: "insecure_skip_verify", Aliases: []string{"insecuressl"}, Default: "false", Example: "true",
		Help: "do not verify the receiver's TLS certificate (for testing only: anyone on the path can read and change what herald sends)"},
}, template.Params)

// Config is a syslog sink's configuration, parsed from its --sink value.
type Config struct {
	// ID names the sink in logs and metrics.
	ID string
	// Network is NetworkUDP, NetworkTCP or NetworkTLS; Address is host:port.
	Network, Address string
	// Format is FormatRFC5424 or FormatRFC3164; Framing (tcp, tls) FramingOctetCounting or
	// FramingLF.
	Format, Framing string
	// Facility is the facility code, 0-23.
	Facility int
	// Tag is APP-NAME (rfc5424) or TAG (rfc3164).
	Tag string
	// Hostname is HostnameSource or HostnameCluster.
	Hostname string
	// SDID names the object's structured data element; RestartSDID the restart's.
	SDID, RestartSDID string
	// Template renders MSG; nil sends the event's message.
	Template *template.Options
	// MaxMessageSize bounds one message in bytes.
	MaxMessageSize int
	// Timeout bounds a connect (handshake included) and a batch's write.
	Timeout time.Duration
	// TLS is set for network=tls.
	TLS *tls.Config
	// Cluster is --cluster-name; Location is --timezone, for rfc3164's local timestamp.
	Cluster  string
	Location *time.Location
}

// ParseConfig reads a syslog --sink value: syslog://HOST[:PORT]?network=...
func ParseConfig(t sinks.Target, env sinks.Env) (*Config, error) {
	p := t.Params
	c := &Config{ID: t.ID, Cluster: env.Cluster, Location: env.Location}
	if c.Location == nil {
		c.Location = time.UTC
	}
	c.Network = p.OneOf("network", NetworkUDP, NetworkTCP, NetworkTLS)
	c.Format = p.OneOf("format", FormatRFC5424, FormatRFC3164)
	c.Framing = p.OneOf("framing", FramingOctetCounting, FramingLF)
	if c.Network == NetworkUDP && p.Has("framing") {
		p.Errorf("framing", "remove framing, or use network=tcp or tls", "framing applies to tcp and tls; udp carries one message per datagram")
	}
	c.Facility = facility(p)
	c.Tag = p.String("tag")
	checkTag(p, c.Tag, c.Format)
	c.Hostname = p.OneOf("hostname", HostnameSource, HostnameCluster)
	if c.Hostname == HostnameCluster && env.Cluster == "" {
		p.Errorf("hostname", "set --cluster-name, or leave hostname out for the event's node", "hostname=cluster, but herald runs without --cluster-name")
	}
	c.SDID, c.RestartSDID = sdID(p)
	c.MaxMessageSize = messageSize(p, c.Network, c.Format)
	c.Timeout = p.Duration("timeout")
	if p.Has("timeout") && c.Timeout <= 0 {
		p.Errorf("timeout", `write a positive duration such as "10s"`, "a zero timeout would let a stuck receiver hold the sink forever")
	}
	if c.Timeout <= 0 {
		c.Timeout = defaultTimeout
	}
	tlsConf := tlsConfig(p, c.Network)
	o := template.FromParams(p, template.Options{
		Owner:    p.Owner(),
		SinkID:   t.ID,
		Location: env.Location,
		Kube:     env.Kube,
		Metrics:  env.TemplateMetrics,
		Now:      env.Clock(),
		MaxBytes: maxStreamMessageLimit,
	})
	if o.Inline != "" || o.ConfigMapName != "" {
		c.Template = &o
	}
	if err := p.Err(); err != nil {
		return nil, err
	}
	host, addr, err := address(t.URL, c.Network)
	if err != nil {
		return nil, err // the registry puts the sink's name in front
	}
	c.Address = addr
	if tlsConf != nil {
		// A name or an IP address: crypto/tls checks it against the certificate's DNS or IP
		// names (and sends SNI only for a name).
		tlsConf.ServerName = host
		c.TLS = tlsConf
	}
	return c, nil
}

// address reads HOST[:PORT] from the target, syslog://HOST:PORT; its errors never quote the
// target.
func address(u *url.URL, network string) (host, addr string, err error) {
	const fix = "write the receiver as syslog://HOST:PORT, e.g. syslog://rsyslog.logging:514?network=tcp"
	switch {
	case u == nil || u.Host == "" && u.Opaque == "" && u.Path == "":
		return "", "", fmt.Errorf("no receiver given; %s", fix)
	case u.Host == "":
		return "", "", fmt.Errorf("the target is no //HOST:PORT; %s", fix)
	case u.User != nil:
		return "", "", fmt.Errorf("syslog has no user or password; remove USER@ from the target; %s", fix)
	case strings.Trim(u.Path, "/") != "":
		return "", "", fmt.Errorf("syslog takes no path after HOST:PORT; %s", fix)
	}
	host, port := u.Hostname(), u.Port()
	if host == "" {
		return "", "", fmt.Errorf("no host given; %s", fix)
	}
	if port == "" {
		port = DefaultPortUDPAndTCP
		if network == NetworkTLS {
			port = DefaultPortTLS
		}
	}
	if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
		return "", "", fmt.Errorf("port %q is not a number from 1 to 65535; %s", port, fix)
	}
	return host, net.JoinHostPort(host, port), nil
}

func facility(p *uri.Params) int {
	s := strings.ToLower(p.String("facility"))
	if i := slices.Index(Facilities, s); i >= 0 {
		return i
	}
	if n, err := strconv.Atoi(s); err == nil && n >= 0 && n <= 23 {
		return n
	}
	p.Errorf("facility", "write one of "+strings.Join(Facilities, ", ")+" or a number from 0 to 23"+suggestion(s, Facilities), "%q is not a syslog facility", s)
	return DefaultFacility
}

func suggestion(s string, list []string) string {
	if n := uri.Nearest(s, list); n != "" {
		return fmt.Sprintf(` (did you mean %q?)`, n)
	}
	return ""
}

// checkTag accepts an APP-NAME of 1-48 printable ASCII characters (RFC 5424), and for rfc3164
// a TAG of at most 32; ':' and brackets are refused in both, since rfc3164 receivers read them
// as the end of the tag.
func checkTag(p *uri.Params, tag, format string) {
	limit := 48
	if format == FormatRFC3164 {
		limit = 32
	}
	const fix = "write a name of printable ASCII characters without space, ':' or brackets, such as herald"
	switch {
	case tag == "":
		p.Errorf("tag", fix, "empty tag")
	case len(tag) > limit:
		p.Errorf("tag", fix, "%q is %d characters; %s allows %d", tag, len(tag), format, limit)
	case strings.IndexFunc(tag, func(r rune) bool { return r < 33 || r > 126 || r == ':' || r == '[' || r == ']' }) >= 0:
		p.Errorf("tag", fix, "%q holds a character syslog does not allow there", tag)
	}
}

// sdID reads sd_id: SD-NAME@PEN, an SD-NAME being 1-32 printable ASCII characters but '=', space,
// ']' and '"'.
func sdID(p *uri.Params) (id, restart string) {
	id = p.String("sd_id")
	name, pen, ok := strings.Cut(id, "@")
	const fix = "write NAME@NUMBER with your Private Enterprise Number, or leave sd_id out for k8s@32473"
	switch {
	case !ok:
		p.Errorf("sd_id", fix, "%q has no @PEN; RFC 5424 reserves names without '@' for IANA", id)
	case !sdName(name) || len(id) > 32:
		p.Errorf("sd_id", fix, "%q is not a structured data ID (1-32 printable ASCII characters, no '=', space, ']' or '\"')", id)
	case pen == "" || strings.Trim(pen, "0123456789.") != "" || pen[0] == '.' || pen[0] == '0':
		p.Errorf("sd_id", fix, "%q: %q is not a Private Enterprise Number", id, pen)
	default:
		return id, "restart@" + pen
	}
	return DefaultSDID, "restart@32473"
}

func sdName(s string) bool {
	return s != "" && len(s) <= 32 && strings.IndexFunc(s, func(r rune) bool {
		return r < 33 || r > 126 || r == '=' || r == ']' || r == '"'
	}) < 0
}

func messageSize(p *uri.Params, network, format string) int {
	switch {
	case p.Has("max_message_size") && network == NetworkUDP:
		return p.Int("max_message_size", minMessageSize, maxDatagram)
	case p.Has("max_message_size"):
		return p.Int("max_message_size", minMessageSize, maxStreamMessageLimit)
	case network != NetworkUDP:
		return MaxStreamMessageSize
	case format == FormatRFC3164:
		return MaxUDP3164Size
	}
	return MaxUDPMessageSize
}

// tlsConfig builds the TLS configuration for network=tls: TLS 1.2 or later, the system's CAs
// and ca_file's, a client certificate when given. The TLS parameters without network=tls are an
// error: they would do nothing.
func tlsConfig(p *uri.Params, network string) *tls.Config {
	caFile, certFile, keyFile := p.String("ca_file"), p.String("cert_file"), p.String("key_file")
	insecure := p.Bool("insecure_skip_verify")
	if network != NetworkTLS {
		for _, name := range []string{"ca_file", "cert_file", "key_file", "insecure_skip_verify"} {
			if p.Has(name) {
				p.Errorf(name, "add network=tls, or remove "+name, "applies only to network=tls")
			}
		}
		return nil
	}
	c := &tls.Config{MinVersion: tls.VersionTLS12, InsecureSkipVerify: insecure} //nolint:gosec // the user asked for it
	if caFile != "" {
		pem, err := readPEM(caFile)
		if err != nil {
			p.Errorf("ca_file", "mount the CA file and give its path", "cannot read it: %v", err)
			return nil
		}
		pool, err := x509.SystemCertPool()
		if err != nil || pool == nil {
			pool = x509.NewCertPool()
		}
		if !pool.AppendCertsFromPEM(pem) {
			p.Errorf("ca_file", "give a PEM file with CERTIFICATE blocks", "%s holds no PEM certificate", caFile)
			return nil
		}
		c.RootCAs = pool
	}
	if (certFile == "") != (keyFile == "") {
		p.Errorf("cert_file", "give both cert_file and key_file, or neither", "a client certificate needs its key, and the key its certificate")
		return nil
	}
	if certFile != "" {
		pair, err := tls.LoadX509KeyPair(certFile, keyFile)
		if err != nil {
			p.Errorf("cert_file", "give a PEM certificate and its matching private key", "cannot load the key pair: %v", err)
			return nil
		}
		c.Certificates = []tls.Certificate{pair}
	}
	return c
}

// readPEM reads a PEM file of at most 4 MiB (a CA bundle is far smaller); a device or a pipe is
// refused rather than read forever.
func readPEM(name string) ([]byte, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if !info.Mode().IsRegular() {
		return nil, fmt.Errorf("%s is not a regular file", name)
	}
	b, err := io.ReadAll(io.LimitReader(f, 4<<20+1))
	if err == nil && len(b) > 4<<20 {
		err = fmt.Errorf("%s is larger than 4 MiB", name)
	}
	return b, err
}

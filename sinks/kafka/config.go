package kafka

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/IBM/sarama"

	"github.com/heraldproject/herald/common/redact"
	"github.com/heraldproject/herald/common/uri"
	"github.com/heraldproject/herald/sinks"
)

// Params are the kafka sink's parameters: kube-eventer's (brokers, eventstopic, timeseriestopic,
// compression, user, password, cacert, cert, key, insecuressl), read as its code reads them, plus
// mechanism, tls, acks, format and version. cacert and insecuressl are also read as ca_file and
// insecure_skip_verify, the names herald's other sinks give them, so one spelling works on every
// sink.
var Params = []uri.Param{
	{Name: "brokers", Repeatable: true, Example: "kafka-0.kafka:9092",
		Help: "a broker to bootstrap from, host:port; repeat it (brokers=a:9092&brokers=b:9092) or separate with commas"},
	{Name: "eventstopic", Default: "heapster-events", Example: "k8s-events",
		Help: "the topic events are written to (kube-eventer's default, heapster-events)"},
	{Name: "timeseriestopic", Example: "heapster-metrics",
		Help: "accepted as kube-eventer accepts it, without effect: it named heapster's metrics topic, and kube-eventer's event sink wrote to eventstopic all the same (herald warns)"},
	{Name: "topic", Example: "k8s-events",
		Help: "not a kube-eventer parameter: with brokers= it is ignored as kube-eventer ignored it (herald warns); in the form kafka:HOST:9092,HOST:9092?topic=T, which kube-eventer refused, it names the topic"},
	{Name: "compression", Default: "none", Example: "zstd",
		Help: "record compression: none, gzip, snappy, lz4 or zstd (zstd needs version 2.1.0 or later)"},
	{Name: "user", Example: "herald",
		Help: "SASL user name; needs password (PLAIN unless mechanism says otherwise)"},
	{Name: "password", Secret: true, Example: "${KAFKA_PASSWORD}",
		Help: "SASL password; write ${ENV} and set the variable from a Secret"},
	{Name: "mechanism", Default: "PLAIN", Example: "SCRAM-SHA-512",
		Help: "SASL mechanism with user/password: PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512"},
	{Name: "cacert", Aliases: []string{"ca_file"}, Example: "/etc/kafka/ca.pem",
		Help: "file with the CA certificate(s) that signed the brokers' certificates; turns TLS on"},
	{Name: "cert", Example: "/etc/kafka/client.pem",
		Help: "client certificate file for mutual TLS; needs key; turns TLS on"},
	{Name: "key", Example: "/etc/kafka/client-key.pem",
		Help: "client private key file for mutual TLS; needs cert"},
	{Name: "insecuressl", Aliases: []string{"insecure_skip_verify"}, Default: "false", Example: "true",
		Help: "skip verifying the brokers' certificates (TLS still encrypts); as in kube-eventer it applies only when TLS is on"},
	{Name: "tls", Default: "false", Example: "true",
		Help: "use TLS with the system's CA certificates (cacert, cert and key turn TLS on by themselves)"},
	{Name: "acks", Default: "all", Example: "1",
		Help: `acknowledgement required for a record to count as delivered: "all" (every in-sync replica), "1" (the partition leader) or "0" (none: fire and forget)`},
	{Name: "format", Default: "kube-eventer", Example: "herald",
		Help: `record value: "kube-eventer" (kube-eventer's record, field for field, so its consumers keep working) or "herald" (herald's richer JSON, schema herald.event/v1, with cluster and restart details; see docs/sinks/kafka.md)`},
	{Name: "version", Default: sarama.DefaultVersion.String(), Example: "3.6.0",
		Help: "Kafka protocol version to speak (the brokers' version or older; at least 0.11.0 for record headers)"},
}

// Format names a record value layout.
type Format string

// The record value layouts.
const (
	FormatHerald      Format = "herald"
	FormatKubeEventer Format = "kube-eventer"
)

// Config is the kafka sink's parsed configuration.
type Config struct {
	// ID names the sink in logs and metrics (sinks.Target.ID).
	ID          string
	Brokers     []string
	Topic       string
	Compression sarama.CompressionCodec
	Acks        sarama.RequiredAcks
	Format      Format
	Version     sarama.KafkaVersion

	User      string
	Password  redact.Secret
	Mechanism string

	// TLS is nil when TLS is off.
	TLS *tls.Config
}

// ParseConfig reads the sink's parameters; the Config is returned only when every one is
// valid (t.Params.Err reports them all, each with its fix).
func ParseConfig(t sinks.Target, env sinks.Env) (*Config, error) {
	c := readConfig(t, env)
	if err := t.Params.Err(); err != nil {
		return nil, err
	}
	c.ID = t.ID
	return c, nil
}

// readConfig reads the sink's parameters. Problems are recorded in p (p.Err reports them all);
// the returned Config is meaningful only when p.Err is nil.
func readConfig(t sinks.Target, _ sinks.Env) *Config {
	p := t.Params
	c := &Config{
		Brokers: p.List("brokers"),
		Topic:   p.String("eventstopic"),
		Format:  Format(p.OneOf("format", string(FormatKubeEventer), string(FormatHerald))),
	}
	if p.Has("timeseriestopic") {
		p.Warnf("timeseriestopic", "kube-eventer's event sink ignored it (it named heapster's metrics topic) and wrote events to eventstopic; herald does the same and writes to %q; remove timeseriestopic, or write eventstopic=%s if that is where events should go",
			c.Topic, p.String("timeseriestopic"))
	}
	target := targetText(t.URL)
	switch {
	case len(c.Brokers) == 0 && target != "":
		// kafka:HOST:9092,HOST:9092?topic=T: kube-eventer read brokers only from brokers= and
		// refused this form; herald reads what it evidently means, and says so.
		for _, b := range strings.Split(target, ",") {
			if b = strings.Trim(strings.TrimSpace(b), "/"); b != "" {
				c.Brokers = append(c.Brokers, b)
			}
		}
		p.Warnf("brokers", "kube-eventer reads brokers only from brokers= and refused to start without it; herald takes the brokers from the target (%s); write kafka:?brokers=HOST:9092&eventstopic=TOPIC", strings.Join(c.Brokers, ","))
		if topic := p.String("topic"); topic != "" && !p.Has("eventstopic") {
			c.Topic = topic
			p.Warnf("topic", "not a kube-eventer parameter; in this form herald takes it as the topic (%q); write eventstopic=%s", topic, topic)
		}
	case target != "":
		p.Warnf("brokers", "kube-eventer ignored the target before '?' (%s) and used brokers=; herald does the same; write kafka:?brokers=...", redact.Text(target))
		fallthrough
	default:
		if p.Has("topic") {
			p.Warnf("topic", "kube-eventer ignored it and wrote to eventstopic; herald does the same and writes to %q; write eventstopic=%s if that is where events should go", c.Topic, p.String("topic"))
		}
	}
	if len(c.Brokers) == 0 {
		p.Errorf("brokers", "add brokers=HOST:9092 (repeat it for several brokers)", "no broker given")
	}
	if c.Topic == "" {
		p.Errorf("eventstopic", "name a topic, or leave eventstopic out for heapster-events", "empty topic")
	}

	switch p.OneOf("compression", "none", "gzip", "snappy", "lz4", "zstd") {
	case "gzip":
		c.Compression = sarama.CompressionGZIP
	case "snappy":
		c.Compression = sarama.CompressionSnappy
	case "lz4":
		c.Compression = sarama.CompressionLZ4
	case "zstd":
		c.Compression = sarama.CompressionZSTD
	default:
		c.Compression = sarama.CompressionNone
	}

	switch p.OneOf("acks", "all", "1", "0", "-1") {
	case "1":
		c.Acks = sarama.WaitForLocal
	case "0":
		c.Acks = sarama.NoResponse
	default:
		c.Acks = sarama.WaitForAll
	}

	v, err := sarama.ParseKafkaVersion(p.String("version"))
	switch {
	case err != nil:
		p.Errorf("version", "write a Kafka version such as 2.8.0 or 3.6.0", "%v", err)
	case !v.IsAtLeast(sarama.V0_11_0_0):
		p.Errorf("version", "write 0.11.0 or later", "%s cannot carry record headers (type, reason)", v)
	case c.Compression == sarama.CompressionZSTD && !v.IsAtLeast(sarama.V2_1_0_0):
		p.Errorf("compression", "set version=2.1.0 or later, or choose another codec", "zstd needs Kafka protocol 2.1.0 or later (version is %s)", v)
	}
	c.Version = v

	c.User = p.String("user")
	c.Password = redact.Secret(p.String("password"))
	c.Mechanism = p.OneOf("mechanism", sarama.SASLTypePlaintext, sarama.SASLTypeSCRAMSHA256, sarama.SASLTypeSCRAMSHA512)
	switch {
	case c.User != "" && c.Password == "":
		// kube-eventer turned SASL on only with both; alone, it connected without SASL.
		p.Warnf("user", "given without password=: kube-eventer connected without SASL, and so does herald; add password=${ENV} to authenticate")
		c.User = ""
	case c.User == "" && c.Password != "":
		p.Warnf("password", "given without user=: kube-eventer connected without SASL, and so does herald; add user=NAME to authenticate")
		c.Password = ""
	}
	if c.User == "" && p.Has("mechanism") {
		p.Errorf("mechanism", "add user= and password=, or remove mechanism", "a SASL mechanism without user and password")
	}

	c.TLS = parseTLS(p)
	if c.User != "" && c.TLS == nil && c.Mechanism == sarama.SASLTypePlaintext {
		// kube-eventer did the same without a word.
		p.Warnf("password", "SASL PLAIN without TLS sends the password in clear text to every broker; add tls=true (or cacert=) for a TLS listener, or mechanism=SCRAM-SHA-512")
	}
	return c
}

// targetText is what the --sink value holds between "kafka:" and '?'.
func targetText(u *url.URL) string {
	switch {
	case u.Opaque != "" && u.Scheme != "":
		return u.Scheme + ":" + u.Opaque // kafka:HOST:9092,... parses as scheme HOST
	case u.Opaque != "":
		return u.Opaque
	}
	s := u.Host + u.Path
	if u.Scheme != "" && u.Host != "" {
		s = u.Host + strings.TrimRight(u.Path, "/")
	}
	return strings.Trim(s, "/")
}

// parseTLS builds the TLS configuration, as kube-eventer's getTlsConfiguration decides it: on
// when cacert, or cert together with key, is given (or herald's tls=true). A cert without its key
// (or the reverse) was ignored by kube-eventer, and is by herald, with a warning; so is
// insecuressl without TLS.
func parseTLS(p *uri.Params) *tls.Config {
	cacert, cert, key := p.String("cacert"), p.String("cert"), p.String("key")
	insecure, on := p.Bool("insecuressl"), p.Bool("tls")
	if (cert == "") != (key == "") {
		name, other := "cert", "key"
		if cert == "" {
			name, other = "key", "cert"
		}
		p.Warnf(name, "given without %s=: kube-eventer ignored it (no client certificate), and so does herald; give both cert= and key= for mutual TLS", other)
		cert, key = "", ""
	}
	if cacert == "" && cert == "" && !on {
		if insecure {
			p.Warnf("insecuressl", "has no effect without cacert, cert/key or tls=true: kube-eventer then connected in plaintext, and so does herald; add tls=true to use TLS without verifying the brokers")
		}
		return nil
	}
	t := &tls.Config{InsecureSkipVerify: insecure, MinVersion: tls.VersionTLS12} //nolint:gosec // the user asked for it
	if cacert != "" {
		pem, err := os.ReadFile(cacert)
		if err != nil {
			p.Errorf("cacert", "mount the CA file and give its path", "cannot read: %v", err)
			return nil
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			p.Errorf("cacert", "give a PEM file with CERTIFICATE blocks", "%s holds no PEM certificate", cacert)
			return nil
		}
		t.RootCAs = pool
	}
	if cert != "" {
		pair, err := tls.LoadX509KeyPair(cert, key)
		if err != nil {
			p.Errorf("cert", "give a PEM certificate and its matching private key", "cannot load the key pair: %v", err)
			return nil
		}
		t.Certificates = []tls.Certificate{pair}
	}
	return t
}

// saramaConfig turns a Config into sarama's. Export makes one attempt per batch: sarama's own
// retries are kept small, and the pipeline's backoff does the rest.
func (c *Config) saramaConfig() (*sarama.Config, error) {
	s := sarama.NewConfig()
	s.ClientID = "herald"
	s.Version = c.Version

	s.Net.DialTimeout = 10 * time.Second
	s.Net.ReadTimeout = 30 * time.Second
	s.Net.WriteTimeout = 30 * time.Second
	// One request in flight per broker, so a retried request cannot overtake a later one: records
	// with one key stay in order.
	s.Net.MaxOpenRequests = 1

	s.Metadata.Retry.Max = 1
	s.Metadata.Retry.Backoff = 250 * time.Millisecond
	s.Metadata.Full = false

	s.Producer.Return.Successes = true
	s.Producer.Return.Errors = true
	s.Producer.RequiredAcks = c.Acks
	s.Producer.Timeout = 10 * time.Second
	s.Producer.Retry.Max = 2
	s.Producer.Retry.Backoff = 100 * time.Millisecond
	s.Producer.Compression = c.Compression
	s.Producer.Partitioner = sarama.NewHashPartitioner
	// With acks=all on Kafka 0.11 and later, sarama's own retries are idempotent: a produce
	// request retried after a lost reply is not written twice.
	if c.Acks == sarama.WaitForAll && c.Version.IsAtLeast(sarama.V0_11_0_0) {
		s.Producer.Idempotent = true
	}

	if c.TLS != nil {
		s.Net.TLS.Enable = true
		s.Net.TLS.Config = c.TLS
	}
	if c.User != "" {
		s.Net.SASL.Enable = true
		s.Net.SASL.Handshake = true
		s.Net.SASL.User = c.User
		s.Net.SASL.Password = c.Password.Reveal()
		s.Net.SASL.Mechanism = sarama.SASLMechanism(c.Mechanism)
		switch c.Mechanism {
		case sarama.SASLTypeSCRAMSHA256:
			s.Net.SASL.SCRAMClientGeneratorFunc = newSCRAMClient(scramSHA256)
		case sarama.SASLTypeSCRAMSHA512:
			s.Net.SASL.SCRAMClientGeneratorFunc = newSCRAMClient(scramSHA512)
		}
	}
	if err := s.Validate(); err != nil {
		return nil, fmt.Errorf("the producer settings are invalid (%v); check acks, compression and version", err)
	}
	return s, nil
}

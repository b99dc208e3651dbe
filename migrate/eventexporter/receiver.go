package eventexporter

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/textproto"
	"net/url"
	"os"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/heraldproject/herald/common/redact"
	"github.com/heraldproject/herald/common/uri"
	"github.com/heraldproject/herald/sinks"
)

// param is one URI parameter of a --sink value.
type param struct {
	name, value string
	// file: a path in the exporter's pod (a CA or client certificate). herald reads it at start,
	// so the check herald migrate runs here leaves it out.
	file bool
}

// sinkSpec is one --sink value being built from an exporter receiver.
type sinkSpec struct {
	receiver string
	from     string // receivers[i].<type>, for messages
	scheme   string
	target   string // the part after "scheme:", before '?'; may hold its own query
	pathRef  string // the ${NAME} a chat webhook URL's token path moved to
	params   []param
	// layout is the path of a webhook layout turned into body_template ("" if none), so a
	// template herald refuses can be reported against it.
	layout string
	// placeholders maps each ${NAME} the value refers to, to a stand-in used only when herald
	// migrate checks the value with herald's parser.
	placeholders map[string]string
}

// declared returns the parameter the Definition of sink type s.scheme declares under name, its
// own or an alias. herald migrate writes no parameter a sink does not declare (webhook would pass
// it on to the receiver, kube-eventer's sink types ignore it, herald's own refuse the --sink):
// one it does not declare is a mistake in this package, and panics naming the sink type and the
// parameter.
func (s *sinkSpec) declared(name string) uri.Param {
	d, ok := sinks.Lookup(s.scheme)
	if !ok {
		panic(fmt.Errorf("herald migrate: no %s sink is registered", s.scheme))
	}
	for _, p := range append(sinks.CommonParamsFor(d), d.Params...) {
		if p.Name == name || slices.Contains(p.Aliases, name) {
			return p
		}
	}
	panic(fmt.Errorf("herald migrate: the %s sink declares no parameter %q", s.scheme, name))
}

// param is parameter name=value as the sink declares it: an alias is written as the parameter's
// own name. A secret parameter's value must be a ${NAME} reference (a header's, unless the header
// is public), so no secret is printed; any other value is a mistake in this package, and panics
// naming the sink type and the parameter, not the value.
func (s *sinkSpec) param(name, value string, file bool) param {
	p := s.declared(name)
	if p.Secret && !envReference(p.Name, value) {
		panic(fmt.Errorf("herald migrate: the %s sink's parameter %q is secret, and herald migrate wrote a value that is not a ${NAME} reference", s.scheme, p.Name))
	}
	return param{name: p.Name, value: value, file: file}
}

// envReference reports whether value, of secret parameter name, keeps its secret in the
// environment: it is one ${NAME}; for header=, the header is public or its value is one ${NAME}.
func envReference(name, value string) bool {
	if name == "header" {
		k, _, _ := strings.Cut(value, "=")
		value = value[strings.LastIndex(value, "=")+1:]
		if publicHeader(k) {
			return true
		}
	}
	return value != "" && refRE.FindString(value) == value
}

func publicHeader(name string) bool {
	return slices.Contains(redact.PublicHeaders, textproto.CanonicalMIMEHeaderKey(name))
}

// add adds parameter name=value; see param.
func (s *sinkSpec) add(name, value string) {
	s.params = append(s.params, s.param(name, value, false))
}

// addFile adds a parameter naming a file in the pod.
func (s *sinkSpec) addFile(name, value string) {
	s.params = append(s.params, s.param(name, value, true))
}

// set adds parameter name with the value y holds. When the sink declares the parameter Secret,
// the value moves to the environment (secret), in a variable named after the exporter's field;
// any other value is written as it is, its $NAME references made ${NAME} (plain).
func (m *Migration) set(s *sinkSpec, name string, y ynode) {
	if s.declared(name).Secret {
		s.add(name, m.secret(s, y, strings.TrimPrefix(y.path, s.from+".")))
		return
	}
	s.add(name, m.plain(s, y, false))
}

// secretRE finds query names that carry credentials.
var secretRE = regexp.MustCompile(`(?i)(auth|token|key|secret|passw|sig|cookie|credential)`)

// envRefRE is a whole-value ${NAME} or $NAME, as the exporter expands them (os.ExpandEnv).
var envRefRE = regexp.MustCompile(`^\$\{?([A-Za-z_][A-Za-z0-9_]*)\}?$`)

// secret returns a ${NAME} reference standing in for a secret value, and records which variable
// to set. A value that already is ${NAME} (the exporter expands the environment too) keeps its
// variable; any other value gets HERALD_<RECEIVER>_<FIELD> and is never printed.
func (m *Migration) secret(s *sinkSpec, y ynode, field string) string {
	v := y.str()
	name := ""
	if g := envRefRE.FindStringSubmatch(v); g != nil && strings.HasPrefix(v, "$") {
		name = g[1]
		m.addEnv(name, y.path, true)
	} else {
		name = m.envName(s.receiver, field)
		m.addEnv(name, y.path, false)
	}
	s.placeholders[name] = "placeholder"
	return "${" + name + "}"
}

// plain returns a non-secret value, turning the exporter's $NAME references into herald's
// ${NAME} and recording them.
func (m *Migration) plain(s *sinkSpec, y ynode, isURL bool) string {
	v := y.str()
	return os.Expand(v, func(name string) string {
		m.addEnv(name, y.path, true)
		if isURL && strings.TrimSpace(v) == "${"+name+"}" || isURL && v == "$"+name {
			s.placeholders[name] = "http://127.0.0.1:9/"
		} else if _, ok := s.placeholders[name]; !ok {
			s.placeholders[name] = "placeholder"
		}
		return "${" + name + "}"
	})
}

var upperSnake = regexp.MustCompile(`[^A-Z0-9]+`)
var camel = regexp.MustCompile(`([a-z0-9])([A-Z])`)

// envName makes HERALD_<RECEIVER>_<FIELD>, unique within this migration.
func (m *Migration) envName(receiver, field string) string {
	part := func(s string) string {
		s = camel.ReplaceAllString(s, "${1}_${2}")
		return strings.Trim(upperSnake.ReplaceAllString(strings.ToUpper(s), "_"), "_")
	}
	base := "HERALD_" + part(receiver) + "_" + part(field)
	name := base
	for i := 2; m.envTaken(name); i++ {
		name = base + "_" + strconv.Itoa(i)
	}
	return name
}

// receiverSinks maps one exporter receiver to a herald sink (without its filter). ok is false
// when herald has no sink for it.
func (m *Migration) receiverSink(name string, y ynode) (*sinkSpec, bool) {
	var typ ynode
	var typName string
	for _, f := range y.fields() {
		switch f.key {
		case "name":
		default:
			if typName == "" {
				typName, typ = f.key, f.val
			} else {
				m.warn(f.val, "a receiver has one type; the exporter used only one of %s and %s. Make a receiver for each", typName, f.key)
			}
		}
	}
	s := &sinkSpec{receiver: name, from: typ.path, placeholders: map[string]string{}}
	switch typName {
	case "webhook":
		m.webhook(s, typ)
	case "kafka":
		m.kafka(s, typ)
	case "elasticsearch", "opensearch":
		// The exporter's opensearch receiver has the elasticsearch receiver's fields; herald's
		// elasticsearch sink asks the cluster what it is and writes OpenSearch as it needs.
		m.elasticsearch(s, typ)
	case "slack":
		m.slack(s, typ)
	case "teams":
		m.teams(s, typ)
	case "stdout":
		m.stdout(s, typ)
	case "loki":
		m.loki(s, typ)
	case "file":
		m.fileSink(s, typ)
	case "syslog":
		m.syslog(s, typ)
	case "":
		m.warn(y, "receiver %q has no type (webhook:, kafka:, ...); the exporter refused it", name)
		return nil, false
	default:
		m.warn(typ, "herald has no %s sink; receiver %q is not migrated. %s", typName, name, unsupportedAdvice(typName))
		return nil, false
	}
	return s, s.scheme != ""
}

func unsupportedAdvice(typ string) string {
	switch typ {
	case "opsgenie":
		return "send to an Alertmanager with the alertmanager: sink and route to Opsgenie from there"
	case "pipe", "inMemory":
		return "use log:?format=json (one JSON object per line on stdout) or file:PATH and let the node's log collector ship it"
	case "kinesis", "firehose", "sqs", "sns", "eventbridge", "opscenter", "pubsub", "bigquery":
		return "send to kafka: or to a webhook: bridge that forwards to the cloud service"
	}
	return "see `herald sinks` for what herald can send to"
}

// tlsParams maps the exporter's tls block (pkg/sinks/sink.go TLS) to a sink's parameters.
func (m *Migration) tlsParams(s *sinkSpec, y ynode) {
	for _, f := range y.fields() {
		if m.tlsCommon(s, f) {
			continue
		}
		switch f.key {
		case "serverName", "certFile", "keyFile":
			if f.val.str() != "" {
				m.warn(f.val, "herald's %s sink has no %s setting (no client certificate or server name override); herald connects without it. Use a receiver reachable under the certificate's name, without client certificates", s.scheme, f.key)
			}
		default:
			m.note(f.val, "not a tls field the exporter knows; ignored")
		}
	}
}

// tlsCommon maps the fields of a tls block that every sink herald migrates to with TLS reads
// under one name each (kafka as aliases of its cacert and insecuressl): caFile and
// insecureSkipVerify. It reports whether f was one of them.
func (m *Migration) tlsCommon(s *sinkSpec, f field) bool {
	switch f.key {
	case "insecureSkipVerify":
		if f.val.boolean() {
			s.add("insecure_skip_verify", "true")
		}
	case "caFile":
		if f.val.str() != "" {
			s.addFile("ca_file", m.plain(s, f.val, false))
		}
	default:
		return false
	}
	return true
}

func (m *Migration) webhook(s *sinkSpec, y ynode) {
	if lokiPush(y) {
		m.lokiWebhook(s, y)
		return
	}
	s.scheme = "webhook"
	var layout ynode
	contentType := "application/json"
	for _, f := range y.fields() {
		switch f.key {
		case "endpoint":
			s.target = m.endpoint(s, f.val)
		case "headers":
			var rest []field
			for _, h := range f.val.stringMap() {
				if strings.EqualFold(h.key, "Content-Type") && !strings.Contains(h.val.str(), "{{") {
					contentType = h.val.str() // the exporter's own header, overridden
					continue
				}
				rest = append(rest, h)
			}
			m.headers(s, rest)
		case "tls":
			m.tlsParams(s, f.val)
		case "layout":
			layout = f.val
		default:
			m.note(f.val, "not a webhook field the exporter knows; ignored")
		}
	}
	// The exporter always POSTs, with Content-Type application/json unless its headers set one.
	s.params = append([]param{s.param("method", "POST", false), s.param("header", "Content-Type="+contentType, false)}, s.params...)
	if !layout.isNull() && layout.n != nil {
		s.add("body_template", layoutTemplate(layout.resolved()))
		s.layout = layout.path
	} else {
		s.add("body_template", "{{ toJson .Event }}")
		m.note(y, "the exporter posted the whole event as JSON; body_template={{ toJson .Event }} posts the same Event object, without the exporter's additions (clusterName, the involved object's labels, annotations and ownerReferences)")
	}
}

// endpoint returns a URL with any credential in its query or user info replaced by ${ENV}.
func (m *Migration) endpoint(s *sinkSpec, y ynode) string {
	raw := m.plain(s, y, true)
	if strings.Contains(raw, "${") {
		// An address from the environment: herald expands it the same way.
		return raw
	}
	u, err := url.Parse(raw)
	if err != nil {
		m.warn(y, "not a valid URL (%v); fix it in the output", err)
		return raw
	}
	userinfo := ""
	if u.User != nil {
		userinfo = u.User.Username()
		if pw, has := u.User.Password(); has {
			if g := envRefRE.FindStringSubmatch(pw); g != nil && strings.HasPrefix(pw, "$") {
				userinfo += ":${" + g[1] + "}"
			} else {
				name := m.envName(s.receiver, "endpoint_password")
				m.addEnv(name, y.path+" (password in the URL)", false)
				s.placeholders[name] = "placeholder"
				userinfo += ":${" + name + "}"
			}
		}
		u.User = nil
	}
	withUser := func(s string) string {
		if userinfo == "" {
			return s
		}
		scheme, rest, _ := strings.Cut(s, "://")
		return scheme + "://" + userinfo + "@" + rest
	}
	if u.RawQuery == "" {
		return spliceToken(s, withUser(m.pathToken(s, u, y).String()))
	}
	q := u.Query()
	keys := make([]string, 0, len(q))
	for k := range q {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var parts []string
	for _, k := range keys {
		for _, v := range q[k] {
			if secretQueryParam(k, v) && !strings.HasPrefix(v, "${") {
				name := m.envName(s.receiver, "endpoint_"+k)
				m.addEnv(name, y.path+" (query parameter "+k+")", false)
				s.placeholders[name] = "placeholder"
				v = "${" + name + "}"
			} else {
				v = queryEscape(v)
			}
			parts = append(parts, queryEscape(k)+"="+v)
		}
	}
	u.RawQuery = ""
	return spliceToken(s, withUser(m.pathToken(s, u, y).String())) + "?" + strings.Join(parts, "&")
}

// tokenMarker stands for a token path's ${NAME} while url.URL writes the URL.
const tokenMarker = "HERALD-MIGRATE-TOKEN-PATH"

func spliceToken(s *sinkSpec, u string) string {
	return strings.Replace(u, tokenMarker, s.pathRef, 1)
}

// publicQueryParams are query parameters of receivers' URLs that carry no credential (Teams
// Workflows' api-version, sp and sv).
var publicQueryParams = []string{"api-version", "sp", "sv", "v", "version", "format", "channel", "level", "method"}

// secretQueryParam reports whether a receiver URL's query value moves to the environment: its
// name says credential (token, key, sig, ..., and Azure Functions' code), or it is a value of 8
// characters or more under a name not known to be public (a token under a name of the
// receiver's own).
func secretQueryParam(k, v string) bool {
	switch {
	case secretRE.MatchString(k) || strings.EqualFold(k, "code"):
		return true
	case slices.Contains(publicQueryParams, strings.ToLower(k)):
		return false
	}
	return len(v) >= 8
}

// pathToken moves the token path of a chat webhook URL (Slack's services/T/B/TOKEN, Discord's
// webhooks/ID/TOKEN, Feishu's hook/TOKEN, Office 365's webhookb2/...) to the environment.
func (m *Migration) pathToken(s *sinkSpec, u *url.URL, y ynode) *url.URL {
	segs := strings.Split(u.Path, "/")
	for i, seg := range segs {
		if slices.Contains([]string{"services", "webhooks", "hook", "webhookb2", "workflows", "triggers"}, seg) && i+1 < len(segs) && segs[i+1] != "" {
			name := m.envName(s.receiver, "endpoint_token")
			m.addEnv(name, y.path+" (token in the URL path)", false)
			s.placeholders[name] = "placeholder"
			// url.URL would escape the braces of ${NAME}: splice it in after String().
			out := *u
			out.Path = strings.Join(segs[:i+1], "/") + "/" + tokenMarker
			out.RawPath = ""
			s.pathRef = "${" + name + "}"
			return &out
		}
	}
	return u
}

func (m *Migration) kafka(s *sinkSpec, y ynode) {
	s.scheme = "kafka"
	// The exporter's record is the Event's JSON; herald's format=herald is that Event too, with
	// three fields added. The sink's default (kube-eventer's record) would suit nobody here.
	s.add("format", "herald")
	var tls, sasl ynode
	for _, f := range y.fields() {
		switch f.key {
		case "brokers":
			for _, b := range f.val.items() {
				m.set(s, "brokers", b)
			}
		case "topic":
			m.set(s, "eventstopic", f.val)
		case "compressionCodec":
			switch c := f.val.str(); c {
			case "", "none":
			case "gzip", "snappy", "lz4", "zstd":
				s.add("compression", c)
			default:
				m.note(f.val, "the exporter ignored the unknown codec %q and sent uncompressed; so does herald", c)
			}
		case "version":
			if v := f.val.str(); v != "" {
				s.add("version", v)
			}
		case "clientId":
			if f.val.str() != "" {
				m.warn(f.val, "herald's kafka sink sets its own client id; broker quotas or ACLs keyed on %q need the new id", f.val.str())
			}
		case "tls":
			tls = f.val
		case "sasl":
			sasl = f.val
		case "layout":
			m.warn(f.val, "herald's kafka records are JSON in herald's schema (format=herald) or kube-eventer's (format=kube-eventer), not a template; consumers that read this layout need changing (docs/sinks/kafka.md lists the fields)")
		case "avro":
			if len(f.val.fields()) > 0 {
				m.warn(f.val, "herald writes JSON records only; consumers of the Avro records need changing")
			}
		default:
			m.note(f.val, "not a kafka field the exporter knows; ignored")
		}
	}
	if tls.n != nil && fieldOf(tls, "enable").boolean() {
		s.add("tls", "true")
		for _, f := range tls.fields() {
			switch f.key {
			case "enable":
			case "certFile":
				if f.val.str() != "" {
					s.addFile("cert", m.plain(s, f.val, false))
				}
			case "keyFile":
				if f.val.str() != "" {
					s.addFile("key", m.plain(s, f.val, false))
				}
			default:
				if !m.tlsCommon(s, f) {
					m.note(f.val, "not a kafka tls field the exporter knows; ignored")
				}
			}
		}
	}
	if sasl.n != nil && fieldOf(sasl, "enable").boolean() {
		for _, f := range sasl.fields() {
			switch f.key {
			case "enable":
			case "username":
				m.set(s, "user", f.val)
			case "password":
				m.set(s, "password", f.val)
			case "mechanism":
				switch strings.ToLower(f.val.str()) {
				case "", "plain":
					s.add("mechanism", "PLAIN")
				case "sha256":
					s.add("mechanism", "SCRAM-SHA-256")
				case "sha512":
					s.add("mechanism", "SCRAM-SHA-512")
				default:
					m.warn(f.val, "the exporter refused mechanism %q (plain, sha256 or sha512); herald accepts PLAIN, SCRAM-SHA-256 and SCRAM-SHA-512", f.val.str())
				}
			default:
				m.note(f.val, "not a kafka sasl field the exporter knows; ignored")
			}
		}
	}
	m.note(y, "record keys and values change: herald keys records by namespace/kind/name (the exporter by event UID), and format=herald writes the Event's JSON as the exporter did, plus schema, cluster and restart fields, without the exporter's involvedObject labels and annotations; see docs/sinks/kafka.md")
}

// goTimeLayout maps the exporter's indexFormat (Go time layout between braces) to herald's
// %Y %m %d %H.
var goTimeTokens = []struct{ goTok, herald string }{{"2006", "%Y"}, {"01", "%m"}, {"02", "%d"}, {"15", "%H"}}

func indexFromFormat(format string) (string, bool) {
	open, end := strings.Index(format, "{"), strings.LastIndex(format, "}")
	if open < 0 || end < open || strings.Count(format, "{") > 1 {
		return "", false
	}
	layout := format[open+1 : end]
	var b strings.Builder
	b.WriteString(format[:open])
	for i := 0; i < len(layout); {
		matched := false
		for _, t := range goTimeTokens {
			if strings.HasPrefix(layout[i:], t.goTok) {
				b.WriteString(t.herald)
				i += len(t.goTok)
				matched = true
				break
			}
		}
		if matched {
			continue
		}
		c := layout[i]
		if c >= '0' && c <= '9' || c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c == '%' {
			return "", false
		}
		b.WriteByte(c)
		i++
	}
	b.WriteString(format[end+1:])
	return b.String(), true
}

func (m *Migration) elasticsearch(s *sinkSpec, y ynode) {
	s.scheme = "elasticsearch"
	var index, indexFormat ynode
	for _, f := range y.fields() {
		switch f.key {
		case "hosts":
			hosts := f.val.items()
			userDone := false
			for i, h := range hosts {
				v := m.plain(s, h, true)
				// herald's node URLs carry no credentials: a user:password@ in a host becomes
				// esUserName and esUserSecret=${ENV} (once), the password never printed.
				if u, err := url.Parse(v); err == nil && u.User != nil {
					if !userDone {
						s.add("esUserName", u.User.Username())
						if pw, has := u.User.Password(); has {
							if g := envRefRE.FindStringSubmatch(pw); g != nil && strings.HasPrefix(pw, "$") {
								s.add("esUserSecret", "${"+g[1]+"}")
							} else {
								name := m.envName(s.receiver, "password")
								m.addEnv(name, h.path+" (password in the URL)", false)
								s.placeholders[name] = "placeholder"
								s.add("esUserSecret", "${"+name+"}")
							}
						}
						userDone = true
					}
					u.User = nil
					v = u.String()
				}
				if i == 0 {
					s.target = v
				}
				if len(hosts) > 1 {
					s.add("nodes", v)
				}
			}
		case "index":
			index = f.val
		case "indexFormat":
			indexFormat = f.val
		case "username":
			if f.val.str() != "" {
				m.set(s, "esUserName", f.val)
			}
		case "password":
			if f.val.str() != "" {
				m.set(s, "esUserSecret", f.val)
			}
		case "apiKey":
			if f.val.str() != "" {
				m.set(s, "api_key", f.val)
			}
		case "cloudID":
			if f.val.str() != "" {
				m.warn(f.val, "herald connects to node URLs, not an Elastic Cloud ID; copy the deployment's Elasticsearch endpoint (Elastic Cloud console → Manage → Copy endpoint) into hosts and run herald migrate again")
			}
		case "headers":
			if len(f.val.fields()) > 0 {
				m.warn(f.val, "herald's elasticsearch sink sends no extra headers; authenticate with esUserName/esUserSecret or api_key")
			}
		case "useEventID":
			if f.val.boolean() {
				m.note(f.val, "herald always sets the document _id, from the event's UID and count: a retry never duplicates, and each count is its own document (the exporter overwrote one document per event)")
			}
		case "deDot":
			// herald's documents carry no label or annotation keys: nothing to de-dot.
		case "type":
			if f.val.str() != "" {
				m.warn(f.val, "herald asks the cluster its version and writes Elasticsearch 5 and 6 with kube-eventer's type \"events\", not this one, and 7 and later without a type")
			}
		case "tls":
			m.tlsParams(s, f.val)
		case "layout":
			m.warn(f.val, "herald writes its own document (docs/sinks/elasticsearch.md lists the fields), not a template; searches and dashboards built on this layout need changing")
		default:
			m.note(f.val, "not an elasticsearch field the exporter knows; ignored")
		}
	}
	switch {
	case indexFormat.n != nil && indexFormat.str() != "":
		if idx, ok := indexFromFormat(indexFormat.str()); ok {
			s.add("index", idx)
		} else {
			m.warn(indexFormat, "herald's index= takes %%Y %%m %%d %%H only; %q cannot be written with them, so herald's default index is used. Choose an index name with those fields", indexFormat.str())
		}
	case index.n != nil && index.str() != "":
		s.add("index", index.str())
		m.warn(index, "herald adds a daily suffix to an index name without %%: it writes %s-YYYY.MM.DD, not the single index %q. Point searches at %s-* (or an alias)", index.str(), index.str(), index.str())
	default:
		m.warn(y, "neither index nor indexFormat is set; herald writes to its default (heapster-YYYY.MM.DD); set index=")
	}
	if s.target == "" {
		m.warn(y, "no hosts; the exporter could not connect either. Add hosts and run herald migrate again")
	}
}

func (m *Migration) slack(s *sinkSpec, y ynode) {
	s.scheme = "slack"
	s.target = ""
	hasToken := false
	for _, f := range y.fields() {
		switch f.key {
		case "token":
			m.set(s, "token", f.val)
			hasToken = true
		case "channel":
			if strings.Contains(f.val.str(), "{{") {
				m.warn(f.val, "herald posts to one fixed channel per sink, not a templated one; add one slack sink per channel (with namespaces= or kinds= to split the events) and set channel= on each")
			} else {
				s.add("channel", f.val.str())
			}
		case "message", "fields", "color", "title", "footer", "author_name":
			if f.val.n != nil && !f.val.isNull() {
				m.warn(f.val, "herald posts its own Block Kit message (reason, object, namespace, message, count) instead of the exporter's text and attachment; to keep this text write body_template (docs/templates.md)")
			}
		default:
			m.note(f.val, "not a slack field the exporter knows; ignored")
		}
	}
	if !hasToken {
		m.warn(y, "no token; the exporter could not post either. Set token to a bot token and run herald migrate again")
	}
}

func (m *Migration) teams(s *sinkSpec, y ynode) {
	s.scheme = "teams"
	for _, f := range y.fields() {
		switch f.key {
		case "endpoint":
			u, _ := url.Parse(f.val.str())
			if u != nil && strings.HasSuffix(strings.ToLower(u.Hostname()), "office.com") {
				m.warn(f.val, "Office 365 connector webhooks are retired; herald posts Adaptive Cards to a Workflows webhook. Create one (Teams → channel → Workflows → \"Post to a channel when a webhook request is received\"), then write --sink=teams:<that URL> with sig=${%s}", m.envName(s.receiver, "sig"))
				s.scheme = ""
				return
			}
			s.target = m.endpoint(s, f.val)
		case "headers":
			if len(f.val.fields()) > 0 {
				m.warn(f.val, "herald's teams sink sends no extra headers; the Workflows URL's sig= authorizes the post")
			}
		case "layout":
			m.warn(f.val, "herald posts its own Adaptive Card, not a layout; to change it write body_template (docs/templates.md)")
		default:
			m.note(f.val, "not a teams field the exporter knows; ignored")
		}
	}
}

// headers maps an exporter headers block to header= parameters. The sink declares header Secret
// and, as herald's redaction, keeps only the public headers' values in the open: every other
// header moves to the environment (it may carry a credential). Templated values have no herald
// form.
func (m *Migration) headers(s *sinkSpec, hs []field) {
	secret := s.declared("header").Secret
	for _, h := range hs {
		v := h.val.str()
		switch {
		case strings.Contains(v, "{{"):
			m.warn(h.val, "herald's headers are fixed text, not templates; this header is left out. Set a fixed value")
		case secret && !publicHeader(h.key):
			s.add("header", h.key+"="+m.secret(s, h.val, "header_"+h.key))
		default:
			s.add("header", h.key+"="+m.plain(s, h.val, false))
		}
	}
}

// loki maps the exporter's loki receiver (pkg/sinks/loki.go LokiConfig) to herald's loki sink.
// The exporter pushed JSON with its streamLabels as the only labels and the time of sending as
// the entry's time; herald keeps those labels (label=) and adds none of its own (labels= empty),
// so existing queries and dashboards keep their streams, and stamps each entry with the event's
// time.
func (m *Migration) loki(s *sinkSpec, y ynode) {
	s.scheme = "loki"
	var layout ynode
	hasLabels := false
	for _, f := range y.fields() {
		switch f.key {
		case "url":
			s.target = m.endpoint(s, f.val)
		case "streamLabels":
			for _, l := range f.val.stringMap() {
				s.add("label", l.key+"="+m.plain(s, l.val, false))
				hasLabels = true
			}
		case "headers":
			m.lokiHeaders(s, f.val)
		case "tls":
			m.tlsParams(s, f.val)
		case "layout":
			layout = f.val
		default:
			m.note(f.val, "not a loki field the exporter knows; ignored")
		}
	}
	if hasLabels {
		s.add("labels", "")
	} else {
		m.note(y, "the exporter pushed streams without labels, which Loki refuses; herald labels each stream by namespace, reason, kind and cluster (labels=), or set streamLabels")
	}
	s.add("format", "json")
	if !layout.isNull() && layout.n != nil {
		s.add("body_template", layoutTemplate(layout.resolved()))
		s.layout = layout.path
	} else {
		m.note(y, "the exporter's line was its whole event as JSON; herald's default line is the event as the log sink writes it (log:?format=json), or write body_template")
	}
	m.note(y, "the exporter stamped each entry with the time it sent it; herald stamps it with the event's time (kept increasing per stream), and pushes JSON as the exporter did (format=protobuf is what Promtail and Alloy send)")
}

// lokiHeaders maps a headers block sent to Loki: X-Scope-OrgID is the tenant, Content-Type is
// herald's to set for the format it pushes, the rest are headers.
func (m *Migration) lokiHeaders(s *sinkSpec, y ynode) {
	var rest []field
	for _, h := range y.stringMap() {
		if strings.EqualFold(h.key, "X-Scope-OrgID") && !strings.Contains(h.val.str(), "{{") {
			m.set(s, "tenant", h.val)
			continue
		}
		if strings.EqualFold(h.key, "Content-Type") {
			continue
		}
		rest = append(rest, h)
	}
	m.headers(s, rest)
}

// lokiPush reports whether a webhook receiver posts to Loki's push API, as several published
// configs do to reach Loki before the exporter had a loki receiver.
func lokiPush(y ynode) bool {
	for _, f := range y.fields() {
		if f.key == "endpoint" {
			u, err := url.Parse(strings.TrimSpace(f.val.str()))
			return err == nil && strings.HasSuffix(strings.TrimSuffix(u.Path, "/"), "/loki/api/v1/push")
		}
	}
	return false
}

// lokiWebhook maps a webhook receiver that posts to Loki's push API to herald's loki sink: its
// layout built the push body by hand (or, without one, the exporter posted the bare event,
// which Loki refuses); herald's loki sink builds the streams, labels and order Loki requires.
func (m *Migration) lokiWebhook(s *sinkSpec, y ynode) {
	s.scheme = "loki"
	for _, f := range y.fields() {
		switch f.key {
		case "endpoint":
			s.target = m.endpoint(s, f.val)
		case "headers":
			m.lokiHeaders(s, f.val)
		case "tls":
			m.tlsParams(s, f.val)
		case "layout":
			m.note(f.val, "this layout built Loki's push body by hand; herald's loki sink builds the push itself (streams labelled by namespace, reason, kind and cluster: labels=, label=NAME=VALUE for fixed ones; the line the event as JSON, or body_template for the line alone)")
		default:
			m.note(f.val, "not a webhook field the exporter knows; ignored")
		}
	}
	m.note(y, "this webhook posts to Loki's push API, so it becomes herald's loki sink (docs/sinks/loki.md)")
}

// fileSink maps the exporter's file receiver (pkg/sinks/file.go FileConfig) to herald's file sink.
func (m *Migration) fileSink(s *sinkSpec, y ynode) {
	s.scheme = "file"
	var layout ynode
	backups := false
	for _, f := range y.fields() {
		switch f.key {
		case "path":
			s.target = m.plain(s, f.val, false)
		case "maxsize", "maxage", "maxbackups":
			// The file sink reads the exporter's names as aliases of max_size, max_age and
			// max_backups, the names add writes.
			if n := f.val.integer(); n > 0 {
				s.add(f.key, strconv.FormatInt(n, 10))
				backups = backups || f.key == "maxbackups"
			}
		case "layout":
			layout = f.val
		case "deDot":
			if f.val.boolean() {
				m.warn(f.val, "herald has no deDot: label and annotation keys keep their dots (herald's lines hold no labels or annotations unless a template prints them)")
			}
		default:
			m.note(f.val, "not a file field the exporter knows; ignored")
		}
	}
	if !backups {
		// lumberjack, under the exporter, kept every backup; herald keeps 5 unless told.
		s.add("max_backups", "0")
	}
	if !layout.isNull() && layout.n != nil {
		s.add("body_template", layoutTemplate(layout.resolved()))
		s.layout = layout.path
	} else {
		m.note(y, "the exporter wrote its whole event as JSON per line; herald writes its herald.event/v1 record per line (docs/sinks/file.md), or write body_template")
	}
}

// syslog maps the exporter's syslog receiver (pkg/sinks/syslog.go SyslogConfig), which wrote
// through Go's log/syslog: facility local0, newline-framed over TCP.
func (m *Migration) syslog(s *sinkSpec, y ynode) {
	s.scheme = "syslog"
	network := "udp"
	for _, f := range y.fields() {
		switch f.key {
		case "network":
			switch v := f.val.str(); v {
			case "", "udp", "udp4", "udp6":
			case "tcp", "tcp4", "tcp6":
				network = "tcp"
			default:
				m.warn(f.val, "herald's syslog sink speaks udp, tcp or tls, not %q (a local socket); send to the node's syslog over udp or tcp instead", v)
			}
		case "address":
			s.target = "//" + m.plain(s, f.val, false)
		case "tag":
			if f.val.str() != "" {
				m.set(s, "tag", f.val)
			}
		default:
			m.note(f.val, "not a syslog field the exporter knows; ignored")
		}
	}
	s.add("network", network)
	if network == "tcp" {
		s.add("framing", "lf")
	}
	s.add("facility", "local0")
	m.note(y, "the exporter sent each event as JSON in a message without version or structured data; herald sends RFC 5424 (the event's message, the object in structured data): check the receiver's parsing rules, or write format=rfc3164")
}

func (m *Migration) stdout(s *sinkSpec, y ynode) {
	s.scheme = "log"
	s.add("format", "json")
	for _, f := range y.fields() {
		switch f.key {
		case "deDot":
		case "layout":
			m.warn(f.val, "herald's log sink writes its own JSON object per line, not a layout; log pipelines that read this layout need changing")
		default:
			m.note(f.val, "not a stdout field the exporter knows; ignored")
		}
	}
}

func fieldOf(y ynode, key string) ynode {
	for _, f := range y.fields() {
		if f.key == key {
			return f.val
		}
	}
	return ynode{path: y.path + "." + key}
}

// layoutTemplate writes an exporter layout as a JSON body template. The exporter renders every
// string of the layout as a Go template and marshals the result, so keys come out sorted and a
// value that is not a string becomes null; the template reproduces that, and herald escapes
// what each {{ }} prints for JSON.
func layoutTemplate(n *yaml.Node) string {
	var b bytes.Buffer
	writeLayout(&b, n)
	return b.String()
}

func writeLayout(b *bytes.Buffer, n *yaml.Node) {
	for n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	switch n.Kind {
	case yaml.MappingNode:
		type kv struct {
			k string
			v *yaml.Node
		}
		var kvs []kv
		for i := 0; i+1 < len(n.Content); i += 2 {
			kvs = append(kvs, kv{n.Content[i].Value, n.Content[i+1]})
		}
		sort.SliceStable(kvs, func(i, j int) bool { return kvs[i].k < kvs[j].k })
		b.WriteByte('{')
		for i, e := range kvs {
			if i > 0 {
				b.WriteByte(',')
			}
			k, _ := json.Marshal(e.k)
			b.Write(k)
			b.WriteByte(':')
			writeLayout(b, e.v)
		}
		b.WriteByte('}')
	case yaml.SequenceNode:
		b.WriteByte('[')
		for i, c := range n.Content {
			if i > 0 {
				b.WriteByte(',')
			}
			writeLayout(b, c)
		}
		b.WriteByte(']')
	case yaml.ScalarNode:
		if n.Tag != "!!str" {
			b.WriteString("null")
			return
		}
		b.WriteByte('"')
		// Escape the text between actions for JSON; leave {{ ... }} as written.
		s := n.Value
		for s != "" {
			i := strings.Index(s, "{{")
			if i < 0 {
				b.WriteString(jsonStringBody(s))
				break
			}
			b.WriteString(jsonStringBody(s[:i]))
			j := strings.Index(s[i:], "}}")
			if j < 0 {
				b.WriteString(s[i:])
				break
			}
			b.WriteString(s[i : i+j+2])
			s = s[i+j+2:]
		}
		b.WriteByte('"')
	default:
		b.WriteString("null")
	}
}

func jsonStringBody(s string) string {
	q, _ := json.Marshal(s)
	return string(q[1 : len(q)-1])
}

package syslog_test

import (
	"context"
	"fmt"
	"net"
	"net/url"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/heraldproject/herald/common/template"
	"github.com/heraldproject/herald/core"
	"github.com/heraldproject/herald/sinks"
	"github.com/heraldproject/herald/sinks/syslog"
)

var t0 = time.Date(2026, 11, 23, 18, 53, 15, 0, time.UTC)

const bom = "\xef\xbb\xbf"

func event(i int, typ, reason, message string) *core.Event {
	return &core.Event{Event: &corev1.Event{
		ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("web-%d.18a4f", i), Namespace: "shop"},
		InvolvedObject: corev1.ObjectReference{Kind: "Pod", Namespace: "shop", Name: fmt.Sprintf("web-%d", i),
			UID: "0a9b8c7d-6e5f-4a3b-8c2d-1e0f9a8b7c6d", APIVersion: "v1", FieldPath: "spec.containers{app}"},
		Reason:        reason,
		Message:       message,
		Type:          typ,
		Count:         3,
		Source:        corev1.EventSource{Component: "kubelet", Host: "node-7"},
		LastTimestamp: metav1.NewTime(t0.Add(time.Duration(i) * time.Second)),
	}, Cluster: "prod-eu"}
}

func build(t testing.TB, value string, e sinks.Env) core.Sink {
	t.Helper()
	if e.Ctx == nil {
		e.Ctx = context.Background()
	}
	b, err := sinks.Build(1, value, e)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = b.Sink.Close() })
	return b.Sink
}

func export(t testing.TB, s core.Sink, evs ...*core.Event) {
	t.Helper()
	if err := s.Export(context.Background(), evs); err != nil {
		t.Fatal(err)
	}
}

const nasty = "Back-off restarting \"app\"\nline two \\ back ]bracket 容器重启 🚑"

// RFC 5424 over UDP, read by a strict parser: PRI from local0 and the event's type, VERSION 1,
// the event's own time to the microsecond, HOSTNAME the reporting node (else the cluster),
// APP-NAME the tag, no PROCID, MSGID the reason, the involved object in k8s@32473, and MSG the
// message after a BOM, byte for byte.
func TestRFC5424OverUDP(t *testing.T) {
	rc := newReceiver(t, receiverOptions{network: "udp", max: 2048})
	s := build(t, "syslog://"+rc.Addr+"?level=Normal", sinks.Env{Cluster: "prod-eu"})
	warn := event(1, "Warning", "BackOff", nasty)
	normal := event(2, "Normal", "Pulled", "Successfully pulled image")
	normal.LastTimestamp = metav1.Time{}
	normal.EventTime = metav1.NewMicroTime(t0.Add(90*time.Second + 123456*time.Microsecond))
	normal.Source = corev1.EventSource{}
	normal.ReportingController = "kubelet"
	node := event(3, "Warning", "NodeNotReady", "")
	node.InvolvedObject = corev1.ObjectReference{Kind: "Node", Name: "node-7"}
	node.Source = corev1.EventSource{}
	node.Cluster = ""
	export(t, s, warn, normal, node)
	got := rc.wait(3)

	type want struct {
		pri              uint8
		time             time.Time
		host, msgID, msg string
		object           map[string]string
		noMSG            bool
	}
	for i, w := range []want{
		{pri: 16*8 + 4, time: t0.Add(time.Second), host: "node-7", msgID: "BackOff", msg: nasty, object: map[string]string{
			"kind": "Pod", "namespace": "shop", "name": "web-1", "uid": "0a9b8c7d-6e5f-4a3b-8c2d-1e0f9a8b7c6d", "apiVersion": "v1",
			"fieldPath": "spec.containers{app}", "type": "Warning", "count": "3", "component": "kubelet", "cluster": "prod-eu"}},
		{pri: 16*8 + 6, time: normal.EventTime.Time, host: "prod-eu", msgID: "Pulled", msg: "Successfully pulled image", object: map[string]string{
			"kind": "Pod", "namespace": "shop", "name": "web-2", "uid": "0a9b8c7d-6e5f-4a3b-8c2d-1e0f9a8b7c6d", "apiVersion": "v1",
			"fieldPath": "spec.containers{app}", "type": "Normal", "count": "3", "component": "kubelet", "cluster": "prod-eu"}},
		{pri: 16*8 + 4, time: t0.Add(3 * time.Second), host: "prod-eu", msgID: "NodeNotReady", noMSG: true, object: map[string]string{
			"kind": "Node", "name": "node-7", "type": "Warning", "count": "3", "cluster": "prod-eu"}},
	} {
		m := got[i].m
		if *m.Priority != w.pri || !m.Timestamp.Equal(w.time) || str(m.Hostname) != w.host || str(m.Appname) != "herald" || m.ProcID != nil || str(m.MsgID) != w.msgID {
			t.Errorf("message %d header: PRI %d time %s host %s app %s procid %s msgid %s\nraw %q", i, *m.Priority, m.Timestamp, str(m.Hostname), str(m.Appname), str(m.ProcID), str(m.MsgID), got[i].raw)
		}
		if fmt.Sprint(sd(m, "k8s@32473")) != fmt.Sprint(w.object) {
			t.Errorf("message %d structured data:\n got %v\nwant %v", i, sd(m, "k8s@32473"), w.object)
		}
		switch {
		case w.noMSG && m.Message != nil:
			t.Errorf("message %d: an empty message should leave MSG out, got %q", i, *m.Message)
		case !w.noMSG && str(m.Message) != bom+w.msg:
			t.Errorf("message %d: MSG %q, want the BOM and %q", i, str(m.Message), w.msg)
		}
	}
	// The time is written as RFC 3339 with its sub-second digits, in UTC.
	if !strings.Contains(string(got[1].raw), " 2026-11-23T18:54:45.123456Z prod-eu herald - Pulled [k8s@32473 ") {
		t.Errorf("raw %q", got[1].raw)
	}
}

// Structured data values escape '"', '\' and ']' (RFC 5424 6.3.3), so the strict parser reads
// each value back as it was.
func TestStructuredDataIsEscaped(t *testing.T) {
	rc := newReceiver(t, receiverOptions{network: "udp"})
	s := build(t, "syslog://"+rc.Addr+"?level=Normal", sinks.Env{})
	e := event(1, "Warning", "BackOff", "x")
	e.InvolvedObject.FieldPath = `spec.containers{a"b\c]d}`
	e.InvolvedObject.Name = `]]\\"`
	e.Cluster = `cluster "eu" [1]`
	restart := template.SampleRestartEvent()
	export(t, s, e, restart)
	got := rc.wait(2)
	obj := sd(got[0].m, "k8s@32473")
	if obj["fieldPath"] != e.InvolvedObject.FieldPath || obj["name"] != e.InvolvedObject.Name || obj["cluster"] != e.Cluster {
		t.Errorf("values read back: %q", obj)
	}
	if !strings.Contains(string(got[0].raw), `fieldPath="spec.containers{a\"b\\c\]d}"`) {
		t.Errorf("raw %q", got[0].raw)
	}
	r := sd(got[1].m, "restart@32473")
	lr := restart.Restart
	if r["container"] != lr.Container || r["restartCount"] != fmt.Sprint(lr.RestartCount) || r["exitCode"] != fmt.Sprint(lr.LastState.ExitCode) || r["reason"] != lr.LastState.Reason {
		t.Errorf("restart element %v", r)
	}
}

// Over TCP every message is octet-counted (RFC 6587 3.4.1), so line breaks in MSG stay, and a
// batch goes over one connection, in order.
func TestOctetCountingOverTCP(t *testing.T) {
	rc := newReceiver(t, receiverOptions{network: "tcp"})
	s := build(t, "syslog://"+rc.Addr+"?network=tcp&level=Normal", sinks.Env{})
	var evs []*core.Event
	for i := range 50 {
		evs = append(evs, event(i, "Warning", "BackOff", fmt.Sprintf("%d: %s", i, nasty)))
	}
	export(t, s, evs[:25]...)
	export(t, s, evs[25:]...)
	got := rc.wait(50)
	for i, g := range got {
		if want := bom + fmt.Sprintf("%d: %s", i, nasty); str(g.m.Message) != want {
			t.Fatalf("message %d: %q, want %q", i, str(g.m.Message), want)
		}
	}
	if n := rc.connections(); n != 1 {
		t.Errorf("%d connections for two batches, want one kept", n)
	}
}

// framing=lf writes one message per line: the message's own line breaks become \n.
func TestNonTransparentFraming(t *testing.T) {
	rc := newReceiver(t, receiverOptions{network: "tcp", lf: true})
	s := build(t, "syslog://"+rc.Addr+"?network=tcp&framing=lf&level=Normal", sinks.Env{})
	export(t, s, event(1, "Warning", "BackOff", "one\ntwo\r\nthree"), event(2, "Warning", "BackOff", "four"))
	got := rc.wait(2)
	if str(got[0].m.Message) != bom+`one\ntwo\nthree` || str(got[1].m.Message) != bom+"four" {
		t.Errorf("messages %q, %q", str(got[0].m.Message), str(got[1].m.Message))
	}
}

// format=rfc3164: "<PRI>Mmm dd hh:mm:ss HOST TAG: MSG" with the time in --timezone, read by a
// strict RFC 3164 parser; the object, reason and count go into MSG.
func TestRFC3164(t *testing.T) {
	rc := newReceiver(t, receiverOptions{network: "udp", format: "rfc3164", max: 1024})
	shanghai, err := time.LoadLocation("Asia/Shanghai")
	if err != nil {
		t.Skip("no time zone data:", err)
	}
	s := build(t, "syslog://"+rc.Addr+"?format=rfc3164&tag=k8s-events&facility=daemon&level=Normal", sinks.Env{Location: shanghai})
	export(t, s, event(1, "Warning", "BackOff", "back-off"), event(2, "Normal", "Pulled", "pulled"))
	got := rc.wait(2)
	m := got[0].bsd
	if *m.Priority != 3*8+4 || str(m.Hostname) != "node-7" || str(m.Appname) != "k8s-events" || str(m.Message) != "shop/Pod/web-1 BackOff (count 3): back-off" {
		t.Errorf("PRI %d host %s tag %s msg %q\nraw %q", *m.Priority, str(m.Hostname), str(m.Appname), str(m.Message), got[0].raw)
	}
	if !strings.HasPrefix(string(got[0].raw), "<28>Nov 24 02:53:16 node-7 k8s-events: ") {
		t.Errorf("raw %q: want the time in Asia/Shanghai", got[0].raw)
	}
	if *got[1].bsd.Priority != 3*8+6 {
		t.Errorf("Normal event PRI %d", *got[1].bsd.Priority)
	}
}

// Messages are bounded: 2048 bytes over UDP by default (1024 with rfc3164), max_message_size
// otherwise. A longer MSG is cut at a UTF-8 boundary and ends in ...[truncated]; the strict
// parser still reads the message.
func TestMessagesAreBounded(t *testing.T) {
	long := strings.Repeat("容器", 3000)
	for _, c := range []struct {
		params string
		format string
		max    int
	}{
		{"", "rfc5424", 2048},
		{"&max_message_size=600", "rfc5424", 600},
		{"&format=rfc3164", "rfc3164", 1024},
	} {
		rc := newReceiver(t, receiverOptions{network: "udp", format: c.format, max: 65536})
		s := build(t, "syslog://"+rc.Addr+"?level=Normal"+c.params, sinks.Env{})
		export(t, s, event(1, "Warning", "BackOff", long))
		g := rc.wait(1)[0]
		msg := ""
		if g.m != nil {
			msg = str(g.m.Message)
			if len(sd(g.m, "k8s@32473")) == 0 {
				t.Errorf("%s: the structured data was dropped, though it fits", c.params)
			}
		} else {
			msg = str(g.bsd.Message)
		}
		if len(g.raw) > c.max || len(g.raw) < c.max-len("容") || !strings.HasSuffix(msg, "...[truncated]") || !utf8.ValidString(msg) {
			t.Errorf("%s: a %d-byte datagram (limit %d) ending %q", c.params, len(g.raw), c.max, msg[max(0, len(msg)-30):])
		}
	}
}

// A TCP connection the receiver closed is noticed before the next batch, which goes over a new
// connection, whole: none of it is written into the closed one and lost.
func TestTCPReconnectsAfterTheReceiverCloses(t *testing.T) {
	rc := newReceiver(t, receiverOptions{network: "tcp", closeAfter: 3})
	s := build(t, "syslog://"+rc.Addr+"?network=tcp&level=Normal", sinks.Env{})
	for b := range 3 {
		var evs []*core.Event
		for i := range 3 {
			evs = append(evs, event(b*3+i, "Warning", "BackOff", fmt.Sprintf("message %d", b*3+i)))
		}
		export(t, s, evs...)
		rc.wait((b + 1) * 3)
		time.Sleep(50 * time.Millisecond) // the receiver's close reaches herald's socket
	}
	got := rc.wait(9)
	for i, g := range got {
		if str(g.m.Message) != bom+fmt.Sprintf("message %d", i) || g.conn != i/3+1 {
			t.Errorf("message %d: %q on connection %d", i, str(g.m.Message), g.conn)
		}
	}
	if n := rc.connections(); n != 3 {
		t.Errorf("%d connections, want 3 (one per batch, as the receiver closes each)", n)
	}
}

// A receiver that stops reading is an outage once the timeout passes, not a hang: the events
// the kernel did not take are retried, none is refused.
func TestStalledReceiverIsAnOutageAfterTheTimeout(t *testing.T) {
	rc := newReceiver(t, receiverOptions{network: "tcp", stall: true, max: 65536})
	s := build(t, "syslog://"+rc.Addr+"?network=tcp&timeout=300ms&max_message_size=65536&level=Normal", sinks.Env{})
	var evs []*core.Event
	for i := range 400 {
		evs = append(evs, event(i, "Warning", "BackOff", strings.Repeat("x", 60000)))
	}
	start := time.Now()
	err := s.Export(context.Background(), evs)
	took := time.Since(start)
	retry, retryErr, rejected, _ := core.Fates(err, evs)
	if len(retry) == 0 || len(rejected) != 0 || core.IsPermanent(retryErr) {
		t.Fatalf("retry %d, rejected %d: %v", len(retry), len(rejected), err)
	}
	if !strings.Contains(err.Error(), "the receiver took nothing for 300ms (timeout, it stopped reading)") {
		t.Errorf("error %q", err)
	}
	if took > 5*time.Second {
		t.Errorf("Export took %s with a 300ms timeout", took)
	}
}

// TLS with a test CA: delivered when ca_file holds the CA that signed the receiver's
// certificate. With another CA it is an outage (retried, never refused) whose error says which
// parameter to fix; nothing reaches the receiver.
func TestTLS(t *testing.T) {
	dir := t.TempDir()
	good, other := newTestCA(t, dir, "good"), newTestCA(t, dir, "other")
	rc := newReceiver(t, receiverOptions{network: "tls", cert: &good.cert})
	s := build(t, "syslog://"+rc.Addr+"?network=tls&level=Normal&ca_file="+url.QueryEscape(good.caFile), sinks.Env{})
	export(t, s, event(1, "Warning", "BackOff", nasty), event(2, "Warning", "BackOff", "two"))
	if got := rc.wait(2); str(got[0].m.Message) != bom+nasty {
		t.Errorf("MSG %q", str(got[0].m.Message))
	}
	// The connection is kept: the session tickets a TLS 1.3 receiver sends after the handshake
	// do not read as the receiver closing it.
	time.Sleep(50 * time.Millisecond)
	export(t, s, event(3, "Warning", "BackOff", "three"))
	rc.wait(3)
	if n := rc.connections(); n != 1 {
		t.Errorf("%d TLS connections for two batches, want one kept", n)
	}

	// A receiver that closes (close_notify, then FIN) gets the next batch on a new connection,
	// whole.
	closing := newReceiver(t, receiverOptions{network: "tls", cert: &good.cert, closeAfter: 2})
	s = build(t, "syslog://"+closing.Addr+"?network=tls&level=Normal&ca_file="+url.QueryEscape(good.caFile), sinks.Env{})
	for b := range 3 {
		export(t, s, event(b*2, "Warning", "BackOff", fmt.Sprint(b*2)), event(b*2+1, "Warning", "BackOff", fmt.Sprint(b*2+1)))
		closing.wait(b*2 + 2)
		time.Sleep(50 * time.Millisecond)
	}
	for i, g := range closing.wait(6) {
		if str(g.m.Message) != bom+fmt.Sprint(i) || g.conn != i/2+1 {
			t.Errorf("message %d: %q on connection %d", i, str(g.m.Message), g.conn)
		}
	}

	bad := newReceiver(t, receiverOptions{network: "tls", cert: &good.cert})
	s = build(t, "syslog://"+bad.Addr+"?network=tls&level=Normal&ca_file="+url.QueryEscape(other.caFile), sinks.Env{})
	evs := []*core.Event{event(1, "Warning", "BackOff", "x")}
	err := s.Export(context.Background(), evs)
	retry, retryErr, rejected, _ := core.Fates(err, evs)
	if len(retry) != 1 || len(rejected) != 0 || core.IsPermanent(retryErr) {
		t.Fatalf("bad CA: retry %d, rejected %d: %v", len(retry), len(rejected), err)
	}
	for _, want := range []string{"syslog#1: TLS handshake with tls://" + bad.Addr, "not signed by a CA herald trusts", "give the CA that signed it in ca_file"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q lacks %q", err, want)
		}
	}
	time.Sleep(50 * time.Millisecond)
	bad.mu.Lock()
	n := len(bad.msgs)
	bad.mu.Unlock()
	if n != 0 {
		t.Errorf("the receiver got %d messages over an unverified connection", n)
	}
}

// Nothing listening is an outage with the fix, not a verdict.
func TestConnectionRefusedIsAnOutage(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	s := build(t, "syslog://"+addr+"?network=tcp", sinks.Env{})
	evs := []*core.Event{event(1, "Warning", "BackOff", "x")}
	err = s.Export(context.Background(), evs)
	retry, retryErr, _, _ := core.Fates(err, evs)
	if len(retry) != 1 || core.IsPermanent(retryErr) || !strings.Contains(err.Error(), "nothing listens there (connection refused)") {
		t.Errorf("got %v", err)
	}
}

// The severity follows the event's type (Warning: warning, Normal: info, anything else:
// notice); the facility is local0 unless facility= says otherwise.
func TestSeverityAndFacility(t *testing.T) {
	for _, c := range []struct {
		typ string
		sev int
	}{{"Warning", 4}, {"Normal", 6}, {"Custom", 5}} {
		if got := syslog.Severity(c.typ); got != c.sev {
			t.Errorf("%s: severity %d, want %d", c.typ, got, c.sev)
		}
	}
	rc := newReceiver(t, receiverOptions{network: "udp"})
	s := build(t, "syslog://"+rc.Addr+"?facility=local7&level=Normal", sinks.Env{})
	export(t, s, event(1, "Custom", "Odd", "x"))
	if got := rc.wait(1); *got[0].m.Priority != 23*8+5 {
		t.Errorf("PRI %d, want local7.notice (189)", *got[0].m.Priority)
	}
}

// body_template renders MSG; an event it fails for is refused alone, the others are sent.
func TestTemplateMSG(t *testing.T) {
	rc := newReceiver(t, receiverOptions{network: "tcp"})
	tmpl := `{{ if eq .Reason "Poison" }}{{ .Nope }}{{ end }}{{ .Reason }} on {{ .InvolvedObject.Name }}: {{ .Message }}`
	s := build(t, "syslog://"+rc.Addr+"?network=tcp&level=Normal&body_template="+url.QueryEscape(tmpl), sinks.Env{})
	poison := event(2, "Warning", "Poison", "x")
	batch := []*core.Event{event(1, "Warning", "BackOff", "a \"quoted\" message"), poison, event(3, "Warning", "Pulled", "c")}
	err := s.Export(context.Background(), batch)
	retry, _, rejected, rejectErr := core.Fates(err, batch)
	if len(retry) != 0 || len(rejected) != 1 || rejected[0] != poison || !strings.Contains(rejectErr.Error(), "the MSG template does not render") {
		t.Fatalf("retry %d, rejected %d: %v", len(retry), len(rejected), err)
	}
	got := rc.wait(2)
	if str(got[0].m.Message) != bom+`BackOff on web-1: a "quoted" message` || str(got[1].m.Message) != bom+"Pulled on web-3: c" {
		t.Errorf("MSGs %q, %q", str(got[0].m.Message), str(got[1].m.Message))
	}
}

// herald check shows the frame without connecting.
func TestPreview(t *testing.T) {
	b, err := sinks.Build(1, "syslog://logs.example:514?network=tcp&hostname=cluster", sinks.Env{CheckOnly: true, Cluster: "prod-eu"})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Sink.Close()
	out, err := b.Sink.(sinks.Previewer).Preview(template.SampleEvent())
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"to tcp://logs.example:514:", "<132>1 2026-11-23T18:53:15Z prod-eu-1 herald - BackOff [k8s@32473 kind=\"Pod\"", "] <BOM>Back-off restarting failed container"} {
		if !strings.Contains(out, want) {
			t.Errorf("preview lacks %q:\n%s", want, out)
		}
	}
}

// Bad values are refused at start, naming the parameter and the fix.
func TestBadParameters(t *testing.T) {
	dir := t.TempDir()
	cases := map[string]string{
		"syslog:":                              "no receiver given; write the receiver as syslog://HOST:PORT",
		"syslog:logs.example:514":              "the target is no //HOST:PORT",
		"syslog://logs.example:99999":          `port "99999" is not a number from 1 to 65535`,
		"syslog://u:p@logs.example":            "syslog has no user or password",
		"syslog://logs.example/x":              "syslog takes no path",
		"syslog://logs.example?network=tpc":    `parameter "network": "tpc" is not allowed; write one of udp, tcp, tls (did you mean "tcp"?)`,
		"syslog://logs.example?facility=locl0": `parameter "facility": "locl0" is not a syslog facility; write one of kern`,
		"syslog://logs.example?facility=24":    `parameter "facility": "24" is not a syslog facility`,
		"syslog://logs.example?tag=my%20app":   `parameter "tag": "my app" holds a character syslog does not allow there`,
		"syslog://logs.example?format=rfc3164&tag=" + strings.Repeat("a", 33): "rfc3164 allows 32",
		"syslog://logs.example?sd_id=k8s":                                     `parameter "sd_id": "k8s" has no @PEN`,
		"syslog://logs.example?sd_id=k8s@x1":                                  `"x1" is not a Private Enterprise Number`,
		"syslog://logs.example?framing=lf":                                    `parameter "framing": framing applies to tcp and tls`,
		"syslog://logs.example?ca_file=/x.pem":                                `parameter "ca_file": applies only to network=tls; add network=tls`,
		"syslog://logs.example?network=tls&ca_file=" + dir + "/none.pem":      `parameter "ca_file": cannot read it`,
		"syslog://logs.example?network=tls&cert_file=/c.pem":                  `parameter "cert_file": a client certificate needs its key`,
		"syslog://logs.example?hostname=cluster":                              "hostname=cluster, but herald runs without --cluster-name",
		"syslog://logs.example?max_message_size=100":                          `parameter "max_message_size": "100" is out of range`,
		"syslog://logs.example?timeout=0s":                                    `parameter "timeout"`,
		"syslog://logs.example?levl=Normal":                                   `unknown parameter "levl"; did you mean "level"?`,
	}
	for value, want := range cases {
		_, err := sinks.Build(2, value, sinks.Env{})
		if err == nil || !strings.Contains(err.Error(), want) || !strings.HasPrefix(err.Error(), "--sink #2 (syslog): ") {
			t.Errorf("%s:\n got %v\nwant %q", value, err, want)
		}
	}
}

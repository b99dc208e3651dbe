package eventexporter

import (
	"strings"
	"testing"
)

// Writing a parameter the sink does not declare, or a secret parameter's value in the open, is a
// mistake in this package: it panics naming the sink type and the parameter, never the value.
func TestWrittenParametersAreDeclared(t *testing.T) {
	panics := func(scheme, name, value, want string) {
		t.Helper()
		defer func() {
			r := recover()
			err, ok := r.(error)
			if !ok || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), scheme) {
				t.Errorf("%s: %s=%s: recovered %v, want an error naming the sink and saying %q", scheme, name, value, r, want)
			}
			if ok && value != "" && strings.Contains(err.Error(), value) {
				t.Errorf("%s: the error quotes the value: %v", scheme, err)
			}
		}()
		s := &sinkSpec{scheme: scheme}
		s.add(name, value)
	}
	panics("kafka", "header", "X-A=1", `declares no parameter "header"`)
	panics("log", "ca_file", "/etc/ca.pem", `declares no parameter "ca_file"`)
	panics("webhook", "cacert_file", "/etc/ca.pem", `declares no parameter "cacert_file"`)
	panics("kafka", "password", "SECRET-VALUE", `parameter "password" is secret`)
	panics("slack", "token", "${A}x", `parameter "token" is secret`)
	panics("webhook", "header", "Authorization=SECRET-VALUE", `parameter "header" is secret`)
	panics("nosuchsink", "name", "some-name", "no nosuchsink sink")

	// Aliases are written as the sink's own name; references and public headers pass.
	for _, c := range []struct{ scheme, name, value, want string }{
		{"kafka", "ca_file", "/etc/ca.pem", "cacert"},
		{"kafka", "insecure_skip_verify", "true", "insecuressl"},
		{"elasticsearch", "cacert", "/etc/ca.pem", "ca_file"},
		{"file", "maxsize", "50", "max_size"},
		{"kafka", "password", "${KAFKA_PASSWORD}", "password"},
		{"webhook", "header", "Authorization=${TOKEN}", "header"},
		{"webhook", "header", "User-Agent=kube-event-exporter", "header"},
		{"webhook", "header", "X=Y=${TOKEN}", "header"}, // a header name herald will refuse (Verify)
		{"loki", "level", "Warning", "level"},
	} {
		s := &sinkSpec{scheme: c.scheme}
		s.add(c.name, c.value)
		if got := s.params[0]; got.name != c.want || got.value != c.value {
			t.Errorf("%s: %s=%s written as %s=%s, want %s=%s", c.scheme, c.name, c.value, got.name, got.value, c.want, c.value)
		}
	}
}

package uri

import (
	"net/url"
	"strings"
	"testing"
)

func TestParse(t *testing.T) {
	t.Setenv("ROBOT_KEY", "s3cr3t")
	u, err := Parse("sink", "wechat:https://qyapi.example/send?key=${ROBOT_KEY}&level=Warning")
	if err != nil {
		t.Fatal(err)
	}
	if u.Scheme != "wechat" || u.Target.Host != "qyapi.example" || u.Target.Query().Get("key") != "s3cr3t" {
		t.Fatalf("parsed %+v", u)
	}
	u, err = Parse("sink", "wechat:?corp_id=a&agent_id=1")
	if err != nil || u.Target.Host != "" || u.Target.Query().Get("agent_id") != "1" {
		t.Fatalf("hostless form: %+v %v", u, err)
	}
	u, err = Parse("sink", "log")
	if err != nil || u.Scheme != "log" {
		t.Fatalf("bare scheme: %+v %v", u, err)
	}
}

func TestStrayPercentIsALiteral(t *testing.T) {
	t.Setenv("SECRET_PW", "hun%ter%%2%41")
	u, err := Parse("sink", "elasticsearch:http://es:9200?index=kube-events-%Y.%m.%d&pw=${SECRET_PW}&sp=a%20b")
	if err != nil {
		t.Fatal(err)
	}
	q := u.Target.Query()
	if q.Get("index") != "kube-events-%Y.%m.%d" || q.Get("pw") != "hun%ter%%2A" || q.Get("sp") != "a b" {
		t.Fatalf("index=%q pw=%q sp=%q", q.Get("index"), q.Get("pw"), q.Get("sp"))
	}
}

func TestParseErrors(t *testing.T) {
	t.Setenv("SECRET_PW", "hunter2%zz")
	cases := []struct{ in, want string }{
		{":http://x", "missing the scheme"},
		{"a/b:x", `is not a scheme`},
	}
	for _, c := range cases {
		_, err := Parse("sink", c.in)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%q: got %v, want %q", c.in, err, c.want)
			continue
		}
		if strings.Contains(err.Error(), "hunter2") {
			t.Errorf("%q: error leaks the expanded secret: %v", c.in, err)
		}
	}
}

// TestExpandAsKubeEventer: $NAME and ${NAME} expand as os.ExpandEnv does (kube-eventer's
// common/flags); an unset variable expands to nothing with a warning that names it and never
// quotes a value; a "$" that starts no name stays.
func TestExpandAsKubeEventer(t *testing.T) {
	t.Setenv("HERALD_T_TOKEN", "s3cr3t")
	t.Setenv("HERALD_T_HOST", "receiver:8080")
	cases := []struct {
		in, wantTarget string
		warn           []string
	}{
		{"webhook:http://$HERALD_T_HOST/x?token=${HERALD_T_TOKEN}", "http://receiver:8080/x?token=s3cr3t", nil},
		{"webhook:http://h/x?token=$HERALD_T_TOKEN&level=Warning", "http://h/x?token=s3cr3t&level=Warning", nil},
		{"webhook:http://h/x?reason=^BackOff$&exclude_namespaces=/-sandbox$/", "http://h/x?reason=^BackOff$&exclude_namespaces=/-sandbox$/", nil},
		{"webhook:http://h/x?token=${HERALD_T_UNSET}&a=$HERALD_T_UNSET", "http://h/x?token=&a=", []string{"HERALD_T_UNSET is not set"}},
		{"honeycomb:?dataset=k8s-${local.cluster_name}", "?dataset=k8s-", []string{"local.cluster_name is not set"}},
		{"webhook:http://h/x?p=%24HERALD_T_TOKEN", "http://h/x?p=%24HERALD_T_TOKEN", nil},
	}
	for _, c := range cases {
		u, err := Parse("sink", c.in)
		if err != nil {
			t.Errorf("%q: %v", c.in, err)
			continue
		}
		if got := u.Target.String(); got != c.wantTarget {
			t.Errorf("%q: target %q, want %q", c.in, got, c.wantTarget)
		}
		if len(u.Warnings) != len(c.warn) {
			t.Errorf("%q: warnings %q, want %d", c.in, u.Warnings, len(c.warn))
			continue
		}
		for i, w := range c.warn {
			if !strings.Contains(u.Warnings[i], w) || !strings.Contains(u.Warnings[i], "expands to nothing") {
				t.Errorf("%q: warning %q lacks %q", c.in, u.Warnings[i], w)
			}
		}
	}
	u, _ := Parse("sink", "webhook:http://h/x?p=%24HERALD_T_TOKEN")
	if got := u.Target.Query().Get("p"); got != "$HERALD_T_TOKEN" {
		t.Errorf("%%24 decodes to %q, want a literal $HERALD_T_TOKEN", got)
	}
}

var spec = []Param{
	{Name: "method", Default: "GET"},
	{Name: "header", Repeatable: true},
	{Name: "timeout", Default: "10s"},
	{Name: "workers", Default: "2"},
	{Name: "insecure"},
	{Name: "format"},
}

func params(t *testing.T, q string) *Params {
	v, err := url.ParseQuery(q)
	if err != nil {
		t.Fatal(err)
	}
	return NewParams("--sink #3 (webhook)", v, spec)
}

func TestParamsTyped(t *testing.T) {
	p := params(t, "header=A=1&header=B=2,3&timeout=500ms&insecure=yes&format=JSON")
	if p.String("method") != "GET" {
		t.Error("default not applied")
	}
	if got := p.Values("header"); len(got) != 2 || got[0] != "A=1" {
		t.Errorf("Values = %v", got)
	}
	if d := p.Duration("timeout"); d.Milliseconds() != 500 {
		t.Errorf("Duration = %v", d)
	}
	if p.Int("workers", 1, 10) != 2 {
		t.Error("Int default")
	}
	if !p.Bool("insecure") {
		t.Error("Bool")
	}
	if p.OneOf("format", "text", "json") != "json" {
		t.Error("OneOf is case-insensitive and canonical")
	}
	if err := p.Err(); err != nil {
		t.Fatal(err)
	}
}

func TestParamsErrors(t *testing.T) {
	cases := []struct{ q, want string }{
		{"workers=0", `parameter "workers": "0" is out of range or not a number; write a whole number from 1 to 10`},
		{"timeout=soon", `"soon" is not a duration`},
		{"insecure=perhaps", `"perhaps" is not a boolean`},
		{"format=xml", `write one of text, json`},
		{"format=jsn", `did you mean "json"?`},
		{"metod=POST", `unknown parameter "metod"; did you mean "method"?`},
		{"zzzzzz=1", `unknown parameter "zzzzzz"; remove it`},
		{"method=GET&method=POST", `"method": given 2 times; give it once`},
	}
	for _, c := range cases {
		p := params(t, c.q)
		p.Int("workers", 1, 10)
		p.Duration("timeout")
		p.Bool("insecure")
		p.OneOf("format", "text", "json")
		p.String("method")
		err := p.Err()
		if err == nil || !strings.Contains(err.Error(), c.want) || !strings.HasPrefix(err.Error(), "--sink #3 (webhook)") {
			t.Errorf("%q: got %v, want %q", c.q, err, c.want)
		}
	}
}

func TestPassthrough(t *testing.T) {
	p := params(t, "token=abc&metod=POST&method=POST")
	p.String("method")
	if got := p.Passthrough(); len(got) != 1 || got[0] != "token" {
		t.Fatalf("Passthrough = %v, want [token]", got)
	}
	err := p.Err()
	if err == nil || !strings.Contains(err.Error(), `did you mean "method"`) || strings.Contains(err.Error(), "token") {
		t.Fatalf("near-miss must stay an error, passthrough must not: %v", err)
	}
}

func TestUndeclaredParameterPanics(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Fatal("reading an undeclared parameter must panic (it would be missing from help)")
		}
	}()
	params(t, "").String("undeclared")
}

func TestEnvRefs(t *testing.T) {
	// Parse expands $NAME as well as ${NAME} (kube-eventer's os.ExpandEnv), so both are references.
	got := EnvRefs("wechat:https://q/send?key=${ROBOT_KEY}&x=${A_1}&y=${ROBOT_KEY}&z=$PLAIN&p=50%")
	if strings.Join(got, ",") != "ROBOT_KEY,A_1,PLAIN" {
		t.Errorf("EnvRefs = %v, want [ROBOT_KEY A_1 PLAIN]", got)
	}
	if EnvRefs("log:") != nil {
		t.Error("EnvRefs of a value without references is not empty")
	}
}

// An alias (a legacy or kube-eventer spelling) is read as its parameter; both at once is an error.
func TestParamAliases(t *testing.T) {
	spec := []Param{{Name: "ca_file", Aliases: []string{"cacert"}}}
	p := NewParams("--sink #1 (x)", url.Values{"cacert": {"/etc/ca.pem"}}, spec)
	if got := p.String("ca_file"); got != "/etc/ca.pem" {
		t.Fatalf("ca_file = %q, want the value given as cacert", got)
	}
	if err := p.Err(); err != nil {
		t.Fatalf("an alias is no unknown parameter: %v", err)
	}
	p = NewParams("--sink #1 (x)", url.Values{"cacert": {"/a.pem"}, "ca_file": {"/b.pem"}}, spec)
	p.String("ca_file")
	if err := p.Err(); err == nil || !strings.Contains(err.Error(), `given as both "ca_file" and "cacert"`) {
		t.Fatalf("both given: %v", err)
	}
	// A message about a parameter names it as the user wrote it.
	p = NewParams("--sink #1 (x)", url.Values{"cacert": {"/a.pem"}}, spec)
	p.Errorf("ca_file", "give a PEM file", "holds no certificate")
	p.Warnf("ca_file", "is odd")
	if err := p.Err(); err == nil || !strings.Contains(err.Error(), `parameter "cacert": holds no certificate`) {
		t.Errorf("error about an alias: %v; want it to name cacert, as written", err)
	}
	if w := p.Warnings(); len(w) != 1 || !strings.Contains(w[0], `parameter "cacert": is odd`) {
		t.Errorf("warnings %q; want one naming cacert, as written", w)
	}
	// An alias is as declared, and as secret, as its parameter: a logged --sink value shows a
	// path given as cacert, and still hides a password given under its old name.
	spec = append(spec, Param{Name: "password", Secret: true, Aliases: []string{"passwd"}})
	p = NewParams("--sink #1 (x)", url.Values{}, spec)
	for _, c := range []struct {
		name             string
		declared, secret bool
	}{{"cacert", true, false}, {"ca_file", true, false}, {"passwd", true, true}, {"password", true, true}, {"cacertt", false, true}} {
		if p.IsDeclared(c.name) != c.declared || p.IsSecret(c.name) != c.secret {
			t.Errorf("%s: declared %v, secret %v; want %v, %v", c.name, p.IsDeclared(c.name), p.IsSecret(c.name), c.declared, c.secret)
		}
	}
}

// A password from ${ENV} in the userinfo is percent-encoded whole, so '@', '/', '#' and '%' in it
// keep the URL's host, path and query; one in a DSN that '#' or '&' would cut is a warning.
func TestExpandedUserinfoAndDSN(t *testing.T) {
	t.Setenv("E2E_PW", `p@ss/w:rd#1 ,"x%41`)
	u, err := Parse("sink", `webhook:http://herald:${E2E_PW}@127.0.0.1:8080/hook?method=POST`)
	if err != nil {
		t.Fatal(err)
	}
	pw, _ := u.Target.User.Password()
	if u.Target.Host != "127.0.0.1:8080" || u.Target.Path != "/hook" || pw != `p@ss/w:rd#1 ,"x%41` || u.Target.Query().Get("method") != "POST" {
		t.Fatalf("host %q path %q password %q query %q", u.Target.Host, u.Target.Path, pw, u.Target.RawQuery)
	}
	if w := strings.Join(u.Warnings, "\n"); !strings.Contains(w, "E2E_PW, in the URL's user:password@") {
		t.Errorf("warnings %q", w)
	}
	u, err = Parse("sink", `mysql:?herald:${E2E_PW}@tcp(127.0.0.1:3306)/db&table=t`)
	if err == nil && !strings.Contains(strings.Join(u.Warnings, "\n"), "end a MySQL DSN") {
		t.Errorf("no warning for a DSN cut by '#': %q", u.Warnings)
	}
}

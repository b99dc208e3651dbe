package all_test

import (
	"bufio"
	"os"
	"strings"
	"testing"

	"github.com/heraldproject/herald/sinks"
)

// refused are the lines of testdata/kube-eventer-sinks.tsv herald does not run, each with the
// text its error must hold: schemes of kube-eventer forks, user mistakes kube-eventer could not
// run either.
var refused = map[string]string{
	"KE023": `unknown sink type "remotewrite"`, // a fork's Prometheus remote-write sink
	"KE024": `unknown sink type "remotewrite"`,
	"KE027": `unknown sink type "prometheus"`, // a fork's Prometheus sink
	"KE028": `unknown sink type "prometheus"`,
	"KE033": `did you mean "kafka"?`,        // --sink="kafka:... with the quote inside
	"KE054": `parameter "method": "POST请求"`, // kube-eventer's http.NewRequest refused it on every send
}

// Every --sink line users ran kube-eventer with builds in herald (warning by name where herald
// reads it differently), or is refused with an error that names why.
func TestKubeEventerSinkLinesBuild(t *testing.T) {
	f, err := os.Open("testdata/kube-eventer-sinks.tsv")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	built, n := 0, 0
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		cols := strings.SplitN(sc.Text(), "\t", 4)
		if len(cols) != 4 {
			t.Fatalf("malformed line %q", sc.Text())
		}
		id, value := cols[0], strings.TrimPrefix(cols[3], "--sink=")
		n++
		b, err := sinks.Build(1, value, sinks.Env{CheckOnly: true})
		want, isRefused := refused[id]
		switch {
		case err == nil && isRefused:
			t.Errorf("%s: built, but the test expects %q", id, want)
		case err != nil && !isRefused:
			t.Errorf("%s: %v", id, err)
		case err != nil && !strings.Contains(err.Error(), want):
			t.Errorf("%s: error %q lacks %q", id, err, want)
		}
		if err == nil {
			built++
			_ = b.Sink.Close()
		}
	}
	if n < 30 {
		t.Fatalf("read %d lines; the file has more", n)
	}
	t.Logf("%d of %d kube-eventer --sink lines build", built, n)
}

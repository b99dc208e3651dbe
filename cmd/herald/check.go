package main

import (
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/golang/glog"

	"github.com/heraldproject/herald/common/template"
	"github.com/heraldproject/herald/sinks"
)

// runCheck parses every --sink, loads every template (ConfigMaps too, when a cluster is
// reachable), renders a sample event through each sink that can preview, prints the bodies and
// sends nothing. It returns 0 when everything is valid.
func runCheck(o *options, w io.Writer) int {
	if err := o.validate(); err != nil {
		fmt.Fprintf(w, "FAIL: %v\n", err)
		return 1
	}
	env := sinks.Env{Ctx: context.Background(), Cluster: o.clusterName, Location: o.location, CheckOnly: true}
	if _, client, err := connect(o); err == nil {
		env.Kube = client
	} else {
		glog.V(1).Infof("check: no cluster (%v); ConfigMap templates cannot be loaded", err)
	}
	built, err := sinks.BuildAll(o.sinks, env)
	if err != nil {
		fmt.Fprintf(w, "FAIL:\n%v\n", err)
		return 1
	}
	failed := false
	sample := template.SampleEvent()
	sample.Cluster = o.clusterName
	for _, b := range built {
		fmt.Fprintf(w, "sink %s: %s\n", b.ID, b.Redacted)
		obj := sample.InvolvedObject
		fmt.Fprintf(w, "  sample event (%s %s on %s %s/%s) passes the filter: %v\n", sample.Type, sample.Reason, obj.Kind, obj.Namespace, obj.Name, b.Filter.Match(sample))
		if p, ok := b.Sink.(sinks.Previewer); ok {
			body, err := p.Preview(sample)
			if err != nil {
				fmt.Fprintf(w, "  FAIL rendering the sample event: %v\n", err)
				failed = true
			} else {
				fmt.Fprintf(w, "  body:\n%s\n", indent(body, "    "))
			}
		}
		_ = b.Sink.Close()
	}
	if failed {
		return 1
	}
	fmt.Fprintf(w, "OK: %d sink(s) valid\n", len(built))
	return 0
}

func indent(s, prefix string) string {
	return prefix + strings.ReplaceAll(s, "\n", "\n"+prefix)
}

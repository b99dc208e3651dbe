package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/golang/glog"
	"k8s.io/client-go/kubernetes"

	"github.com/heraldproject/herald/common/redact"
	"github.com/heraldproject/herald/common/template"
	"github.com/heraldproject/herald/common/uri"
	"github.com/heraldproject/herald/routes"
	"github.com/heraldproject/herald/sinks"
	kubesource "github.com/heraldproject/herald/sources/kubernetes"
)

// runCheck parses --source and every --sink, loads every template (ConfigMaps too, when a cluster
// is reachable), renders a sample event through each sink that can preview, prints the bodies
// and sends nothing. It is strict where the daemon is lenient: it returns 0 only when
// everything is valid and nothing gave a warning, so CI and a migration see every problem.
func runCheck(o *options, w io.Writer) int {
	if err := o.complete(); err != nil {
		fmt.Fprintf(w, "FAIL: %v\n", err)
		return 1
	}
	warnings := append([]string(nil), o.warnings...)
	env := sinks.Env{Ctx: context.Background(), Cluster: o.clusterName, Location: o.location, CheckOnly: true}
	raw := defaultSource
	if len(o.sources) == 1 {
		raw = o.sources[0]
	}
	src, err := uri.Parse("source", raw)
	if err != nil {
		fmt.Fprintf(w, "FAIL: %v\n", err)
		return 1
	}
	settings, err := kubesource.ParseSource(src)
	if err != nil {
		fmt.Fprintf(w, "FAIL:\n%v\n", err)
		return 1
	}
	fmt.Fprintf(w, "source: %s\n", redact.Text(raw))
	for _, wn := range append(warnings, settings.Warnings...) {
		fmt.Fprintf(w, "  WARNING: %s\n", wn)
	}
	warnings = append(warnings, settings.Warnings...)
	// A cluster that cannot be reached is not a configuration error here (check runs in CI);
	// it only means ConfigMap templates cannot be loaded.
	if cfg, err := settings.ClientConfig(); err == nil {
		if client, err := kubernetes.NewForConfig(cfg); err == nil {
			env.Kube = client
		}
	} else {
		glog.V(1).Infof("check: no cluster (%v); ConfigMap templates cannot be loaded", err)
	}
	built, err := sinks.BuildAll(o.sinks, env)
	if err != nil {
		fmt.Fprintf(w, "FAIL:\n%v\n", err)
		return 1
	}
	failed := false
	nReceivers := 0
	if o.configFile != "" {
		data, err := os.ReadFile(o.configFile)
		if err != nil {
			fmt.Fprintf(w, "FAIL: --config=%s: %v\n", o.configFile, err)
			return 1
		}
		snap, err := routes.Parse(data, ownNamespace())
		if err != nil {
			fmt.Fprintf(w, "FAIL: --config=%s: %v\n", o.configFile, err)
			return 1
		}
		var objs routes.Objects
		if env.Kube != nil {
			objs = routes.KubeObjects{Client: env.Kube}
		}
		statuses, wns := routes.Check(snap, objs, env, ownNamespace(), "config", nil)
		fmt.Fprintf(w, "config %s: %d Receiver(s), %d Route(s)\n", o.configFile, len(snap.Receivers), len(snap.Routes))
		for _, st := range statuses {
			verdict := "OK"
			if !st.Ready {
				verdict, failed = "FAIL ("+st.Reason+")", true
			}
			fmt.Fprintf(w, "  %s %s/%s: %s: %s\n", st.Kind, st.Namespace, st.Name, verdict, redact.ScrubRegistered(st.Message))
		}
		for _, wn := range wns {
			fmt.Fprintf(w, "  WARNING: %s\n", wn)
		}
		warnings = append(warnings, wns...)
		nReceivers = len(snap.Receivers)
	}
	sample := template.SampleEvent()
	sample.Cluster = o.clusterName
	for _, b := range built {
		fmt.Fprintf(w, "sink %s: %s\n", b.ID, b.Redacted)
		for _, wn := range b.Warnings {
			fmt.Fprintf(w, "  WARNING: %s\n", wn)
		}
		warnings = append(warnings, b.Warnings...)
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
	if len(warnings) > 0 {
		fmt.Fprintf(w, "FAIL: %d warning(s) above: herald would start with this command line, but reads it as kube-eventer did or differently from what it says; fix each one (the daemon logs them and counts them in herald_config_warnings)\n", len(warnings))
		return 1
	}
	if nReceivers > 0 {
		fmt.Fprintf(w, "OK: %d sink(s) and %d Receiver(s) valid\n", len(built), nReceivers)
		return 0
	}
	fmt.Fprintf(w, "OK: %d sink(s) valid\n", len(built))
	return 0
}

func indent(s, prefix string) string {
	return prefix + strings.ReplaceAll(s, "\n", "\n"+prefix)
}

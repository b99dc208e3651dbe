package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/golang/glog"
	"github.com/prometheus/client_golang/prometheus"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"

	"github.com/heraldproject/herald/core"
	"github.com/heraldproject/herald/routes"
	"github.com/heraldproject/herald/sinks"
	kubesource "github.com/heraldproject/herald/sources/kubernetes"
)

// teamRoutes are the Managers of --config and --routes (nil when not used).
type teamRoutes struct {
	file      *routes.Manager
	crds      *routes.Manager
	resources *routes.Resources
}

// leading lets the Receiver and Route status be written (this replica leads, or runs alone).
func (t *teamRoutes) leading() {
	if t.resources != nil {
		t.resources.EnableStatus()
	}
}

// sinks is built with every running Receiver's sink (id and checkpoint key) added.
func (t *teamRoutes) sinks(built []*sinks.Built) []*sinks.Built {
	out := append([]*sinks.Built(nil), built...)
	for _, m := range []*routes.Manager{t.file, t.crds} {
		if m != nil {
			out = append(out, m.Sinks()...)
		}
	}
	return out
}

// ownNamespace is where herald runs: Routes there may select events of every namespace, and
// --config objects without a namespace belong to it ("default" outside a pod).
func ownNamespace() string {
	if ns := podNamespace(); ns != "" {
		return ns
	}
	return "default"
}

// startRoutes loads --config (a file that does not validate stops herald at start: there is
// no last good configuration yet) and keeps it loaded until ctx ends: on change, on SIGHUP,
// and every 30 s for rotated Secrets.
func startRoutes(ctx context.Context, o *options, p *core.Pipeline, pm *core.Metrics, settings *kubesource.Settings, client kubernetes.Interface, reg prometheus.Registerer, env sinks.Env) (*teamRoutes, error) {
	t := &teamRoutes{}
	ns := ownNamespace()
	objects := routes.KubeObjects{Client: client}
	if o.routeCRDs {
		cfg, err := settings.ClientConfig()
		if err != nil {
			return nil, err
		}
		dyn, err := dynamic.NewForConfig(cfg)
		if err != nil {
			return nil, fmt.Errorf("--routes: %v", err)
		}
		t.crds = routes.NewManager(routes.Config{Pipeline: p, Env: env, Namespace: ns, Prefix: "receiver", Objects: objects})
		t.resources = &routes.Resources{Dynamic: dyn, Discovery: client.Discovery(), Manager: t.crds, Counts: pm.SinkCounts}
		if err := t.resources.Start(ctx); err != nil {
			return nil, err
		}
		glog.Infof("--routes: serving Receivers and Routes (%s); Routes in %s may select events of every namespace", "herald.dev/v1alpha1", ns)
		go t.resources.Run(ctx)
	}
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	if o.configFile == "" {
		go func() {
			for range hup {
				glog.Info("SIGHUP: there is no --config to reload; herald goes on")
			}
		}()
		return t, nil
	}
	t.file = routes.NewManager(routes.Config{Pipeline: p, Env: env, Namespace: ns, Prefix: "config", Objects: objects})
	f := &routes.File{Path: o.configFile, Namespace: ns, Manager: t.file, Metrics: routes.NewFileMetrics(reg)}
	if err := f.Load(); err != nil {
		return nil, err
	}
	go f.Run(ctx, hup)
	return t, nil
}

package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"sync"
	"syscall"
	"time"

	"github.com/golang/glog"
	"github.com/prometheus/client_golang/prometheus"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/client-go/discovery/cached/memory"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/metadata"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/restmapper"

	"github.com/heraldproject/herald/core"
	"github.com/heraldproject/herald/routes"
	"github.com/heraldproject/herald/sinks"
	kubesource "github.com/heraldproject/herald/sources/kubernetes"
	"github.com/heraldproject/herald/sources/kubernetes/objlabels"
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
	var labelsOf routes.LabelsFunc
	var cfg *rest.Config
	if o.routeCRDs || o.configFile != "" {
		var err error
		if cfg, err = settings.ClientConfig(); err != nil {
			return nil, err
		}
		if labelsOf, err = objectLabels(cfg, client, reg); err != nil {
			return nil, err
		}
	}
	if o.routeCRDs {
		dyn, err := dynamic.NewForConfig(cfg)
		if err != nil {
			return nil, fmt.Errorf("--routes: %v", err)
		}
		// Receivers' Secrets come from a watch (Resources starts it): a rotated one applies at once.
		secrets := routes.NewSecretInformer(client)
		t.crds = routes.NewManager(routes.Config{Pipeline: p, Env: env, Namespace: ns, Prefix: "receiver", Objects: secrets, Labels: labelsOf})
		t.resources = &routes.Resources{Dynamic: dyn, Discovery: client.Discovery(), Manager: t.crds, Counts: pm.SinkCounts, Secrets: secrets}
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
	t.file = routes.NewManager(routes.Config{Pipeline: p, Env: env, Namespace: ns, Prefix: "config", Objects: routes.KubeObjects{Client: client}, Labels: labelsOf})
	f := &routes.File{Path: o.configFile, Namespace: ns, Manager: t.file, Metrics: routes.NewFileMetrics(reg)}
	if err := f.Load(); err != nil {
		return nil, err
	}
	go f.Run(ctx, hup)
	return t, nil
}

// objectLabels reads involved objects' labels for Routes' objectSelector: metadata only,
// cached for a minute, at most 10,000 objects. A lookup runs while the event is offered to the
// sinks, so it is bounded to 2 s; a failure (RBAC names the missing permission) is logged at
// most once per kind every 10 minutes, and the selector does not match.
func objectLabels(cfg *rest.Config, client kubernetes.Interface, reg prometheus.Registerer) (routes.LabelsFunc, error) {
	md, err := metadata.NewForConfig(cfg)
	if err != nil {
		return nil, err
	}
	mapper := restmapper.NewDeferredDiscoveryRESTMapper(memory.NewMemCacheClient(client.Discovery()))
	l, err := objlabels.New(objlabels.Config{Metadata: md, Mapper: mapper, Timeout: 2 * time.Second, Registerer: reg})
	if err != nil {
		return nil, err
	}
	var mu sync.Mutex
	logged := map[string]time.Time{}
	return func(ref corev1.ObjectReference) (map[string]string, error) {
		got, err := l.Labels(context.Background(), ref)
		if err != nil {
			k := ref.APIVersion + "/" + ref.Kind
			mu.Lock()
			if time.Since(logged[k]) > 10*time.Minute {
				logged[k] = time.Now()
				glog.Warningf("routes: objectSelector cannot read the labels of %s %s/%s (%v); Routes with an objectSelector do not select its events", ref.Kind, ref.Namespace, ref.Name, err)
			}
			mu.Unlock()
		}
		return got, err
	}, nil
}

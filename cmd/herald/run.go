package main

import (
	"context"
	"errors"
	"fmt"
	"os/signal"
	"sync"
	"sync/atomic"
	"syscall"

	"github.com/golang/glog"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"k8s.io/client-go/kubernetes"

	"github.com/heraldproject/herald/common/checkpoint"
	"github.com/heraldproject/herald/common/template"
	"github.com/heraldproject/herald/common/uri"
	"github.com/heraldproject/herald/core"
	"github.com/heraldproject/herald/sinks"
	kubesource "github.com/heraldproject/herald/sources/kubernetes"
	"github.com/heraldproject/herald/sources/podrestart"
)

const defaultSource = "kubernetes:https://kubernetes.default"

// runDaemon watches events and delivers them until SIGTERM/SIGINT. It returns the exit code.
func runDaemon(o *options) int {
	if err := o.complete(); err != nil {
		glog.Errorf("%v", err)
		return 2
	}
	printVersionLog()
	logMemoryLimit()
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()

	settings, client, err := connect(o)
	if err != nil {
		glog.Errorf("%v", err)
		return 2
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	buildInfo(reg)
	conf := newConflicts(reg)

	// Sinks live until the pipeline closes them, after the source has stopped; their watches
	// (ConfigMap templates) get a context that outlives the signal context.
	tmplMetrics, err := template.NewMetrics(reg)
	if err != nil {
		glog.Errorf("%v", err)
		return 1
	}
	sinkCtx, cancelSinks := context.WithCancel(context.Background())
	defer cancelSinks()
	// As kube-eventer: a sink that cannot be built is logged and left out; herald stops only
	// when none is left.
	report := configReport{warnings: append(o.warnings, settings.Warnings...)}
	built := report.build(o.sinks, sinks.Env{Ctx: sinkCtx, Kube: client, Cluster: o.clusterName,
		Location: o.location, TemplateMetrics: tmplMetrics})
	report.log()
	report.register(reg)
	if len(built) == 0 && o.configFile == "" && !o.routeCRDs {
		glog.Errorf("herald cannot start: no --sink is left to deliver to; fix the problems above (herald check --sink=... shows them all)")
		return 2
	}
	pipeMetrics := core.NewMetrics(reg)
	pipeline := core.NewPipeline(core.PipelineConfig{Metrics: pipeMetrics})
	for _, b := range built {
		glog.Infof("sink %s: %s", b.ID, b.Redacted)
		if err := pipeline.Add(b.ID, b.Sink, b.Filter, b.Options); err != nil {
			glog.Errorf("%v; give each --sink its own name=", err)
			return 2
		}
	}
	// Team routes: their Receivers join the pipeline before it starts, so a resume covers them.
	teams, err := startRoutes(ctx, o, pipeline, pipeMetrics, settings, client, reg, sinks.Env{Ctx: sinkCtx, Kube: client, Cluster: o.clusterName,
		Location: o.location, TemplateMetrics: tmplMetrics})
	if err != nil {
		glog.Errorf("%v", err)
		return 2
	}
	pipeline.Start()

	// With --leader-elect, only the leader goes past this point; a standby serves /readyz
	// ("standby") and waits.
	me := newSelf(o, built)
	glog.Infof("instance %q, configuration %s, process %s", me.instance, me.config, me.process)
	lead, err := newLeader(o, client, reg, me, conf)
	if err != nil {
		glog.Errorf("%v", err)
		return 2
	}
	var srcRef atomic.Pointer[kubesource.Source]
	var restartsRef atomic.Pointer[podrestart.Source]
	addr, err := serveHealth(ctx, o, reg, func() (string, error) {
		if err := conf.err(); err != nil {
			return "", err
		}
		if lead != nil && !lead.isLeading() {
			return "standby (another replica holds the lease)", nil
		}
		if src := srcRef.Load(); src == nil || !src.Ready() {
			return "", errors.New("event watch not established")
		}
		if r := restartsRef.Load(); o.podRestarts.enabled && (r == nil || !r.Ready()) {
			return "", errors.New("pod watch not established")
		}
		if lead != nil {
			return "leader", nil
		}
		return "", nil
	})
	if err != nil {
		glog.Errorf("%v", err)
		return 2
	}
	glog.Infof("serving /healthz, /readyz and /metrics on %s", addr)
	if lead != nil {
		lead.start()
		defer lead.release() // after the final checkpoint: the next leader resumes from it
		if !lead.await(ctx) {
			glog.Info("shutting down while standing by")
			_ = pipeline.Shutdown(context.Background())
			return 0
		}
	}

	teams.leading() // the leader writes Receivers' and Routes' status
	srcMetrics := kubesource.NewMetrics(reg)
	cpTargets, loaded, err := loadCheckpoint(o, client, me, conf, srcMetrics)
	if err != nil {
		glog.Errorf("%v", err)
		return 2
	}

	podEvents := 0
	if o.podRestarts.enabled {
		podEvents = o.podRestarts.podEvents
	}
	// The skip rule asks the source which watch covers an event; it runs only once the source
	// runs, after src is set.
	var src *kubesource.Source
	since, skip := resume(loaded, teams.sinks(built), kubesource.Scopes(settings.Namespaces), func(e *core.Event) string { return src.ScopeOf(e) })
	pipeline.SetSkip(skip)
	emit, emitWait := eventMetrics(o, reg, pipeline.Push, func(e *core.Event) bool { return pipeline.PushWait(ctx, e) })
	src, err = kubesource.New(kubesource.Config{
		Client:     client,
		Namespaces: settings.Namespaces,
		Cluster:    o.clusterName,
		Emit:       emit,
		// A catch-up (resume, relist) waits for room in the sinks' queues instead of dropping.
		EmitWait:     emitWait,
		Metrics:      srcMetrics,
		Since:        since,
		SinceIgnored: func() { pipeline.SetSkip(nil) },
		EventTTL:     o.eventTTL,
		PodEvents:    podEvents,
	})
	if err != nil {
		glog.Errorf("%v", err)
		return 2
	}
	restarts, err := newPodRestarts(&o.podRestarts, settings, o.clusterName, src, pipeline.Push, reg, loaded)
	if err != nil {
		glog.Errorf("%v", err)
		return 2
	}
	srcRef.Store(src)
	restartsRef.Store(restarts)

	var cpWriter *checkpoint.Writer
	if len(cpTargets) > 0 {
		cpWriter = checkpoint.NewWriter(cpTargets, deliveredPositions(src, pipeline, func() []*sinks.Built { return teams.sinks(built) }, me.origin(), restartCounts(restarts)), nil, checkpoint.NewMetrics(reg), loaded)
		go cpWriter.Run(ctx, pipeline.Progress())
	}
	srcDone := make(chan struct{})
	go func() {
		defer close(srcDone)
		var wg sync.WaitGroup
		wg.Go(func() { runPodRestarts(ctx, restarts) })
		src.Run(ctx)
		wg.Wait()
	}()
	<-ctx.Done()
	stop() // a second signal kills the process the default way
	glog.Infof("shutting down: delivering what is queued (at most %s)", o.shutdownTimeout)
	<-srcDone
	sctx, cancel := context.WithTimeout(context.Background(), o.shutdownTimeout)
	defer cancel()
	if err := pipeline.Shutdown(sctx); err != nil {
		glog.Errorf("%v", err)
	}
	if cpWriter != nil {
		// After the flush: everything the source pushed has left every sink (or is counted).
		if err := cpWriter.Final(); err == nil {
			glog.Infof("checkpoint %s: saved resourceVersion %d", o.checkpoint, cpWriter.Last().ResourceVersion)
		}
	}
	glog.Info("stopped")
	return 0
}

func printVersionLog() {
	glog.Info(versionString())
}

// connect parses --source and builds the one client every part shares.
func connect(o *options) (*kubesource.Settings, kubernetes.Interface, error) {
	raw := defaultSource
	if len(o.sources) == 1 {
		raw = o.sources[0]
	}
	u, err := uri.Parse("source", raw)
	if err != nil {
		return nil, nil, err
	}
	settings, err := kubesource.ParseSource(u)
	if err != nil {
		return nil, nil, err
	}
	cfg, err := settings.ClientConfig()
	if err != nil {
		return nil, nil, err
	}
	client, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return nil, nil, fmt.Errorf("--source: %v", err)
	}
	return settings, client, nil
}

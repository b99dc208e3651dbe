package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/heraldproject/herald/test/cluster"
)

// up starts a cluster in --dir and keeps it until SIGINT or SIGTERM, then stops it cleanly.
func up(args []string) error {
	fs := flag.NewFlagSet("up", flag.ContinueOnError)
	dir := fs.String("dir", "", "directory for the cluster's files (etcd data, certificates, kubeconfig, logs); default: a new temporary directory, removed on exit")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments %q", fs.Args())
	}

	// Catch the signals before starting, so a Ctrl-C during start-up still stops cleanly.
	// Later signals are absorbed: the stop already under way kills what does not exit in time.
	sig := make(chan os.Signal, 4)
	signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		<-sig
		cancel()
	}()

	if *dir != "" {
		if err := os.MkdirAll(*dir, 0o755); err != nil {
			return err
		}
		unlock, err := lockDir(*dir)
		if err != nil {
			return err
		}
		defer unlock()
	}

	start := time.Now()
	c, err := cluster.Start(ctx, cluster.Options{Dir: *dir})
	if err != nil {
		return err
	}
	fmt.Printf("cluster ready in %.1fs at %s\n", time.Since(start).Seconds(), c.URL)
	fmt.Printf("logs: %s\n", filepath.Dir(c.Logs()[0]))
	fmt.Printf("cluster ready: export KUBECONFIG=%s\n", c.Kubeconfig)

	<-ctx.Done()
	fmt.Println("stopping the cluster (API server first, then etcd)")
	err = c.Stop()
	// A kubeconfig left behind would point at nothing; scripts wait for it to appear.
	_ = os.Remove(c.Kubeconfig)
	if err != nil {
		return err
	}
	fmt.Println("cluster stopped")
	return nil
}

// lockDir takes an exclusive lock on dir/devcluster.lock, so two clusters never share one
// etcd data directory. The kernel drops the lock when the process ends, however it ends.
func lockDir(dir string) (unlock func(), err error) {
	path := filepath.Join(dir, "devcluster.lock")
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return nil, err
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		return nil, fmt.Errorf("another devcluster is using %s (%s is locked); stop it, or use another --dir", dir, path)
	}
	return func() { f.Close() }, nil
}

package main

import (
	"context"
	"flag"
	"fmt"
	"time"

	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
)

// ping exits 0 when the cluster in the kubeconfig answers /readyz within --timeout.
func ping(args []string) error {
	fs := flag.NewFlagSet("ping", flag.ContinueOnError)
	kubeconfig := fs.String("kubeconfig", "", "kubeconfig file; default: $KUBECONFIG, then ~/.kube/config")
	timeout := fs.Duration("timeout", 3*time.Second, "how long to wait for an answer")
	if err := fs.Parse(args); err != nil {
		return err
	}
	cfg, err := restConfig(*kubeconfig)
	if err != nil {
		return err
	}
	cfg.Timeout = *timeout
	client, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), *timeout)
	defer cancel()
	body, err := client.Discovery().RESTClient().Get().AbsPath("/readyz").DoRaw(ctx)
	if err != nil {
		return fmt.Errorf("%s is not ready: %v", cfg.Host, err)
	}
	fmt.Printf("%s: %s\n", cfg.Host, body)
	return nil
}

// restConfig loads a kubeconfig the way kubectl does: the given path, else $KUBECONFIG, else
// ~/.kube/config, using the current context.
func restConfig(path string) (*rest.Config, error) {
	rules := clientcmd.NewDefaultClientConfigLoadingRules()
	rules.ExplicitPath = path
	cfg, err := clientcmd.NewNonInteractiveDeferredLoadingClientConfig(rules, &clientcmd.ConfigOverrides{}).ClientConfig()
	if err != nil {
		return nil, fmt.Errorf("load the kubeconfig: %w", err)
	}
	return cfg, nil
}

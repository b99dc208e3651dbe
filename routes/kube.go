package routes

import (
	"context"
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	coreinformers "k8s.io/client-go/informers/core/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/cache"
)

// KubeObjects reads Receivers' Secrets from the API server, one GET each time: for a --config
// file and herald check.
type KubeObjects struct {
	Client kubernetes.Interface
}

// Secret returns the data of Secret namespace/name; errors say what to fix (a missing Secret,
// RBAC) without quoting any value.
func (k KubeObjects) Secret(namespace, name string) (map[string][]byte, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	s, err := k.Client.CoreV1().Secrets(namespace).Get(ctx, name, metav1.GetOptions{})
	switch {
	case apierrors.IsNotFound(err):
		return nil, fmt.Errorf("not found: create it in namespace %s", namespace)
	case apierrors.IsForbidden(err):
		return nil, fmt.Errorf("herald may not read it (RBAC: give herald's ServiceAccount get on secrets in %s; the chart and manifests do)", namespace)
	case err != nil:
		return nil, err
	}
	return s.Data, nil
}

// SecretInformer reads Receivers' Secrets from an informer's cache, for --routes: a watch keeps
// it current, so a rotated Secret is seen at once, and a read sends no request. The cache holds
// every Secret of the cluster, data included (managedFields and annotations dropped).
// Resources starts it and applies again when a Secret a Receiver names changes.
type SecretInformer struct {
	informer cache.SharedIndexInformer
}

// NewSecretInformer returns an informer over the Secrets of every namespace, not started.
func NewSecretInformer(client kubernetes.Interface) *SecretInformer {
	inf := coreinformers.NewSecretInformer(client, metav1.NamespaceAll, 0, cache.Indexers{})
	// SetTransform fails only on a started informer.
	_ = inf.SetTransform(slimSecret)
	return &SecretInformer{informer: inf}
}

// slimSecret drops what herald never reads from a Secret before it is cached: managedFields,
// and annotations (kubectl's last-applied-configuration holds a second copy of the data).
func slimSecret(obj any) (any, error) {
	if s, ok := obj.(*corev1.Secret); ok {
		s.ManagedFields = nil
		s.Annotations = nil
	}
	return obj, nil
}

// Secret returns the data of Secret namespace/name from the cache; the caller must not
// modify it. Errors say what to fix without quoting any value.
func (s *SecretInformer) Secret(namespace, name string) (map[string][]byte, error) {
	if !s.informer.HasSynced() {
		return nil, fmt.Errorf("herald has not listed Secrets yet (RBAC: herald's ClusterRole needs list and watch on secrets; the chart and manifests grant them)")
	}
	obj, ok, err := s.informer.GetStore().GetByKey(namespace + "/" + name)
	switch {
	case err != nil:
		return nil, err
	case !ok:
		return nil, fmt.Errorf("not found: create it in namespace %s", namespace)
	}
	sec, ok := obj.(*corev1.Secret)
	if !ok {
		return nil, fmt.Errorf("the cache holds a %T", obj)
	}
	return sec.Data, nil
}

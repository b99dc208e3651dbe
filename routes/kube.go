package routes

import (
	"context"
	"fmt"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
)

// KubeObjects reads Receivers' Secrets from the API server.
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

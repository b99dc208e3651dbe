package kubernetes

import (
	"testing"

	"github.com/heraldproject/herald/common/uri"
)

// FuzzParseSource: any --source value parses or is refused with an error, never a panic.
func FuzzParseSource(f *testing.F) {
	for _, s := range []string{
		"kubernetes:https://kubernetes.default",
		"kubernetes:https://kubernetes.default?inClusterConfig=false&auth=/etc/kube/config&namespaces=a,b",
		"kubernetes:?useServiceAccount=true&insecure=true&kubeletPort=10255",
		"kubernetes:''",
		"kubernetes:https://127.0.0.1:6443?inClusterConfig=false&localKubeConfig=/Users/x/.kube/config",
		"kubernetes:https://h?namespaces=/te%5Bam/,%E9",
		"kubelet:https://h",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, value string) {
		u, err := uri.Parse("source", value)
		if err != nil {
			return
		}
		_, _ = ParseSource(u)
	})
}

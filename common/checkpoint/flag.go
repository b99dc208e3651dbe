package checkpoint

import (
	"fmt"
	"path/filepath"
	"strings"

	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/client-go/kubernetes"
)

// Parse reads a --checkpoint value: "off", "file:PATH" or "configmap:NAMESPACE/NAME". It returns
// a nil Store for "off".
func Parse(value string, client kubernetes.Interface) (Store, error) {
	const fix = "write --checkpoint=configmap:NAMESPACE/NAME, --checkpoint=file:PATH or --checkpoint=off"
	kind, rest, _ := strings.Cut(value, ":")
	switch kind {
	case "off":
		if rest != "" {
			return nil, fmt.Errorf("--checkpoint=%s: %s", value, fix)
		}
		return nil, nil
	case "file":
		if rest == "" {
			return nil, fmt.Errorf("--checkpoint=%s: no path; %s", value, fix)
		}
		return &File{Path: filepath.Clean(rest)}, nil
	case "configmap":
		ns, name, ok := strings.Cut(rest, "/")
		if !ok || ns == "" || name == "" {
			return nil, fmt.Errorf("--checkpoint=%s: want configmap:NAMESPACE/NAME, e.g. configmap:herald/herald-checkpoint", value)
		}
		if errs := validation.IsDNS1123Label(ns); len(errs) > 0 {
			return nil, fmt.Errorf("--checkpoint=%s: namespace %q: %s", value, ns, strings.Join(errs, "; "))
		}
		if errs := validation.IsDNS1123Subdomain(name); len(errs) > 0 {
			return nil, fmt.Errorf("--checkpoint=%s: ConfigMap name %q: %s", value, name, strings.Join(errs, "; "))
		}
		if client == nil {
			return nil, fmt.Errorf("--checkpoint=%s: no API client", value)
		}
		return &ConfigMap{Client: client, Namespace: ns, Name: name}, nil
	}
	return nil, fmt.Errorf("--checkpoint=%s: unknown kind %q; %s", value, kind, fix)
}

package deploy_test

import (
	"os"
	"regexp"
	"testing"

	"sigs.k8s.io/yaml"
)

// The image every install path pulls.
const imageRepo = "ghcr.io/heraldproject/herald"

// TestPinnedToOneVersion: the chart's appVersion (the default image tag) and version, the
// manifests' and the kustomize base's image tags, the README's install commands and the
// CHANGELOG's top section name the same release (make pin VERSION=... sets them all).
func TestPinnedToOneVersion(t *testing.T) {
	var chartYAML struct{ Version, AppVersion string }
	readYAML(t, "helm/herald/Chart.yaml", &chartYAML)
	v := chartYAML.AppVersion
	if !regexp.MustCompile(`^v\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?$`).MatchString(v) {
		t.Fatalf("Chart.yaml appVersion %q is not a release tag vX.Y.Z", v)
	}
	if chartYAML.Version != v {
		t.Errorf("Chart.yaml version %q, appVersion %q: make pin sets both to the release", chartYAML.Version, v)
	}
	var values struct {
		Image struct{ Repository, Tag string }
	}
	readYAML(t, "helm/herald/values.yaml", &values)
	if values.Image.Repository != imageRepo || values.Image.Tag != "" {
		t.Errorf("values.yaml image %s:%s; want %s with tag \"\" (the appVersion)", values.Image.Repository, values.Image.Tag, imageRepo)
	}
	for _, f := range []string{"kubernetes/herald.yaml", "kustomize/base/herald.yaml"} {
		for _, o := range readManifests(t, f) {
			if o.GetKind() != "Deployment" {
				continue
			}
			c := containerOf(t, o)
			if img := c["image"]; img != imageRepo+":"+v {
				t.Errorf("%s: image %v, want %s:%s (the chart's appVersion)", f, img, imageRepo, v)
			}
		}
	}
	var kust struct {
		Images []struct{ Name, NewTag string } `json:"images"`
	}
	readYAML(t, "kustomize/base/kustomization.yaml", &kust)
	if len(kust.Images) != 1 || kust.Images[0].Name != imageRepo || kust.Images[0].NewTag != v {
		t.Errorf("kustomization images %+v, want %s newTag %s", kust.Images, imageRepo, v)
	}
	readme := readFile(t, "../README.md")
	if m := regexp.MustCompile(`(?m)^VERSION=(\S+) +# the release to install`).FindStringSubmatch(readme); m == nil || m[1] != v {
		t.Errorf("README's install commands: VERSION line %q, want VERSION=%s", m, v)
	}
	changelog := readFile(t, "../CHANGELOG.md")
	if m := regexp.MustCompile(`(?m)^## \[(v[^\]]+)\]`).FindStringSubmatch(changelog); m == nil || m[1] != v {
		t.Errorf("CHANGELOG.md's top version section %q, want [%s]", m, v)
	}
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func readYAML(t *testing.T, path string, into any) {
	t.Helper()
	if err := yaml.Unmarshal([]byte(readFile(t, path)), into); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
}

func containerOf(t *testing.T, o interface{ UnstructuredContent() map[string]any }) map[string]any {
	t.Helper()
	spec, _ := o.UnstructuredContent()["spec"].(map[string]any)
	tmpl, _ := spec["template"].(map[string]any)
	pod, _ := tmpl["spec"].(map[string]any)
	cs, _ := pod["containers"].([]any)
	if len(cs) == 0 {
		t.Fatal("a Deployment without containers")
	}
	c, _ := cs[0].(map[string]any)
	return c
}

package deploy_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"sort"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/yaml"

	"github.com/heraldproject/herald/routes/api"
)

// The CRDs of deploy/crds, by kind, and the examples of deploy/crds/examples.
var (
	crdFiles = map[string]string{
		"Receiver": "crds/herald.dev_receivers.yaml",
		"Route":    "crds/herald.dev_routes.yaml",
	}
	exampleFiles = map[string]string{
		"Receiver": "crds/examples/receiver.yaml",
		"Route":    "crds/examples/route.yaml",
	}
	// everyField is a Route that sets every field, for the schema comparison.
	everyField = "testdata/route-every-field.yaml"
)

// crd reads the CRD of kind from deploy/crds.
func crd(t *testing.T, kind string) *unstructured.Unstructured {
	t.Helper()
	objs := readManifests(t, crdFiles[kind])
	if len(objs) != 1 || objs[0].GetKind() != "CustomResourceDefinition" {
		t.Fatalf("%s: want one CustomResourceDefinition, got %s", crdFiles[kind], kinds(objs))
	}
	return objs[0]
}

// openAPISchema returns the openAPIV3Schema of the CRD's only version, v1alpha1.
func openAPISchema(t *testing.T, c *unstructured.Unstructured) map[string]any {
	t.Helper()
	versions, _, _ := unstructured.NestedSlice(c.Object, "spec", "versions")
	if len(versions) != 1 {
		t.Fatalf("%s: want one version, got %d", c.GetName(), len(versions))
	}
	v := versions[0].(map[string]any)
	if v["name"] != api.Version {
		t.Fatalf("%s: version %v, want %s", c.GetName(), v["name"], api.Version)
	}
	s, found, err := unstructured.NestedMap(v, "schema", "openAPIV3Schema")
	if !found || err != nil {
		t.Fatalf("%s: no openAPIV3Schema (%v)", c.GetName(), err)
	}
	return s
}

// TestCRDsMatchGoTypes: the examples decode strictly (an unknown field is an error) into the Go
// types of routes/api and set every spec field, and each CRD's schema names exactly the fields
// of its Go type, with the same types and the same required fields (a field without omitempty),
// down through spec and status. A field added on one side only fails here.
func TestCRDsMatchGoTypes(t *testing.T) {
	goTypes := map[string]reflect.Type{"Receiver": reflect.TypeFor[api.Receiver](), "Route": reflect.TypeFor[api.Route]()}
	for kind, typ := range goTypes {
		t.Run(kind, func(t *testing.T) {
			c := crd(t, kind)
			if g, _, _ := unstructured.NestedString(c.Object, "spec", "group"); g != api.Group {
				t.Errorf("group %q, want %q", g, api.Group)
			}
			if k, _, _ := unstructured.NestedString(c.Object, "spec", "names", "kind"); k != kind {
				t.Errorf("names.kind %q, want %q", k, kind)
			}
			if diffs := schemaDiffs("", openAPISchema(t, c), typ); len(diffs) > 0 {
				t.Errorf("%s's schema and the Go type api.%s differ:\n%s", crdFiles[kind], kind, strings.Join(diffs, "\n"))
			}

			data, err := os.ReadFile(exampleFiles[kind])
			if err != nil {
				t.Fatal(err)
			}
			obj := reflect.New(typ)
			if err := yaml.UnmarshalStrict(data, obj.Interface()); err != nil {
				t.Fatalf("%s does not decode strictly into api.%s: %v", exampleFiles[kind], kind, err)
			}
			var meta struct{ APIVersion, Kind string }
			_ = yaml.Unmarshal(data, &meta)
			if meta.APIVersion != api.APIVersion || meta.Kind != kind {
				t.Errorf("%s: apiVersion %q kind %q, want %q %q", exampleFiles[kind], meta.APIVersion, meta.Kind, api.APIVersion, kind)
			}
			if kind == "Route" { // one Route shows every field
				data, err := os.ReadFile(everyField)
				if err != nil {
					t.Fatal(err)
				}
				obj := reflect.New(typ)
				if err := yaml.UnmarshalStrict(data, obj.Interface()); err != nil {
					t.Fatalf("%s does not decode strictly into api.Route: %v", everyField, err)
				}
				spec := obj.Elem().FieldByName("Spec")
				for i := range spec.NumField() {
					if spec.Field(i).IsZero() {
						t.Errorf("%s leaves out spec.%s: it shows every field", everyField, jsonName(spec.Type().Field(i)))
					}
				}
			}
		})
	}

	// The comparison can fail: a schema of the wrong kind, a field taken out of the schema, a
	// type changed, a required field no longer required.
	t.Run("the comparison finds differences", func(t *testing.T) {
		rcv := openAPISchema(t, crd(t, "Receiver"))
		if d := schemaDiffs("", rcv, reflect.TypeFor[api.Route]()); len(d) == 0 {
			t.Error("the Receiver schema matches api.Route")
		}
		for name, change := range map[string]func(s map[string]any){
			"spec.template": func(s map[string]any) {
				unstructured.RemoveNestedField(s, "properties", "spec", "properties", "template")
			},
			"status.delivered": func(s map[string]any) {
				_ = unstructured.SetNestedField(s, "string", "properties", "status", "properties", "delivered", "type")
			},
			"spec.sink": func(s map[string]any) { unstructured.RemoveNestedField(s, "properties", "spec", "required") },
			"status.conditions[].reason": func(s map[string]any) {
				items, _, _ := unstructured.NestedMap(s, "properties", "status", "properties", "conditions", "items")
				items["properties"].(map[string]any)["reasons"] = items["properties"].(map[string]any)["reason"]
				delete(items["properties"].(map[string]any), "reason")
				_ = unstructured.SetNestedMap(s, items, "properties", "status", "properties", "conditions", "items")
			},
		} {
			s := deepCopy(rcv)
			change(s)
			d := schemaDiffs("", s, reflect.TypeFor[api.Receiver]())
			if !slices.ContainsFunc(d, func(line string) bool { return strings.HasPrefix(line, name+":") }) {
				t.Errorf("changing %s in the schema: differences %q, want one about %s", name, d, name)
			}
		}
	})
}

func deepCopy(m map[string]any) map[string]any {
	return (&unstructured.Unstructured{Object: m}).DeepCopy().Object
}

var marshaler = reflect.TypeFor[json.Marshaler]()

// schemaDiffs compares an OpenAPI schema with the Go type its objects decode into and returns
// the differences, each "path: what".
func schemaDiffs(path string, s map[string]any, typ reflect.Type) []string {
	for typ.Kind() == reflect.Pointer {
		typ = typ.Elem()
	}
	at := path
	if at == "" {
		at = "(root)"
	}
	var diffs []string
	want := func(schemaType string) bool {
		if s["type"] != schemaType {
			diffs = append(diffs, fmt.Sprintf("%s: schema type %v, Go type %s wants %s", at, s["type"], typ, schemaType))
			return false
		}
		return true
	}
	// A type that marshals itself (metav1.Duration, metav1.Time) is a string in JSON.
	if typ.Implements(marshaler) || reflect.PointerTo(typ).Implements(marshaler) {
		want("string")
		return diffs
	}
	switch typ.Kind() {
	case reflect.String:
		want("string")
	case reflect.Bool:
		want("boolean")
	case reflect.Int32, reflect.Int64:
		if want("integer") {
			if f := fmt.Sprintf("int%d", typ.Bits()); s["format"] != f {
				diffs = append(diffs, fmt.Sprintf("%s: format %v, Go type %s wants %s", at, s["format"], typ, f))
			}
		}
	case reflect.Slice:
		if want("array") {
			items, _ := s["items"].(map[string]any)
			diffs = append(diffs, schemaDiffs(path+"[]", items, typ.Elem())...)
		}
	case reflect.Map:
		if want("object") {
			values, _ := s["additionalProperties"].(map[string]any)
			if values == nil || s["properties"] != nil {
				diffs = append(diffs, fmt.Sprintf("%s: a map (%s) needs additionalProperties and no properties", at, typ))
			} else {
				diffs = append(diffs, schemaDiffs(path+"{}", values, typ.Elem())...)
			}
		}
	case reflect.Struct:
		if !want("object") {
			break
		}
		props, _ := s["properties"].(map[string]any)
		fields := jsonFields(typ)
		var goNames, goRequired []string
		for name, f := range fields {
			goNames = append(goNames, name)
			if f.required {
				goRequired = append(goRequired, name)
			}
		}
		var schemaNames, schemaRequired []string
		for name := range props {
			schemaNames = append(schemaNames, name)
		}
		for _, r := range asSlice(s["required"]) {
			schemaRequired = append(schemaRequired, fmt.Sprint(r))
		}
		for _, name := range sortedUnion(goNames, schemaNames) {
			p := join(path, name)
			f, inGo := fields[name]
			sub, inSchema := props[name].(map[string]any)
			switch {
			case !inSchema:
				diffs = append(diffs, fmt.Sprintf("%s: in the Go type %s (field %s), not in the schema", p, typ, f.goName))
			case !inGo:
				diffs = append(diffs, fmt.Sprintf("%s: in the schema, not in the Go type %s", p, typ))
			case path == "" && name == "metadata":
				// ObjectMeta: the API server's own schema.
			default:
				diffs = append(diffs, schemaDiffs(p, sub, f.typ)...)
			}
		}
		for _, name := range sortedUnion(goRequired, schemaRequired) {
			inGo, inSchema := slices.Contains(goRequired, name), slices.Contains(schemaRequired, name)
			if inGo != inSchema {
				diffs = append(diffs, fmt.Sprintf("%s: required in the schema %v, in the Go type %s %v (no omitempty)", join(path, name), inSchema, typ, inGo))
			}
		}
	default:
		diffs = append(diffs, fmt.Sprintf("%s: Go type %s has no schema counterpart here", at, typ))
	}
	return diffs
}

type jsonField struct {
	goName   string
	typ      reflect.Type
	required bool
}

// jsonFields returns the JSON fields of a struct as encoding/json sees them, inlined embedded
// structs included. A field is required when its tag has no omitempty or omitzero.
func jsonFields(typ reflect.Type) map[string]jsonField {
	fields := map[string]jsonField{}
	for i := range typ.NumField() {
		f := typ.Field(i)
		tag := f.Tag.Get("json")
		if tag == "-" || !f.IsExported() {
			continue
		}
		name := jsonName(f)
		if f.Anonymous && name == "" {
			for n, sub := range jsonFields(f.Type) {
				fields[n] = sub
			}
			continue
		}
		opts := strings.Split(tag, ",")[1:]
		fields[name] = jsonField{goName: f.Name, typ: f.Type, required: !slices.Contains(opts, "omitempty") && !slices.Contains(opts, "omitzero")}
	}
	return fields
}

// jsonName is a field's JSON name: "" for an inlined embedded struct.
func jsonName(f reflect.StructField) string {
	name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
	if name == "" && !f.Anonymous {
		return f.Name
	}
	return name
}

func join(path, name string) string {
	if path == "" {
		return name
	}
	return path + "." + name
}

func asSlice(v any) []any { s, _ := v.([]any); return s }

func sortedUnion(a, b []string) []string {
	u := slices.Concat(a, b)
	sort.Strings(u)
	return slices.Compact(u)
}

// TestCRDsShipped: the chart's crds/ are byte-identical copies of deploy/crds (make chart-docs
// writes them), and helm template --include-crds, the kustomize base and deploy/kubernetes hold
// exactly those two CRDs.
func TestCRDsShipped(t *testing.T) {
	want := map[string]*unstructured.Unstructured{}
	for kind, file := range crdFiles {
		src, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		copyPath := filepath.Join(chart, file)
		cp, err := os.ReadFile(copyPath)
		if err != nil {
			t.Errorf("the chart lacks %s: %v (run make chart-docs)", copyPath, err)
		} else if !bytes.Equal(src, cp) {
			t.Errorf("%s differs from deploy/%s: run make chart-docs", copyPath, file)
		}
		c := crd(t, kind)
		want[c.GetName()] = c
	}
	if chartCRDs, _ := filepath.Glob(filepath.Join(chart, "crds", "*")); len(chartCRDs) != len(crdFiles) {
		t.Errorf("the chart's crds/ holds %v, want only copies of %v", chartCRDs, crdFiles)
	}
	for name, objs := range map[string][]*unstructured.Unstructured{
		"helm template --include-crds": helmTemplate(t, "herald", "herald", "--include-crds"),
		"kustomize base":               kustomizeBuild(t),
		"deploy/kubernetes":            readManifests(t, "kubernetes/*.yaml"),
	} {
		got := map[string]*unstructured.Unstructured{}
		for _, o := range objs {
			if o.GetKind() == "CustomResourceDefinition" {
				got[o.GetName()] = o
			}
		}
		if len(got) != len(want) {
			t.Errorf("%s holds the CRDs %v, want %d", name, slices.Sorted(maps.Keys(got)), len(want))
		}
		for n, w := range want {
			if g, ok := got[n]; !ok {
				t.Errorf("%s lacks the CRD %s", name, n)
			} else if !reflect.DeepEqual(g.Object, w.Object) {
				t.Errorf("%s's CRD %s differs from deploy/crds's", name, n)
			}
		}
	}
	// helm template without --include-crds renders none: Helm installs crds/ itself.
	if objs := helmTemplate(t, "herald", "herald"); has(objs, "CustomResourceDefinition") {
		t.Errorf("helm template renders a CRD from templates/: %s", kinds(objs))
	}
}

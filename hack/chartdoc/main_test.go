package main

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestSchemaFromComments(t *testing.T) {
	vals, err := parseValues([]byte(`# The file's header, not a description.

image:
  # The tag.
  tag: ""
# A list of sinks.
# @schema {"type": "array", "items": {"type": "string"}}
sinks: [log]
# Replicas.
replicas: 1
`))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(rootSchema(vals))
	s := string(b)
	for _, want := range []string{
		`"additionalProperties":false`,
		`"image":{"additionalProperties":false,"properties":{"tag":{"description":"The tag.","type":"string"}},"type":"object"}`,
		`"sinks":{"description":"A list of sinks.","items":{"type":"string"},"type":"array"}`,
		`"replicas":{"description":"Replicas.","type":"integer"}`,
		`"global":{`,
	} {
		if !strings.Contains(s, want) {
			t.Errorf("schema lacks %s:\n%s", want, s)
		}
	}
	if strings.Contains(s, "header") {
		t.Errorf("the file header became a description: %s", s)
	}
	readmeText := string(readme(vals))
	if !strings.Contains(readmeText, "| `image.tag` | string | `\"\"` | The tag. |") {
		t.Errorf("README row for image.tag missing:\n%s", readmeText)
	}
}

func TestUndocumentedValueRefused(t *testing.T) {
	_, err := parseValues([]byte("image:\n  tag: \"\"\n# @schema {bad json\nx: 1\n"))
	if err == nil || !strings.Contains(err.Error(), "image.tag has no description") || !strings.Contains(err.Error(), "@schema") {
		t.Errorf("err = %v, want image.tag undocumented and the bad @schema named", err)
	}
}

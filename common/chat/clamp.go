package chat

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
)

// ClampJSONString cuts the string at path in the JSON object body (a template's output) to
// at most limit bytes, with Marker, and returns the body re-encoded; a body whose string is
// within the limit comes back unchanged. A missing path is not an error: the template chose
// another layout, and the service judges it.
func ClampJSONString(body []byte, limit int, path ...string) ([]byte, error) {
	var obj map[string]any
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	if err := dec.Decode(&obj); err != nil {
		return nil, fmt.Errorf("the body is not a JSON object: %v", err)
	}
	cur := obj
	for i, key := range path {
		v, ok := cur[key]
		if !ok {
			return body, nil
		}
		if i == len(path)-1 {
			s, ok := v.(string)
			if !ok || len(s) <= limit {
				return body, nil
			}
			cur[key] = Truncate(s, limit)
			break
		}
		next, ok := v.(map[string]any)
		if !ok {
			return body, nil
		}
		cur = next
	}
	var out bytes.Buffer
	enc := json.NewEncoder(&out)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(obj); err != nil {
		return nil, fmt.Errorf("re-encoding the body after cutting %s: %v", strings.Join(path, "."), err)
	}
	return bytes.TrimRight(out.Bytes(), "\n"), nil
}

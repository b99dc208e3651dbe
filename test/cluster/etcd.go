package cluster

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
)

// EtcdURL is etcd's client address, http://127.0.0.1:PORT.
func (c *Cluster) EtcdURL() string {
	for _, a := range c.etcd.args {
		if v, ok := strings.CutPrefix(a, "--advertise-client-urls="); ok {
			return v
		}
	}
	return ""
}

// Compact compacts etcd at its current revision, as the API server does every
// --etcd-compaction-interval: watches that resume from an older resourceVersion then get
// "410 Gone" (when the API server's watch cache does not serve them). It returns the revision.
// It talks to etcd's JSON gateway, so the test needs no etcd client library.
func (c *Cluster) Compact(ctx context.Context) (int64, error) {
	var rng struct {
		Header struct {
			Revision string `json:"revision"`
		} `json:"header"`
	}
	// A range over a key that does not exist still answers with the store's revision.
	if err := c.etcdCall(ctx, "/v3/kv/range", map[string]any{"key": "aGVyYWxkLXByb2Jl"}, &rng); err != nil {
		return 0, err
	}
	rev, err := strconv.ParseInt(rng.Header.Revision, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("etcd revision %q: %v", rng.Header.Revision, err)
	}
	if err := c.etcdCall(ctx, "/v3/kv/compaction", map[string]any{"revision": rev, "physical": true}, nil); err != nil {
		return 0, err
	}
	return rev, nil
}

func (c *Cluster) etcdCall(ctx context.Context, path string, body any, out any) error {
	b, _ := json.Marshal(body)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.EtcdURL()+path, bytes.NewReader(b))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("etcd %s: %w", path, err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("etcd %s: %s: %s", path, resp.Status, data)
	}
	if out != nil {
		if err := json.Unmarshal(data, out); err != nil {
			return fmt.Errorf("etcd %s: %v in %s", path, err, data)
		}
	}
	return nil
}

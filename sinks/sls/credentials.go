package sls

import (
	"bytes"
	"context"
	"crypto/aes"
	"crypto/cipher"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/golang/glog"

	"github.com/heraldproject/herald/common/redact"
	"github.com/heraldproject/herald/core"
)

// Where kube-eventer found credentials when no AccessKey was given: the token file the ACK
// addon mounts, else the ECS instance's RAM role from the metadata service.
const (
	DefaultTokenConfig      = "/var/addon/token-config"
	DefaultMetadataEndpoint = "http://100.100.100.200"
	// refreshBefore renews temporary credentials this long before they expire.
	refreshBefore = 5 * time.Minute
	// stsTimeLayout is how both sources write the expiry.
	stsTimeLayout = "2006-01-02T15:04:05Z"
)

// credentials sign one request; Token is empty for an AccessKey, set for STS credentials.
type credentials struct {
	ID, Secret, Token string
	Expires           time.Time // zero: does not expire
}

// credentialSource gives the credentials to sign with now.
type credentialSource interface {
	get(ctx context.Context) (credentials, error)
	describe() string
}

// staticSource is an AccessKey from the parameters or the environment.
type staticSource struct{ c credentials }

func (s staticSource) get(context.Context) (credentials, error) { return s.c, nil }
func (s staticSource) describe() string                         { return "its AccessKey" }

// roleSource reads temporary (STS) credentials as kube-eventer did: from the ACK addon's token
// file when it exists, else from the ECS metadata service's RAM role. They are cached and renewed
// refreshBefore their expiry; a renewal that fails keeps the cached ones while they last.
type roleSource struct {
	tokenConfig string
	metadata    *metadataClient
	now         func() time.Time

	mu  sync.Mutex
	cur credentials
}

func (r *roleSource) describe() string {
	return fmt.Sprintf("STS credentials from the ACK addon token file %s, else the ECS RAM role at %s", r.tokenConfig, r.metadata.base)
}

func (r *roleSource) get(ctx context.Context) (credentials, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	now := r.now()
	if r.cur.ID != "" && (r.cur.Expires.IsZero() || now.Add(refreshBefore).Before(r.cur.Expires)) {
		return r.cur, nil
	}
	c, from, err := r.fetch(ctx)
	if err != nil {
		if r.cur.ID != "" && now.Before(r.cur.Expires) {
			glog.Warningf("renewing SLS credentials failed (%v); the current ones last until %s", err, r.cur.Expires.Format(time.RFC3339))
			return r.cur, nil
		}
		return credentials{}, core.Credential(err, "on ACK, install the addon that mounts "+r.tokenConfig+"; on ECS, attach a RAM role to the instance; elsewhere give accessKeyId and accessKeySecret")
	}
	if !c.Expires.IsZero() && !now.Before(c.Expires) {
		return credentials{}, core.Credential(fmt.Errorf("the STS credentials from %s expired at %s", from, c.Expires.Format(time.RFC3339)), "check that the ACK addon renews "+r.tokenConfig+", and the node's clock")
	}
	if r.cur.ID == "" {
		glog.Infof("SLS: signing with STS credentials from %s, valid until %s", from, c.Expires.Format(time.RFC3339))
	} else {
		glog.V(1).Infof("SLS: renewed STS credentials from %s, valid until %s", from, c.Expires.Format(time.RFC3339))
	}
	r.cur = c
	return c, nil
}

func (r *roleSource) fetch(ctx context.Context) (credentials, string, error) {
	if _, err := os.Stat(r.tokenConfig); err == nil {
		c, err := readTokenConfig(r.tokenConfig)
		return c, r.tokenConfig, err
	}
	c, err := r.metadata.roleCredentials(ctx)
	return c, "the ECS RAM role", err
}

// readTokenConfig reads the ACK addon's token file: JSON whose access.key.id,
// access.key.secret and security.token are AES-CBC encrypted with the file's keyring (the IV is
// the first block, PKCS#5 padding) and base64 encoded, and whose expiration is plain.
func readTokenConfig(path string) (credentials, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return credentials{}, fmt.Errorf("reading %s: %v", path, err)
	}
	var f struct {
		ID         string `json:"access.key.id"`
		Secret     string `json:"access.key.secret"`
		Token      string `json:"security.token"`
		Expiration string `json:"expiration"`
		Keyring    string `json:"keyring"`
	}
	if err := json.Unmarshal(b, &f); err != nil {
		// Not quoted: the file holds credentials.
		return credentials{}, fmt.Errorf("%s is not the ACK addon's token JSON", path)
	}
	var c credentials
	for _, v := range []struct {
		name string
		in   string
		out  *string
	}{{"access.key.id", f.ID, &c.ID}, {"access.key.secret", f.Secret, &c.Secret}, {"security.token", f.Token, &c.Token}} {
		plain, err := decryptAddon(v.in, []byte(f.Keyring))
		if err != nil {
			return credentials{}, fmt.Errorf("%s: %s: %v", path, v.name, err)
		}
		*v.out = string(plain)
	}
	if c.Expires, err = time.Parse(stsTimeLayout, f.Expiration); err != nil {
		return credentials{}, fmt.Errorf("%s: expiration %q is not %s", path, f.Expiration, stsTimeLayout)
	}
	return c, nil
}

func decryptAddon(s string, keyring []byte) ([]byte, error) {
	data, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		return nil, errors.New("not base64")
	}
	block, err := aes.NewCipher(keyring)
	if err != nil {
		return nil, errors.New("the keyring is not an AES key (16, 24 or 32 bytes)")
	}
	bs := block.BlockSize()
	if len(data) < 2*bs || len(data)%bs != 0 {
		return nil, errors.New("not AES-CBC data")
	}
	out := make([]byte, len(data)-bs)
	cipher.NewCBCDecrypter(block, data[:bs]).CryptBlocks(out, data[bs:])
	pad := int(out[len(out)-1])
	if pad == 0 || pad > bs || pad > len(out) || !bytes.Equal(out[len(out)-pad:], bytes.Repeat([]byte{byte(pad)}, pad)) {
		return nil, errors.New("bad padding: wrong keyring?")
	}
	return out[:len(out)-pad], nil
}

// metadataClient reads the ECS metadata service (the region and the RAM role's credentials), in
// its hardened mode when the service offers it (a session token from PUT /latest/api/token), as
// Alibaba Cloud's SDKs do.
type metadataClient struct {
	base   string
	client *http.Client
}

func newMetadataClient(base string) *metadataClient {
	return &metadataClient{base: strings.TrimRight(base, "/"), client: &http.Client{
		Timeout: 5 * time.Second,
		// The service never redirects; a proxy that does is not followed.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}
}

func (m *metadataClient) token(ctx context.Context) string {
	req, err := http.NewRequestWithContext(ctx, http.MethodPut, m.base+"/latest/api/token", nil)
	if err != nil {
		return ""
	}
	req.Header.Set("X-aliyun-ecs-metadata-token-ttl-seconds", "21600")
	resp, err := m.client.Do(req)
	if err != nil {
		return ""
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	if resp.StatusCode != http.StatusOK {
		return "" // the normal mode
	}
	return strings.TrimSpace(string(b))
}

func (m *metadataClient) get(ctx context.Context, token, path string) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, m.base+path, nil)
	if err != nil {
		return nil, err
	}
	if token != "" {
		req.Header.Set("X-aliyun-ecs-metadata-token", token)
	}
	resp, err := m.client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("the ECS metadata service at %s: %s", m.base, redact.Text(err.Error()))
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if err != nil {
		return nil, fmt.Errorf("the ECS metadata service at %s: reading %s: %v", m.base, path, err)
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("the ECS metadata service at %s answered %s for %s", m.base, resp.Status, path)
	}
	return b, nil
}

// region is the instance's region id.
func (m *metadataClient) region(ctx context.Context) (string, error) {
	b, err := m.get(ctx, m.token(ctx), "/latest/meta-data/region-id")
	if err != nil {
		return "", err
	}
	r := strings.TrimSpace(string(b))
	if !regionRe.MatchString(r) {
		return "", fmt.Errorf("the ECS metadata service at %s gave %q as the region id", m.base, r)
	}
	return r, nil
}

// roleCredentials are the STS credentials of the RAM role attached to the instance.
func (m *metadataClient) roleCredentials(ctx context.Context) (credentials, error) {
	token := m.token(ctx)
	b, err := m.get(ctx, token, "/latest/meta-data/ram/security-credentials/")
	if err != nil {
		return credentials{}, fmt.Errorf("%v (is a RAM role attached to the instance?)", err)
	}
	role := strings.TrimSpace(strings.SplitN(string(b), "\n", 2)[0])
	if role == "" || strings.ContainsAny(role, "/?#") {
		return credentials{}, fmt.Errorf("the ECS metadata service at %s names no RAM role", m.base)
	}
	b, err = m.get(ctx, token, "/latest/meta-data/ram/security-credentials/"+role)
	if err != nil {
		return credentials{}, err
	}
	var r struct {
		Code            string
		AccessKeyID     string `json:"AccessKeyId"`
		AccessKeySecret string
		SecurityToken   string
		Expiration      string
	}
	if err := json.Unmarshal(b, &r); err != nil {
		return credentials{}, fmt.Errorf("the ECS metadata service at %s: the role's credentials are not JSON", m.base)
	}
	if r.Code != "" && r.Code != "Success" {
		return credentials{}, fmt.Errorf("the ECS metadata service at %s: role %s: %s", m.base, role, r.Code)
	}
	exp, err := time.Parse(stsTimeLayout, r.Expiration)
	if err != nil || r.AccessKeyID == "" || r.AccessKeySecret == "" {
		return credentials{}, fmt.Errorf("the ECS metadata service at %s: role %s: incomplete credentials", m.base, role)
	}
	return credentials{ID: r.AccessKeyID, Secret: r.AccessKeySecret, Token: r.SecurityToken, Expires: exp}, nil
}

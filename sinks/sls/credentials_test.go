package sls_test

import (
	"bytes"
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/heraldproject/herald/common/httpx/httpxtest"
	"github.com/heraldproject/herald/core"
	"github.com/heraldproject/herald/sinks"
)

// metadataServer is an ECS metadata service as Alibaba Cloud documents it: the region id, the
// RAM role's name and its STS credentials, in the hardened mode (a session token from
// PUT /latest/api/token with a TTL header, then required on every GET) when hardened is set.
type metadataServer struct {
	*httptest.Server
	region, role     string
	creds            map[string]string
	hardened         bool
	mu               sync.Mutex
	tokenPuts, reads int
}

func newMetadataServer(t *testing.T, hardened bool, creds map[string]string) *metadataServer {
	m := &metadataServer{region: "cn-hangzhou", role: "KubernetesWorkerRole-7c1f", creds: creds, hardened: hardened}
	const token = "md-session-token-0123"
	m.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		m.mu.Lock()
		defer m.mu.Unlock()
		if r.Method == http.MethodPut && r.URL.Path == "/latest/api/token" {
			if !m.hardened {
				http.NotFound(w, r)
				return
			}
			if r.Header.Get("X-aliyun-ecs-metadata-token-ttl-seconds") == "" {
				http.Error(w, "ttl header required", http.StatusBadRequest)
				return
			}
			m.tokenPuts++
			_, _ = w.Write([]byte(token))
			return
		}
		if r.Method != http.MethodGet {
			http.Error(w, "method", http.StatusMethodNotAllowed)
			return
		}
		if m.hardened && r.Header.Get("X-aliyun-ecs-metadata-token") != token {
			http.Error(w, "Unauthorized", http.StatusUnauthorized)
			return
		}
		m.reads++
		switch r.URL.Path {
		case "/latest/meta-data/region-id":
			_, _ = w.Write([]byte(m.region))
		case "/latest/meta-data/ram/security-credentials/":
			_, _ = w.Write([]byte(m.role))
		case "/latest/meta-data/ram/security-credentials/" + m.role:
			_ = json.NewEncoder(w).Encode(m.creds)
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(m.Close)
	return m
}

func stsCreds(id, secret, token string, expires time.Time) map[string]string {
	return map[string]string{"AccessKeyId": id, "AccessKeySecret": secret, "SecurityToken": token,
		"Expiration": expires.UTC().Format("2006-01-02T15:04:05Z"), "LastUpdated": time.Now().UTC().Format("2006-01-02T15:04:05Z"), "Code": "Success"}
}

// stsValue is a sink value with no AccessKey and no regionId, as kube-eventer ran on ACK.
func stsValue(rc *receiver, extra string) string {
	return "sls:https://sls.aliyuncs.com?project=" + rc.project + "&logStore=" + rc.logstore + "&endpoint=http://" + rc.endpointHost() + extra
}

// kube-eventer on an ECS node without an AccessKey: the region and the RAM role's STS
// credentials come from the metadata service; every request is signed with them and carries
// the security token.
func TestRAMRoleCredentialsAndRegionFromMetadata(t *testing.T) {
	for _, hardened := range []bool{true, false} {
		name := "normal mode"
		if hardened {
			name = "hardened mode"
		}
		t.Run(name, func(t *testing.T) {
			rc := newReceiver(t)
			rc.akID, rc.akSecret, rc.stsToken = "STS.NTx1ID", "stsSECRETabc123", "CAIS-security-token-0001"
			md := newMetadataServer(t, hardened, stsCreds(rc.akID, rc.akSecret, rc.stsToken, time.Now().Add(time.Hour)))
			s := build(t, stsValue(rc, "&token_config=/nonexistent/token-config&metadata_endpoint="+md.URL))
			for i := 0; i < 3; i++ {
				if err := s.Export(context.Background(), []*core.Event{event("BackOff", "Pod", "web-1", i)}); err != nil {
					t.Fatal(err)
				}
			}
			if n := len(rc.accepted()); n != 3 {
				t.Fatalf("%d requests accepted, want 3", n)
			}
			md.mu.Lock()
			defer md.mu.Unlock()
			// Region once, role name and credentials once: cached while valid.
			if md.reads != 3 {
				t.Errorf("%d metadata reads, want 3 (region, role, credentials)", md.reads)
			}
			if hardened && md.tokenPuts == 0 {
				t.Error("no session token asked for in hardened mode")
			}
		})
	}
}

// addonTokenFile writes the ACK addon's token-config as kube-eventer reads it: each credential
// AES-CBC encrypted with the keyring, IV first, PKCS#5 padded, base64.
func addonTokenFile(t *testing.T, path, id, secret, token string, expires time.Time) {
	keyring := []byte("0123456789abcdef0123456789abcdef")
	enc := func(s string) string {
		block, _ := aes.NewCipher(keyring)
		pad := aes.BlockSize - len(s)%aes.BlockSize
		plain := append([]byte(s), bytes.Repeat([]byte{byte(pad)}, pad)...)
		out := make([]byte, aes.BlockSize+len(plain))
		_, _ = rand.Read(out[:aes.BlockSize])
		cipher.NewCBCEncrypter(block, out[:aes.BlockSize]).CryptBlocks(out[aes.BlockSize:], plain)
		return base64.StdEncoding.EncodeToString(out)
	}
	b, _ := json.Marshal(map[string]string{
		"access.key.id": enc(id), "access.key.secret": enc(secret), "security.token": enc(token),
		"expiration": expires.UTC().Format("2006-01-02T15:04:05Z"), "keyring": string(keyring),
	})
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
}

// On ACK the addon mounts encrypted STS credentials; kube-eventer read them first.
func TestAddonTokenFile(t *testing.T) {
	rc := newReceiver(t)
	rc.akID, rc.akSecret, rc.stsToken = "STS.addonID", "addonSECRET/+=x", "CAIS-addon-token"
	path := filepath.Join(t.TempDir(), "token-config")
	addonTokenFile(t, path, rc.akID, rc.akSecret, rc.stsToken, time.Now().Add(time.Hour))
	// The metadata service is there for the region only; its role credentials are not used.
	md := newMetadataServer(t, true, stsCreds("STS.other", "other", "other", time.Now().Add(time.Hour)))
	s := build(t, stsValue(rc, "&token_config="+path+"&metadata_endpoint="+md.URL))
	if err := s.Export(context.Background(), []*core.Event{event("BackOff", "Pod", "web-1", 0)}); err != nil {
		t.Fatal(err)
	}
	if len(rc.accepted()) != 1 {
		t.Fatal("nothing written")
	}
}

// No credential source reachable: an outage that says what to set up, never a panic or a drop.
func TestNoCredentialSourceIsAnOutage(t *testing.T) {
	rc := newReceiver(t)
	dead := httptest.NewServer(http.NotFoundHandler())
	deadURL := dead.URL
	dead.Close()
	s := build(t, stsValue(rc, "&regionId=cn-hangzhou&token_config=/nonexistent/token-config&metadata_endpoint="+deadURL))
	err := s.Export(context.Background(), []*core.Event{event("BackOff", "Pod", "web-1", 0)})
	if !core.IsCredential(err) {
		t.Fatalf("got %v, want a credential outage", err)
	}
	for _, want := range []string{"ECS metadata service", "attach a RAM role", "accessKeyId"} {
		if !strings.Contains(err.Error()+core.CredentialFix(err), want) {
			t.Errorf("%v (fix %q) lacks %q", err, core.CredentialFix(err), want)
		}
	}

	// A token file that does not decrypt names the file and the field, not its content.
	path := filepath.Join(t.TempDir(), "token-config")
	addonTokenFile(t, path, "STS.id", "SECRETVALUE123", "TOKENVALUE123", time.Now().Add(time.Hour))
	b, _ := os.ReadFile(path)
	_ = os.WriteFile(path, bytes.Replace(b, []byte("0123456789abcdef0123456789abcdef"), []byte("fedcba9876543210fedcba9876543210"), 1), 0o600)
	s = build(t, stsValue(rc, "&regionId=cn-hangzhou&token_config="+path+"&metadata_endpoint="+deadURL))
	err = s.Export(context.Background(), []*core.Event{event("BackOff", "Pod", "web-1", 0)})
	if !core.IsCredential(err) || !strings.Contains(err.Error(), path) {
		t.Fatalf("got %v, want a credential outage naming %s", err, path)
	}
	httpxtest.AssertNoSecret(t, err, "SECRETVALUE123", "TOKENVALUE123")
}

// kube-eventer used an AccessKey only when both halves were given; one alone is a warning.
func TestHalfAnAccessKeyWarns(t *testing.T) {
	b, err := sinks.Build(1, "sls:x?project=k8s-log&logStore=k8s-event&regionId=cn-hangzhou&accessKeyId=LTAIabc", sinks.Env{Ctx: context.Background(), CheckOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Sink.Close()
	if w := strings.Join(b.Warnings, "\n"); !strings.Contains(w, "given without accessKeySecret") {
		t.Errorf("warnings %q", w)
	}
}

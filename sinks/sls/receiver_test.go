package sls_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"

	slssdk "github.com/aliyun/aliyun-log-go-sdk"
	"github.com/gogo/protobuf/proto"
	"github.com/pierrec/lz4"
)

// receiver is an SLS PutLogs endpoint: it serves POST /logstores/NAME for project PROJECT at
// Host PROJECT.ENDPOINT, decompresses the body as x-log-compresstype says (lz4, or none) to
// exactly x-log-bodyrawsize bytes, decodes the protobuf LogGroup with the SDK's generated types,
// verifies the Authorization header by signing the request again with the SDK's signer (v4, as
// kube-eventer configures it), and answers errors the way SLS does: a JSON body with errorCode
// and errorMessage and an x-log-requestid header. It keeps every LogGroup it accepts, in order:
// SLS appends, so a LogGroup sent twice is stored twice.
type receiver struct {
	*httptest.Server
	project, logstore, region string
	akID, akSecret            string
	// stsToken, when set, must come as x-acs-security-token (STS credentials), signed.
	stsToken string

	mu     sync.Mutex
	groups []*slssdk.LogGroup
	heads  []http.Header
	raw    []int // x-log-bodyrawsize of each accepted request
	n      int   // requests
	// fail, when set, answers the n-th request (from 0) with a status and an errorCode
	// instead of accepting it.
	fail func(n int) (int, string)
}

func newReceiver(t testing.TB) *receiver {
	t.Helper()
	rc := &receiver{project: "k8s-log-c1234", logstore: "k8s-event", region: "cn-hangzhou", akID: "LTAI5tAKID0123456789", akSecret: "akSECRET0123456789abcdefghij"}
	rc.Server = httptest.NewServer(http.HandlerFunc(rc.serve))
	t.Cleanup(rc.Close)
	return rc
}

// endpointHost is host:port of the endpoint, as the sink is configured with.
func (rc *receiver) endpointHost() string {
	u, _ := url.Parse(rc.URL)
	return u.Host
}

func slsError(w http.ResponseWriter, status int, code, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("x-log-requestid", "5F1C2A8E3B7D4E59")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]string{"errorCode": code, "errorMessage": msg})
}

func (rc *receiver) serve(w http.ResponseWriter, r *http.Request) {
	rc.mu.Lock()
	n := rc.n
	rc.n++
	fail := rc.fail
	rc.mu.Unlock()

	wantHost := rc.project + "." + rc.endpointHost()
	if project, _, _ := strings.Cut(r.Host, "."); r.Host != wantHost && project != rc.project {
		slsError(w, http.StatusNotFound, "ProjectNotExist", fmt.Sprintf("The Project does not exist : %s", project))
		return
	}
	if r.Host != wantHost {
		slsError(w, http.StatusBadRequest, "InvalidHost", "host "+r.Host)
		return
	}
	if r.Method != http.MethodPost || !strings.HasPrefix(r.URL.Path, "/logstores/") {
		slsError(w, http.StatusNotFound, "RequestURINotFound", r.Method+" "+r.URL.Path)
		return
	}
	if ls := strings.TrimPrefix(r.URL.Path, "/logstores/"); ls != rc.logstore {
		slsError(w, http.StatusNotFound, "LogStoreNotExist", fmt.Sprintf("logstore %s does not exist", ls))
		return
	}
	body, _ := io.ReadAll(r.Body)
	if err := rc.checkSignature(r, body); err != nil {
		slsError(w, http.StatusUnauthorized, "SignatureNotMatch", err.Error())
		return
	}
	if r.Header.Get("x-log-apiversion") != "0.6.0" || r.Header.Get("Content-Type") != "application/x-protobuf" {
		slsError(w, http.StatusBadRequest, "InvalidHeader", "x-log-apiversion or Content-Type")
		return
	}
	rawSize, err := strconv.Atoi(r.Header.Get("x-log-bodyrawsize"))
	if err != nil || rawSize < 0 {
		slsError(w, http.StatusBadRequest, "InvalidBodyRawSize", "x-log-bodyrawsize "+r.Header.Get("x-log-bodyrawsize"))
		return
	}
	raw, err := decompress(r.Header.Get("x-log-compresstype"), body, rawSize)
	if err != nil {
		slsError(w, http.StatusBadRequest, "PostBodyUncompressError", err.Error())
		return
	}
	lg := &slssdk.LogGroup{}
	if err := proto.Unmarshal(raw, lg); err != nil {
		slsError(w, http.StatusBadRequest, "PostBodyInvalid", "not a LogGroup: "+err.Error())
		return
	}
	if len(lg.Logs) == 0 || len(lg.Logs) > 4096 {
		slsError(w, http.StatusBadRequest, "InvalidLogSize", fmt.Sprintf("%d logs", len(lg.Logs)))
		return
	}
	for _, l := range lg.Logs {
		if l.Time == nil || len(l.Contents) == 0 {
			slsError(w, http.StatusBadRequest, "PostBodyInvalid", "a log without time or contents")
			return
		}
	}
	if fail != nil {
		if status, code := fail(n); status != 0 {
			slsError(w, status, code, "test receiver refuses request "+strconv.Itoa(n))
			return
		}
	}
	rc.mu.Lock()
	rc.groups = append(rc.groups, lg)
	rc.heads = append(rc.heads, r.Header.Clone())
	rc.raw = append(rc.raw, rawSize)
	rc.mu.Unlock()
	w.Header().Set("x-log-requestid", "5F1C2A8E3B7D4E5A")
	w.WriteHeader(http.StatusOK)
}

func decompress(kind string, body []byte, rawSize int) ([]byte, error) {
	switch kind {
	case "":
		if len(body) != rawSize {
			return nil, fmt.Errorf("body is %d bytes, x-log-bodyrawsize says %d", len(body), rawSize)
		}
		return body, nil
	case "lz4":
		out := make([]byte, rawSize)
		n, err := lz4.UncompressBlock(body, out)
		if err != nil || n != rawSize {
			return nil, fmt.Errorf("lz4: %d bytes, want %d: %v", n, rawSize, err)
		}
		return out, nil
	}
	return nil, fmt.Errorf("unknown x-log-compresstype %q", kind)
}

// checkSignature signs the request again with the SDK's signer and compares.
func (rc *receiver) checkSignature(r *http.Request, body []byte) error {
	rc.mu.Lock()
	akID, akSecret, stsToken := rc.akID, rc.akSecret, rc.stsToken
	rc.mu.Unlock()
	if got := r.Header.Get("x-acs-security-token"); got != stsToken {
		return fmt.Errorf("x-acs-security-token %q, want %q", got, stsToken)
	}
	auth := r.Header.Get("Authorization")
	headers := map[string]string{"Host": r.Host}
	for k := range r.Header {
		l := strings.ToLower(k)
		if strings.HasPrefix(l, "x-log-") || strings.HasPrefix(l, "x-acs-") || l == "content-type" {
			headers[l] = r.Header.Get(k)
		}
	}
	var signer slssdk.Signer
	switch {
	case strings.HasPrefix(auth, "SLS4-HMAC-SHA256 "):
		if !strings.Contains(auth, "Credential="+akID+"/") {
			return fmt.Errorf("unknown AccessKey in %s", auth)
		}
		signer = slssdk.NewSignerV4(akID, akSecret, rc.region)
	default:
		return fmt.Errorf("no SLS Authorization header (got %q)", auth)
	}
	if err := signer.Sign(r.Method, r.URL.RequestURI(), headers, body); err != nil {
		return err
	}
	if headers["Authorization"] != auth {
		return fmt.Errorf("signature mismatch: want %s", headers["Authorization"])
	}
	return nil
}

// contents returns a log's contents as a map and its keys in order.
func contents(l *slssdk.Log) (map[string]string, []string) {
	m := map[string]string{}
	var keys []string
	for _, c := range l.Contents {
		m[c.GetKey()] = c.GetValue()
		keys = append(keys, c.GetKey())
	}
	return m, keys
}

func (rc *receiver) accepted() []*slssdk.LogGroup {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return append([]*slssdk.LogGroup(nil), rc.groups...)
}

func headerNames(h http.Header) []string {
	var out []string
	for k := range h {
		out = append(out, strings.ToLower(k))
	}
	sort.Strings(out)
	return out
}

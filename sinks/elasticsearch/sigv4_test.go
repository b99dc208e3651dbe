package elasticsearch

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/heraldproject/herald/sinks"
)

const (
	awsKeyID  = "AKIDHERALDTEST0001"
	awsSecret = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYHERALDKEY"
)

// awsEnvForTest gives the SDK's default chain static credentials from the environment and keeps
// it away from every other source (files, the instance metadata endpoint).
func awsEnvForTest(t *testing.T) {
	t.Setenv("AWS_ACCESS_KEY_ID", awsKeyID)
	t.Setenv("AWS_SECRET_ACCESS_KEY", awsSecret)
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	t.Setenv("AWS_CONFIG_FILE", "/nonexistent/aws-config")
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent/aws-credentials")
	t.Setenv("AWS_REGION", "")
	t.Setenv("AWS_PROFILE", "")
}

// sigV4Receiver checks every request's signature the way AWS does: it rebuilds the canonical
// request from what arrived (method, path, query, the signed headers, the body's hash) and signs
// it again with the shared secret; the signature must match, and the body's hash must be the
// body's.
type sigV4Receiver struct {
	*httptest.Server
	mu      sync.Mutex
	checked int
	bad     []string
}

func newSigV4Receiver(t *testing.T, region, service string) *sigV4Receiver {
	rcv := &sigV4Receiver{}
	rcv.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		problem := verifySigV4(r, body, region, service)
		rcv.mu.Lock()
		rcv.checked++
		if problem != "" {
			rcv.bad = append(rcv.bad, r.Method+" "+r.URL.Path+": "+problem)
		}
		rcv.mu.Unlock()
		if problem != "" {
			w.WriteHeader(http.StatusForbidden)
			_, _ = w.Write([]byte(`{"message":"The request signature we calculated does not match the signature you provided."}`))
			return
		}
		w.Header().Set("Content-Type", "application/json")
		if r.URL.Path == "/" {
			_, _ = w.Write([]byte(`{"version":{"number":"2.11.1","distribution":"opensearch"}}`))
			return
		}
		lines, err := parseBulk(body)
		if err != nil {
			w.WriteHeader(400)
			return
		}
		var items []string
		for _, l := range lines {
			items = append(items, `{"index":{"_index":"`+l.Index+`","_id":"`+l.ID+`","status":201}}`)
		}
		_, _ = w.Write([]byte(`{"errors":false,"items":[` + strings.Join(items, ",") + `]}`))
	}))
	t.Cleanup(rcv.Close)
	return rcv
}

func verifySigV4(r *http.Request, body []byte, region, service string) string {
	auth := r.Header.Get("Authorization")
	if !strings.HasPrefix(auth, "AWS4-HMAC-SHA256 ") {
		return "no AWS4-HMAC-SHA256 Authorization header: " + auth
	}
	if strings.Contains(auth, awsSecret) {
		return "the secret key is in the header"
	}
	amzDate, err := time.Parse("20060102T150405Z", r.Header.Get("X-Amz-Date"))
	if err != nil {
		return "bad X-Amz-Date"
	}
	scope := "Credential=" + awsKeyID + "/" + amzDate.Format("20060102") + "/" + region + "/" + service + "/aws4_request"
	if !strings.Contains(auth, scope) {
		return "wrong credential scope: " + auth
	}
	_, signedList, _ := strings.Cut(auth, "SignedHeaders=")
	signedList, _, _ = strings.Cut(signedList, ",")
	// Rebuild the request with only the signed headers, as the service does, and sign it again.
	again, _ := http.NewRequest(r.Method, "http://"+r.Host+r.URL.RequestURI(), bytes.NewReader(body))
	for _, h := range strings.Split(signedList, ";") {
		if h == "host" {
			continue
		}
		again.Header[http.CanonicalHeaderKey(h)] = r.Header.Values(h)
	}
	again.Header.Del("Authorization")
	sum := sha256.Sum256(body)
	creds := aws.Credentials{AccessKeyID: awsKeyID, SecretAccessKey: awsSecret}
	if err := v4.NewSigner().SignHTTP(context.Background(), creds, again, hex.EncodeToString(sum[:]), service, region, amzDate); err != nil {
		return err.Error()
	}
	if again.Header.Get("Authorization") != auth {
		return "signature mismatch:\n got  " + auth + "\n want " + again.Header.Get("Authorization")
	}
	return ""
}

// kube-eventer signed when sigv4 was given, or when AWS credentials were in the environment; so
// does herald, with the SDK's credential chain.
func TestSigV4SignsEveryRequest(t *testing.T) {
	awsEnvForTest(t)
	for _, tc := range []struct{ name, params, region, service string }{
		{"sigv4 parameter", "?sigv4=true&aws_region=eu-west-1", "eu-west-1", "es"},
		{"credentials in the environment alone", "?aws_region=us-east-2", "us-east-2", "es"},
		{"OpenSearch Serverless", "?sigv4=1&aws_region=eu-central-1&aws_service=aoss", "eu-central-1", "aoss"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rcv := newSigV4Receiver(t, tc.region, tc.service)
			b, err := sinks.Build(1, "elasticsearch:"+rcv.URL+tc.params+"&sniff=false&index=signed", sinks.Env{})
			require.NoError(t, err)
			defer b.Sink.Close()
			require.NoError(t, b.Sink.Export(context.Background(), batch(0, 3)))
			require.NoError(t, b.Sink.Export(context.Background(), batch(3, 2)))
			rcv.mu.Lock()
			defer rcv.mu.Unlock()
			assert.Empty(t, rcv.bad)
			assert.GreaterOrEqual(t, rcv.checked, 3, "GET / and two bulk requests") // plus the alias
		})
	}
}

func TestSigV4RegionAndServiceFromTheHost(t *testing.T) {
	for host, want := range map[string][2]string{
		"search-logs-abc123.eu-west-1.es.amazonaws.com":   {"eu-west-1", "es"},
		"vpc-logs-abc123.cn-north-1.es.amazonaws.com.cn":  {"cn-north-1", "es"},
		"07tjusf2h91cunochc.us-east-1.aoss.amazonaws.com": {"us-east-1", "aoss"},
		"es.logging.svc":                                    {"", ""},
		"s3.eu-west-1.amazonaws.com":                        {"", ""},
		"search-logs.eu-west-1.es.amazonaws.com.example.io": {"", ""},
	} {
		region, service := awsHost(host)
		assert.Equal(t, want, [2]string{region, service}, host)
	}
	awsEnvForTest(t)
	_, err := sinks.Build(1, "elasticsearch:https://es.logging.svc:9200?sigv4=true", sinks.Env{})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "add aws_region=REGION")
	b, err := sinks.Build(1, "elasticsearch:https://search-logs-abc.eu-west-1.es.amazonaws.com?sigv4=true", sinks.Env{})
	require.NoError(t, err)
	defer b.Sink.Close()
	assert.NotContains(t, b.Redacted, awsSecret)
}

package elasticsearch

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"

	"github.com/heraldproject/herald/common/redact"
)

// sigV4 signs every request with AWS Signature Version 4, as kube-eventer's AWSSigningTransport
// did for Amazon's Elasticsearch / OpenSearch Service. Credentials come from the AWS SDK's
// default chain (environment, shared files, web identity as IRSA sets it up, ECS, the EC2
// instance role), fetched when the first request is signed and refreshed before they expire.
type sigV4 struct {
	base    http.RoundTripper
	creds   aws.CredentialsProvider
	signer  *v4.Signer
	region  string
	service string
	now     func() time.Time
}

func newSigV4(cfg *Config, base http.RoundTripper) (*sigV4, error) {
	host := ""
	if len(cfg.Addresses) > 0 {
		if i := strings.Index(cfg.Addresses[0], "://"); i >= 0 {
			host = strings.SplitN(cfg.Addresses[0][i+3:], "/", 2)[0]
			host = strings.SplitN(host, ":", 2)[0]
		}
	}
	hostRegion, hostService := awsHost(host)
	awsCfg, err := awsconfig.LoadDefaultConfig(context.Background())
	if err != nil {
		return nil, fmt.Errorf("parameter \"sigv4\": reading the AWS configuration: %s; check AWS_CONFIG_FILE and AWS_PROFILE", redact.Text(err.Error()))
	}
	s := &sigV4{base: base, creds: awsCfg.Credentials, signer: v4.NewSigner(), now: time.Now}
	s.region = firstNonEmpty(cfg.AWSRegion, hostRegion, awsCfg.Region)
	s.service = firstNonEmpty(cfg.AWSService, hostService, "es")
	if s.region == "" {
		return nil, fmt.Errorf("parameter \"sigv4\": no AWS region to sign for: the host %q does not name one (DOMAIN.REGION.es.amazonaws.com); add aws_region=REGION or set AWS_REGION", host)
	}
	if s.creds == nil {
		return nil, fmt.Errorf("parameter \"sigv4\": the AWS SDK found no credential source; set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or give the pod an IAM role (IRSA)")
	}
	return s, nil
}

// awsHost reads the region and service from an AWS endpoint's name:
// search-DOMAIN-ID.REGION.es.amazonaws.com, or ID.REGION.aoss.amazonaws.com (Serverless).
func awsHost(host string) (region, service string) {
	h := strings.ToLower(host)
	rest, ok := strings.CutSuffix(h, ".amazonaws.com")
	if !ok {
		if rest, ok = strings.CutSuffix(h, ".amazonaws.com.cn"); !ok {
			return "", ""
		}
	}
	labels := strings.Split(rest, ".")
	n := len(labels)
	if n < 3 || labels[n-1] != "es" && labels[n-1] != "aoss" {
		return "", ""
	}
	return labels[n-2], labels[n-1]
}

func firstNonEmpty(v ...string) string {
	for _, s := range v {
		if s != "" {
			return s
		}
	}
	return ""
}

// RoundTrip signs a copy of req (its body hashed, so it is read into memory: a bulk request is
// already) and sends it.
func (s *sigV4) RoundTrip(req *http.Request) (*http.Response, error) {
	ctx := req.Context()
	creds, err := s.creds.Retrieve(ctx)
	if err != nil {
		return nil, fmt.Errorf("AWS signing: getting credentials: %s", redact.Text(err.Error()))
	}
	r := req.Clone(ctx)
	var body []byte
	if req.Body != nil && req.Body != http.NoBody {
		body, err = io.ReadAll(req.Body)
		_ = req.Body.Close()
		if err != nil {
			return nil, fmt.Errorf("AWS signing: reading the request body: %w", err)
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		r.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(body)), nil }
		r.ContentLength = int64(len(body))
	}
	sum := sha256.Sum256(body)
	// kube-eventer's signature replaced any Authorization header; so does this one.
	r.Header.Del("Authorization")
	if err := s.signer.SignHTTP(ctx, creds, r, hex.EncodeToString(sum[:]), s.service, s.region, s.now()); err != nil {
		return nil, fmt.Errorf("AWS signing: %s", redact.Text(err.Error()))
	}
	return s.base.RoundTrip(r)
}

package elasticsearch

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/elastic/go-elasticsearch/v8/esapi"
	"github.com/golang/glog"

	"github.com/heraldproject/herald/core"
)

// TypeName is the mapping type kube-eventer wrote events under on Elasticsearch 2, 5 and 6
// (its typeName "events"); an index of 6 holds one type, so herald must use the same.
const TypeName = "events"

// server is what GET / says about the cluster: its major and minor version and, for OpenSearch,
// its distribution. herald writes as that version needs; kube-eventer's ver= is only the answer
// when the cluster does not give one.
type server struct {
	major, minor int
	distribution string // "opensearch", or "" for Elasticsearch and compatible servers
	number       string // as the server gave it, for logs
	guessed      bool   // from ver= (or the default), not from the server
}

func (v server) String() string {
	name := "Elasticsearch"
	if v.distribution == "opensearch" {
		name = "OpenSearch"
	}
	if v.guessed {
		if v.major == 0 {
			return name + " (version unknown, written as 7 and later)"
		}
		return fmt.Sprintf("%s %d (from ver=)", name, v.major)
	}
	return name + " " + v.number
}

// typed says whether bulk actions need _type: Elasticsearch 2 to 6. OpenSearch (forked from
// 7.10) and compatible servers that give a major version below 2 (ZincSearch says 0.4) do not.
func (v server) typed() bool {
	return v.distribution == "" && v.major >= 2 && v.major <= 6
}

// composable says whether the cluster has composable index templates (_index_template):
// Elasticsearch 7.8 and later, OpenSearch, and compatible servers.
func (v server) composable() bool {
	if v.distribution != "" || v.major < 2 {
		return true
	}
	return v.major > 7 || v.major == 7 && v.minor >= 8
}

// dataStreams says whether the cluster has data streams: Elasticsearch 7.9 and later,
// OpenSearch 1 and later, compatible servers (asked, they answer for themselves).
func (v server) dataStreams() bool {
	if v.distribution != "" || v.major < 2 {
		return true
	}
	return v.major > 7 || v.major == 7 && v.minor >= 9
}

// parseServer reads GET /'s reply: {"version":{"number":"6.8.23","distribution":"opensearch"}}.
func parseServer(body []byte) (server, error) {
	var r struct {
		Version struct {
			Number       string `json:"number"`
			Distribution string `json:"distribution"`
		} `json:"version"`
	}
	if err := json.Unmarshal(body, &r); err != nil {
		return server{}, fmt.Errorf("the reply to GET / is not JSON: %v", err)
	}
	n := r.Version.Number
	parts := strings.SplitN(n, ".", 3)
	major, err := strconv.Atoi(parts[0])
	if err != nil || n == "" {
		return server{}, fmt.Errorf("the reply to GET / has no version.number")
	}
	minor := 0
	if len(parts) > 1 {
		minor, _ = strconv.Atoi(parts[1])
	}
	v := server{major: major, minor: minor, number: n}
	if d := strings.ToLower(r.Version.Distribution); d == "opensearch" {
		v.distribution = d
	}
	return v, nil
}

// server returns the cluster's version, asking it once (GET /). A user without the monitor
// privilege (403) or a proxy that serves only the write APIs (404, a reply without a version)
// leaves ver= as the answer; a refused credential, a server that is down or busy are the
// batch's error, retried.
func (s *Sink) server(ctx context.Context) (server, error) {
	s.mu.Lock()
	v, known := s.version, s.versionKnown
	s.mu.Unlock()
	if known {
		return v, nil
	}
	body, err := s.do(ctx, esapi.InfoRequest{})
	if err == nil {
		v, err = parseServer(body)
		if err != nil {
			err = core.Permanent(err)
		}
	}
	if err != nil {
		var se *StatusError
		switch {
		case errors.As(err, &se) && (se.Status == http.StatusForbidden || se.Status == http.StatusNotFound || se.Status == http.StatusMethodNotAllowed),
			core.IsPermanent(err) && !core.IsCredential(err):
			v = server{major: s.cfg.Ver, guessed: true}
			glog.Infof("%s: %s does not say its version (%s); writing as %s", s.id, s.endpoints(), firstLine(err), v)
		default:
			return server{}, err
		}
	} else {
		if s.cfg.Ver != 0 && s.cfg.Ver != v.major && v.distribution == "" && v.major >= 2 {
			glog.Warningf("%s: ver=%d but the cluster is %s; herald writes as the cluster needs", s.id, s.cfg.Ver, v)
		}
		glog.V(1).Infof("%s: %s is %s", s.id, s.endpoints(), v)
	}
	s.mu.Lock()
	s.version, s.versionKnown = v, true
	s.mu.Unlock()
	return v, nil
}

func firstLine(err error) string {
	msg, _, _ := strings.Cut(err.Error(), "\n")
	return msg
}

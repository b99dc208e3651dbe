package e2e

import (
	"context"
	"encoding/base64"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/heraldproject/herald/test/harness"
)

// TestNoSecretLeavesARealProcess runs the herald binary as an operator would, at --v=10, with
// secrets in every kind of place (a webhook's userinfo and Authorization header, a Slack webhook's
// token path, an Elasticsearch password, a MySQL DSN password, passed through ${ENV}), receivers
// that fail and echo what they were sent, and a checkpoint in a file and a ConfigMap; then reads
// everything herald leaves behind: its whole log, /metrics, the checkpoint file and ConfigMap,
// and herald check's output. No secret may appear in any of them, in any usual encoding.
func TestNoSecretLeavesARealProcess(t *testing.T) {
	const (
		password = `p@ss/w:rd#1 ,"x%41`
		// A MySQL DSN sits raw in the query: '#' and '&' would cut it (a warning says so).
		dsnPassword = `p@ss/w:rd 2,"x%41`
		token       = "tok-Zq81-9f3A-secret"
		slackTok    = "XQ4wJ9kP2mL7sT1vB8nR5cY3"
	)
	ns := namespace(t, shared, "secrets")
	recv := harness.NewReceiver(t)
	// The receiver first refuses, echoing a request's secrets as some proxies do.
	recv.SetStatus(http.StatusBadGateway)
	recv.SetReply(fmt.Sprintf(`{"error":"upstream refused Authorization: Bearer %s for %s"}`, token, slackTok))
	u, _ := url.Parse(recv.URL)

	dir := t.TempDir()
	cpFile := filepath.Join(dir, "checkpoint")
	env := []string{"E2E_PW=" + password, "E2E_DSN_PW=" + dsnPassword, "E2E_TOKEN=" + token, "E2E_SLACK=" + slackTok}
	sinks := []string{
		"webhook:http://herald:${E2E_PW}@" + u.Host + "/hook?method=POST&level=Warning&header=Authorization=Bearer%20${E2E_TOKEN}",
		"slack:http://" + u.Host + "/services/T0000/B0000/${E2E_SLACK}?level=Warning",
		"elasticsearch:http://127.0.0.1:1?esUserName=herald&esUserSecret=${E2E_PW}&level=Warning",
		"mysql:?herald:${E2E_DSN_PW}@tcp(127.0.0.1:1)/events&level=Warning",
	}
	args := []string{"--v=10", "--checkpoint=file:" + cpFile + ",configmap:" + ns + "/herald-checkpoint", "--checkpoint-interval=0"}
	h := harness.Start(t, harness.Options{Kubeconfig: shared.Kubeconfig, Sinks: sinks, Args: args, Env: env})

	createEvent(t, shared.Client(), ns, "leak-1", "Warning", "BackOff", "back-off restarting")
	// Let the failures happen and be logged, then let the webhook and Slack succeed, so the
	// checkpoint holds every sink's key.
	deadline := time.Now().Add(60 * time.Second)
	for recv.Rejected() < 2 && time.Now().Before(deadline) {
		time.Sleep(200 * time.Millisecond)
	}
	if recv.Rejected() < 2 {
		t.Fatalf("the receiver refused %d requests, want both sinks to have tried", recv.Rejected())
	}
	recv.SetStatus(http.StatusOK)
	recv.SetReply("ok")
	recv.WaitFor(2, 60*time.Second)
	createEvent(t, shared.Client(), ns, "leak-2", "Warning", "BackOff", "again")
	recv.WaitFor(4, 60*time.Second)
	time.Sleep(2 * time.Second) // the checkpoint follows the delivered batch

	resp, err := http.Get(h.URL("/metrics"))
	if err != nil {
		t.Fatal(err)
	}
	metrics, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	cp, err := os.ReadFile(cpFile)
	if err != nil {
		t.Fatalf("no checkpoint file: %v", err)
	}
	cm, err := shared.Client().CoreV1().ConfigMaps(ns).Get(context.Background(), "herald-checkpoint", metav1.GetOptions{})
	if err != nil {
		t.Fatalf("no checkpoint ConfigMap: %v", err)
	}
	var cmText strings.Builder
	for k, v := range cm.Data {
		cmText.WriteString(k + "=" + v + "\n")
	}
	checkArgs := append([]string{"check", harness.SourceFlag(shared.Kubeconfig)}, args[:1]...)
	for _, s := range sinks {
		checkArgs = append(checkArgs, "--sink="+s)
	}
	checkOut, _ := harness.Run(t, env, checkArgs...)
	_ = h.Stop()

	forms := func(s string) []string {
		return []string{s, url.QueryEscape(s), url.PathEscape(s), base64.StdEncoding.EncodeToString([]byte(s)),
			base64.StdEncoding.EncodeToString([]byte("herald:" + s)), fmt.Sprintf("%q", s)[1 : len(fmt.Sprintf("%q", s))-1]}
	}
	outputs := map[string]string{
		"log": h.Logs(), "/metrics": string(metrics), "checkpoint file": string(cp),
		"checkpoint ConfigMap": cmText.String(), "herald check": checkOut,
	}
	for where, text := range outputs {
		if text == "" {
			t.Errorf("%s is empty: nothing was checked", where)
		}
		for _, secret := range []string{password, dsnPassword, token, slackTok} {
			for _, f := range forms(secret) {
				if strings.Contains(text, f) {
					t.Errorf("%s holds a secret (as %q)", where, f)
				}
			}
		}
	}
	// The log did say what failed, so the check above read real error lines.
	for _, want := range []string{"webhook#1", "slack#2", "elasticsearch#3", "mysql#4", "502"} {
		if !strings.Contains(h.Logs(), want) {
			t.Errorf("the log never names %q: the failures were not logged", want)
		}
	}
}

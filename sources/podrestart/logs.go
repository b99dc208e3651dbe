package podrestart

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/client-go/kubernetes"
)

// logFetcher reads bounded log tails through pods/log.
type logFetcher struct {
	client     kubernetes.Interface
	tailLines  int64
	limitBytes int64
	timeout    time.Duration
	metrics    *Metrics
}

// fetch returns the tail of a container's log (previous=true: the container that terminated),
// or "" and a note saying why it is unavailable. It never returns an error: a restart is
// reported with or without its log.
func (f *logFetcher) fetch(ctx context.Context, pod *corev1.Pod, container string, previous bool) (text, note string) {
	which := "current"
	if previous {
		which = "previous"
	}
	ctx, cancel := context.WithTimeout(ctx, f.timeout)
	defer cancel()
	tail, limit := f.tailLines, f.limitBytes
	f.metrics.requests.WithLabelValues("log").Inc()
	raw, err := f.client.CoreV1().Pods(pod.Namespace).GetLogs(pod.Name, &corev1.PodLogOptions{
		Container: container, Previous: previous, TailLines: &tail, LimitBytes: &limit,
	}).DoRaw(ctx)
	if err != nil {
		reason, why := classifyLogError(err, ctx, pod, f.timeout)
		f.metrics.logFails.WithLabelValues(which, reason).Inc()
		return "", fmt.Sprintf("%s log unavailable: %s", which, why)
	}
	text = strings.ToValidUTF8(strings.TrimRight(string(raw), "\n"), "\uFFFD")
	if int64(len(raw)) >= limit {
		note = fmt.Sprintf("%s log cut at %d bytes", which, limit)
	}
	return text, note
}

// classifyLogError turns a pods/log failure into a metric reason and a sentence for the report.
func classifyLogError(err error, ctx context.Context, pod *corev1.Pod, timeout time.Duration) (reason, why string) {
	switch {
	case errors.Is(ctx.Err(), context.DeadlineExceeded) || errors.Is(err, context.DeadlineExceeded):
		return "timeout", fmt.Sprintf("no answer within %s", timeout)
	case apierrors.IsNotFound(err):
		return "gone", "the pod or container no longer exists"
	case apierrors.IsForbidden(err):
		return "forbidden", fmt.Sprintf("herald may not read pods/log in namespace %s (grant get on pods/log)", pod.Namespace)
	case apierrors.IsBadRequest(err):
		// The kubelet's own words: "previous terminated container ... not found", "container
		// ... is waiting to start".
		return "unavailable", shorten(apiMessage(err), 300)
	case apierrors.IsInternalError(err) || apierrors.IsServiceUnavailable(err) || apierrors.IsUnexpectedServerError(err):
		return "unavailable", fmt.Sprintf("the API server could not fetch it from the kubelet of node %q (%s)", pod.Spec.NodeName, shorten(apiMessage(err), 200))
	default:
		return "error", shorten(apiMessage(err), 300)
	}
}

func apiMessage(err error) string {
	var s apierrors.APIStatus
	if errors.As(err, &s) && s.Status().Message != "" {
		return s.Status().Message
	}
	return err.Error()
}

func shorten(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) <= n {
		return s
	}
	return strings.ToValidUTF8(s[:n], "") + "…"
}

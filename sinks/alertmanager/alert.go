package alertmanager

import (
	"strconv"
	"time"

	corev1 "k8s.io/api/core/v1"

	"github.com/heraldproject/herald/core"
)

// Alert is one postableAlert of Alertmanager's API v2 (api/v2/openapi.yaml): labels are
// required, the rest optional; times are RFC 3339.
type Alert struct {
	Labels       map[string]string `json:"labels"`
	Annotations  map[string]string `json:"annotations,omitempty"`
	StartsAt     time.Time         `json:"startsAt"`
	EndsAt       time.Time         `json:"endsAt"`
	GeneratorURL string            `json:"generatorURL,omitempty"`
}

// alert turns an event into an alert. The labels identify the event's series (reason and
// object), never its message or count, so every repeat of the event refreshes the same alert
// and Alertmanager's grouping, inhibition and silences apply to it. Empty values are left out:
// to Alertmanager an empty label is an absent one.
func (c *Config) alert(e *core.Event, now time.Time) Alert {
	labels := map[string]string{}
	for k, v := range c.Labels {
		labels[k] = v
	}
	set := func(k, v string) {
		if v != "" {
			labels[k] = v
		}
	}
	set("alertname", e.Reason)
	if e.Reason == "" {
		labels["alertname"] = "KubernetesEvent"
	}
	o := e.InvolvedObject
	set("namespace", o.Namespace)
	set("kind", o.Kind)
	set("name", o.Name)
	set("cluster", c.Cluster)
	set("severity", c.severity(e.Reason))

	annotations := map[string]string{}
	set2 := func(k, v string) {
		if v != "" {
			annotations[k] = v
		}
	}
	set2("message", e.Message)
	count := e.Count
	if e.Series != nil && e.Series.Count > count {
		count = e.Series.Count
	}
	if count > 0 {
		annotations["count"] = strconv.Itoa(int(count))
	}
	set2("source", source(e.Event))

	last := e.LastSeen(now)
	first := firstSeen(e, last)
	return Alert{
		Labels:       labels,
		Annotations:  annotations,
		StartsAt:     first.UTC(),
		EndsAt:       last.Add(c.ResolveTimeout).UTC(),
		GeneratorURL: c.GeneratorURL,
	}
}

func (c *Config) severity(reason string) string {
	if s, ok := c.Severity[reason]; ok {
		return s
	}
	return c.DefaultSeverity
}

// source is who reported the event: "kubelet, node-3".
func source(e *corev1.Event) string {
	comp, host := e.Source.Component, e.Source.Host
	if comp == "" {
		comp = e.ReportingController
	}
	if host == "" {
		host = e.ReportingInstance
	}
	switch {
	case comp != "" && host != "":
		return comp + ", " + host
	case comp != "":
		return comp
	}
	return host
}

// firstSeen is when the event first happened; never after last.
func firstSeen(e *core.Event, last time.Time) time.Time {
	t := e.FirstTimestamp.Time
	if t.IsZero() && !e.EventTime.IsZero() {
		t = e.EventTime.Time
	}
	if t.IsZero() || t.After(last) {
		t = last
	}
	return t
}

package influxdb

import (
	"encoding/json"
	"time"

	"github.com/influxdata/influxdb-client-go/v2/api/write"

	"github.com/heraldproject/herald/core"
)

func count(e *core.Event) int32 {
	if e.Series != nil && e.Series.Count > e.Count {
		return e.Series.Count
	}
	return e.Count
}

// point is the InfluxDB point for e, in the configured layout. Its time is the event's last
// timestamp; its uid tag keeps two events of the same second apart (a point is identified by
// measurement, tag set and time, so without it the second would overwrite the first), while a
// replay of the same event and count lands on the same point and overwrites it. Empty tag values
// are left out, as line protocol (and kube-eventer's client) requires.
func (s *Sink) point(e *core.Event, now time.Time) *write.Point {
	p := write.NewPointWithMeasurement(s.cfg.Measurement)
	tag := func(k, v string) {
		if v != "" {
			p.AddTag(k, v)
		}
	}
	if s.cfg.Layout == LayoutHerald {
		s.heraldPoint(e, p, tag)
	} else {
		s.kubeEventerPoint(e, p, tag)
	}
	p.SetTime(e.LastSeen(now))
	p.SortTags() // the order InfluxDB stores them in, which spares it a sort per point
	return p
}

// kubeEventerPoint fills p as kube-eventer's sinks/influxdb does. withfields=false (its
// default): tags uid, pod_id and pod_name (for Pods), hostname, cluster_name; field value, the
// event as json.MarshalIndent(event, "", " "). withfields=true: tags uid, pod_id (for Pods),
// object_name, type, kind, component, reason, namespace_name (the event's namespace), hostname,
// cluster_name; field message.
func (s *Sink) kubeEventerPoint(e *core.Event, p *write.Point, tag func(k, v string)) {
	tag("uid", string(e.UID))
	if e.InvolvedObject.Kind == "Pod" {
		tag("pod_id", string(e.InvolvedObject.UID))
		if !s.cfg.WithFields {
			tag("pod_name", e.InvolvedObject.Name)
		}
	}
	if s.cfg.WithFields {
		tag("object_name", e.InvolvedObject.Name)
		tag("type", e.Type)
		tag("kind", e.InvolvedObject.Kind)
		tag("component", e.Source.Component)
		tag("reason", e.Reason)
		tag("namespace_name", e.Namespace)
		p.AddField("message", e.Message)
	} else {
		value, err := json.MarshalIndent(e.Event, "", " ")
		if err != nil {
			value = []byte(e.Message) // a core/v1 Event always encodes; keep the point anyway
		}
		p.AddField("value", string(value))
	}
	tag("hostname", e.Source.Host)
	tag("cluster_name", s.cfg.Cluster)
}

// heraldPoint fills p in herald's layout: the event's attributes as tags, the message and
// count as fields, a container restart's details, and with withfields=false kube-eventer's value
// field as well.
func (s *Sink) heraldPoint(e *core.Event, p *write.Point, tag func(k, v string)) {
	tag("namespace", e.InvolvedObject.Namespace)
	if e.InvolvedObject.Namespace == "" {
		tag("namespace", e.Namespace)
	}
	tag("kind", e.InvolvedObject.Kind)
	tag("object_name", e.InvolvedObject.Name)
	tag("reason", e.Reason)
	tag("type", e.Type)
	tag("component", e.Source.Component)
	tag("hostname", e.Source.Host)
	tag("cluster", s.cfg.Cluster)
	tag("uid", string(e.UID))
	p.AddField("message", e.Message)
	p.AddField("count", int64(count(e)))
	if r := e.Restart; r != nil {
		tag("container", r.Container)
		p.AddField("restart_count", int64(r.RestartCount))
		if ls := r.LastState; ls != nil {
			p.AddField("exit_code", int64(ls.ExitCode))
			p.AddField("termination_state", ls.Reason)
		}
	}
	if s.cfg.ValueField {
		if b, err := json.Marshal(e.Event); err == nil {
			p.AddField("value", string(b))
		}
	}
}

package influxdb

import (
	"encoding/json"

	"github.com/influxdata/influxdb-client-go/v2/api/write"

	"github.com/heraldproject/herald/core"
)

func count(e *core.Event) int32 {
	if e.Series != nil && e.Series.Count > e.Count {
		return e.Series.Count
	}
	return e.Count
}

// point is the InfluxDB point for e. Its time is the event's last timestamp; its uid tag keeps
// two events of the same second apart (a point is identified by measurement, tag set and time,
// so without it the second would overwrite the first), while a replay of the same event and
// count lands on the same point and overwrites it.
func (s *Sink) point(e *core.Event) *write.Point {
	p := write.NewPointWithMeasurement(s.cfg.Measurement)
	tag := func(k, v string) {
		if v != "" { // line protocol has no empty tag values
			p.AddTag(k, v)
		}
	}
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
	if !s.cfg.WithFields {
		// kube-eventer's layout without fields: the whole event as JSON in "value".
		if b, err := json.Marshal(e.Event); err == nil {
			p.AddField("value", string(b))
		}
	}
	p.SetTime(e.LastSeen(e.CreationTimestamp.Time))
	p.SortTags() // the order InfluxDB stores them in, which spares it a sort per point
	return p
}

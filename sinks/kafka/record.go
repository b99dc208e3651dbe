package kafka

import (
	"encoding/json"
	"time"

	"github.com/heraldproject/herald/common/eventrecord"
	"github.com/heraldproject/herald/core"
)

// The herald.event/v1 record (common/eventrecord), under the kafka sink's names.
const Schema = eventrecord.Schema

type (
	Record      = eventrecord.Record
	Restart     = eventrecord.Restart
	RecentEvent = eventrecord.RecentEvent
)

// encodeHerald renders e as a herald.event/v1 record.
func encodeHerald(e *core.Event, now time.Time) ([]byte, error) {
	return json.Marshal(eventrecord.New(e, now))
}

// kubeEventerPoint is kube-eventer's Kafka record value (its sinks/kafka KafkaSinkPoint): the
// event as indented JSON in a string, the event's time, and tags.
type kubeEventerPoint struct {
	EventValue     interface{}
	EventTimestamp time.Time
	EventTags      map[string]string
}

// encodeKubeEventer renders e exactly as kube-eventer's kafka sink does, so its consumers keep
// working: json.Marshal of {EventValue: MarshalIndent(event, "", " "), EventTimestamp, EventTags}.
func encodeKubeEventer(e *core.Event, now time.Time) ([]byte, error) {
	value, err := json.MarshalIndent(e.Event, "", " ")
	if err != nil {
		return nil, err
	}
	p := kubeEventerPoint{
		EventValue:     string(value),
		EventTimestamp: e.LastSeen(now).UTC(),
		EventTags:      map[string]string{"eventID": string(e.UID)},
	}
	if e.InvolvedObject.Kind == "Pod" {
		p.EventTags["pod_id"] = string(e.InvolvedObject.UID)
		p.EventTags["pod_name"] = e.InvolvedObject.Name
	}
	p.EventTags["hostname"] = e.Source.Host
	return json.Marshal(p)
}

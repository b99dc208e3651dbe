package sls

import (
	"encoding/json"
	"time"

	slssdk "github.com/aliyun/aliyun-log-go-sdk"

	"github.com/heraldproject/herald/core"
)

// Content keys, as kube-eventer writes them: the whole event as indented JSON under eventId,
// the reporting node under hostname, the event type under level, and for Pods their UID and name.
const (
	keyEvent    = "eventId"
	keyHostname = "hostname"
	keyLevel    = "level"
	keyPodID    = "pod_id"
	keyPodName  = "pod_name"
)

// Log returns the SLS log for e, with kube-eventer's contents and the config's labels; its time
// is when the event was last seen. It fails only for an event encoding/json cannot encode.
func (c *Config) Log(e *core.Event, now time.Time) (*slssdk.Log, error) {
	full, err := json.MarshalIndent(e.Event, "", " ")
	if err != nil {
		return nil, err
	}
	var contents []*slssdk.LogContent
	add := func(k, v string) {
		contents = append(contents, &slssdk.LogContent{Key: &k, Value: &v})
	}
	add(keyEvent, string(full))
	add(keyHostname, e.Source.Host)
	add(keyLevel, e.Type)
	if e.InvolvedObject.Kind == "Pod" {
		add(keyPodID, string(e.InvolvedObject.UID))
		add(keyPodName, e.InvolvedObject.Name)
	}
	for _, l := range c.Labels {
		add(l[0], l[1])
	}
	t := uint32(e.LastSeen(now).Unix())
	return &slssdk.Log{Time: &t, Contents: contents}, nil
}

package wechat

import (
	"encoding/json"

	"github.com/golang/glog"
)

// warnUndelivered logs the recipients an application message did not reach: the API answers
// errcode 0 and lists them in invaliduser, invalidparty and invalidtag.
func warnUndelivered(id string, reply []byte) {
	var r struct {
		InvalidUser  string `json:"invaliduser"`
		InvalidParty string `json:"invalidparty"`
		InvalidTag   string `json:"invalidtag"`
	}
	if json.Unmarshal(reply, &r) != nil {
		return
	}
	if r.InvalidUser != "" || r.InvalidParty != "" || r.InvalidTag != "" {
		glog.Warningf("%s: Work WeChat did not deliver to invalid users %q parties %q tags %q; check to_user", id, r.InvalidUser, r.InvalidParty, r.InvalidTag)
	}
}

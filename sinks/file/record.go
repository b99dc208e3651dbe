package file

import (
	"bytes"
	"encoding/json"
	"time"

	"github.com/heraldproject/herald/common/eventrecord"
	"github.com/heraldproject/herald/core"
)

// appendRecord appends e as a herald.event/v1 record (common/eventrecord, the kafka sink's
// record) and a newline to buf. encoding/json escapes every control character, so the record
// is one line; json.Encoder escapes <, > and & as json.Marshal does, so a line is byte for byte
// the kafka sink's record value.
func appendRecord(buf *bytes.Buffer, e *core.Event, now time.Time) error {
	return json.NewEncoder(buf).Encode(eventrecord.New(e, now))
}

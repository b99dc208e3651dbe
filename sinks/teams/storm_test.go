package teams_test

import "testing"

// TestStormIsPacedAndAccounted: Teams must see at most 20 messages in any 60 seconds of a
// storm of 1,000 events, each within its limits, and every event named or counted exactly once.
func TestStormIsPacedAndAccounted(t *testing.T) { kit.TestPacedStorm(t, "") }

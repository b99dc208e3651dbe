package podrestart

import (
	"testing"
	"time"

	clocktesting "k8s.io/utils/clock/testing"
)

func TestThrottleFoldsRepeatsWithinTheWindow(t *testing.T) {
	clk := clocktesting.NewFakePassiveClock(time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC))
	th := newThrottle(10*time.Minute, clk)
	k := podKey{"ns", "p"}
	step := func(d time.Duration, n int, wantReport bool, wantFolded int) {
		t.Helper()
		clk.SetTime(clk.Now().Add(d))
		report, folded := th.admit(k, "app", n)
		if report != wantReport || folded != wantFolded {
			t.Fatalf("at %s: admit = %v, %d; want %v, %d", clk.Now().Format("15:04:05"), report, folded, wantReport, wantFolded)
		}
	}
	step(0, 1, true, 0)                          // 10:00 first restart: reported
	step(time.Minute, 1, false, 0)               // 10:01 folded
	step(4*time.Minute, 2, false, 0)             // 10:05 two more (a jump of two), folded
	step(5*time.Minute-time.Second, 1, false, 0) // 10:09:59 still inside the window
	step(time.Second, 1, true, 4)                // 10:10:00 reported, four folded in
	step(10*time.Minute, 1, true, 0)             // 10:20 nothing was folded since
	// Containers are throttled independently.
	if report, _ := th.admit(k, "sidecar", 1); !report {
		t.Fatal("another container's first restart was throttled")
	}
	th.forgetPod("ns", "p")
	if th.size() != 0 {
		t.Fatalf("forgetPod left %d containers", th.size())
	}
}

func TestThrottleZeroWindowReportsEveryRestart(t *testing.T) {
	clk := clocktesting.NewFakePassiveClock(time.Now())
	th := newThrottle(0, clk)
	for i := range 3 {
		if report, folded := th.admit(podKey{"ns", "p"}, "app", 1); !report || folded != 0 {
			t.Fatalf("restart %d: admit = %v, %d", i, report, folded)
		}
	}
	// A jump of three in one update is one report with two folded in.
	if report, folded := th.admit(podKey{"ns", "p"}, "app", 3); !report || folded != 2 {
		t.Fatalf("jump: admit = %v, %d; want true, 2", report, folded)
	}
}

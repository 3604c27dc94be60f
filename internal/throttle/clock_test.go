package throttle_test

import (
	"time"

	"github.com/palisade-sec/palisade/internal/testutil"
)

// epoch is the fake clocks' starting time.
var epoch = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

// newClock returns a clock at epoch that moves only when told to.
func newClock() *testutil.Clock { return testutil.NewClock(epoch) }

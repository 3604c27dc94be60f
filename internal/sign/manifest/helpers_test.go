package manifest

import (
	"context"
	"testing"
)

// contextWithCancel returns a child of the test's context.
func contextWithCancel(t *testing.T) (context.Context, context.CancelFunc) {
	t.Helper()
	return context.WithCancel(t.Context())
}

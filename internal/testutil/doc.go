// Package testutil holds helpers shared by the tests of several packages:
// readers that fail on purpose, zip member extraction, and protobuf wire
// builders for hand-made model files. Only _test.go files import it (a
// layout test checks).
package testutil

package config

import (
	"os"
	"testing"
)

func seed(f *testing.F, name string) {
	f.Helper()
	data, err := os.ReadFile("testdata/" + name)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(data)
	f.Add([]byte("scan: [\n"))
	f.Add([]byte("a: &x [*x]\n"))
}

// FuzzParseProject decodes arbitrary project files: never panics, and a
// file with problems still yields what could be read or a nil project
// with an error.
func FuzzParseProject(f *testing.F) {
	seed(f, "project.yaml")
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) > maxProjectFile {
			return
		}
		p, err := ParseProject(data)
		if p == nil && err == nil {
			t.Fatal("ParseProject returned neither a project nor an error")
		}
	})
}

// FuzzParseServer decodes arbitrary server configuration files: never
// panics, and leaves the configuration unchanged when it reports a problem.
func FuzzParseServer(f *testing.F) {
	seed(f, "server.yaml")
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) > 1<<20 {
			return
		}
		c := DefaultServer()
		before := c.String()
		if err := ParseServer(data, &c); err != nil && c.String() != before {
			t.Fatalf("ParseServer changed the configuration although it failed: %v", err)
		}
	})
}

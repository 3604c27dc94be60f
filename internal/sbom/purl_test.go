package sbom

import (
	"testing"

	packageurl "github.com/package-url/packageurl-go"
)

func TestPURL(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		in   Package
		want string
		// what a purl parser reads back: type, namespace, name, version
		typ, ns, pname, version string
	}{
		{"pypi", Package{Name: "torch", Version: "2.1.0", Ecosystem: EcosystemPyPI}, "pkg:pypi/torch@2.1.0", "pypi", "", "torch", "2.1.0"},
		{"pypi normalised", Package{Name: "Typing_Extensions", Version: "4.9.0", Ecosystem: EcosystemPyPI}, "pkg:pypi/typing-extensions@4.9.0", "pypi", "", "typing-extensions", "4.9.0"},
		{"pypi dots kept", Package{Name: "zope.interface", Version: "6.0", Ecosystem: EcosystemPyPI}, "pkg:pypi/zope.interface@6.0", "pypi", "", "zope.interface", "6.0"},
		{"pypi local version", Package{Name: "torch", Version: "2.1.0+cu121", Ecosystem: EcosystemPyPI}, "pkg:pypi/torch@2.1.0%2Bcu121", "pypi", "", "torch", "2.1.0+cu121"},
		{"pypi epoch", Package{Name: "foo", Version: "1!2.0", Ecosystem: EcosystemPyPI}, "pkg:pypi/foo@1%212.0", "pypi", "", "foo", "1!2.0"},
		{"pypi unpinned", Package{Name: "numpy", Ecosystem: EcosystemPyPI}, "pkg:pypi/numpy", "pypi", "", "numpy", ""},
		{"go", Package{Name: "github.com/spf13/cobra", Version: "1.8.0", Ecosystem: EcosystemGo}, "pkg:golang/github.com/spf13/cobra@v1.8.0", "golang", "github.com/spf13", "cobra", "v1.8.0"},
		{"go v kept", Package{Name: "golang.org/x/net", Version: "v0.20.0", Ecosystem: EcosystemGo}, "pkg:golang/golang.org/x/net@v0.20.0", "golang", "golang.org/x", "net", "v0.20.0"},
		{"go lower-cased", Package{Name: "github.com/Azure/go-autorest", Version: "14.2.0+incompatible", Ecosystem: EcosystemGo}, "pkg:golang/github.com/azure/go-autorest@v14.2.0%2Bincompatible", "golang", "github.com/azure", "go-autorest", "v14.2.0+incompatible"},
		{"go pseudo-version", Package{Name: "example.com/m", Version: "0.0.0-20240101000000-abcdefabcdef", Ecosystem: EcosystemGo}, "pkg:golang/example.com/m@v0.0.0-20240101000000-abcdefabcdef", "golang", "example.com", "m", "v0.0.0-20240101000000-abcdefabcdef"},
		{"go stdlib", Package{Name: "stdlib", Version: "1.22.1", Ecosystem: EcosystemGo}, "pkg:golang/stdlib@v1.22.1", "golang", "", "stdlib", "v1.22.1"},
		{"npm", Package{Name: "lodash", Version: "4.17.21", Ecosystem: EcosystemNPM}, "pkg:npm/lodash@4.17.21", "npm", "", "lodash", "4.17.21"},
		{"npm scope", Package{Name: "@babel/core", Version: "7.23.0", Ecosystem: EcosystemNPM}, "pkg:npm/%40babel/core@7.23.0", "npm", "@babel", "core", "7.23.0"},
		{"npm prerelease", Package{Name: "@types/node", Version: "20.0.0-beta.1", Ecosystem: EcosystemNPM}, "pkg:npm/%40types/node@20.0.0-beta.1", "npm", "@types", "node", "20.0.0-beta.1"},
		{"conda", Package{Name: "PyTorch", Version: "2.1.0", Ecosystem: EcosystemConda}, "pkg:conda/pytorch@2.1.0", "conda", "", "pytorch", "2.1.0"},
		{"odd characters escaped", Package{Name: "a b/c", Version: "1 0", Ecosystem: EcosystemNPM}, "pkg:npm/a%20b%2Fc@1%200", "npm", "", "a b/c", "1 0"},
		{"unknown ecosystem", Package{Name: "x", Version: "1", Ecosystem: "Maven"}, "", "", "", "", ""},
		{"no name", Package{Version: "1", Ecosystem: EcosystemPyPI}, "", "", "", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := PURL(tt.in)
			if got != tt.want {
				t.Fatalf("PURL(%+v) = %q, want %q", tt.in, got, tt.want)
			}
			if got == "" {
				return
			}
			p, err := packageurl.FromString(got)
			if err != nil {
				t.Fatalf("purl parser rejects %q: %v", got, err)
			}
			if p.Type != tt.typ || p.Namespace != tt.ns || p.Name != tt.pname || p.Version != tt.version {
				t.Errorf("parsed %q as %s / %s / %s @ %s, want %s / %s / %s @ %s",
					got, p.Type, p.Namespace, p.Name, p.Version, tt.typ, tt.ns, tt.pname, tt.version)
			}
		})
	}
}

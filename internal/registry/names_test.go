package registry

import (
	"strings"
	"testing"
)

const (
	d256 = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
	d512 = "sha512:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef" +
		"0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
)

func TestRoute(t *testing.T) {
	t.Parallel()
	tests := []struct {
		path            string
		rt, name, arg   string
		ok              bool
		wantNameInvalid bool // routed, but the name does not parse
	}{
		{path: "/v2/", rt: RouteBase, ok: true},
		{path: "/v2", ok: false},
		{path: "/v1/a/b/tags/list", ok: false},
		{path: "", ok: false},

		// Names of 2 to 5 components on every route.
		{path: "/v2/a/b/manifests/latest", rt: RouteManifest, name: "a/b", arg: "latest", ok: true},
		{path: "/v2/a/b/c/manifests/" + d256, rt: RouteManifest, name: "a/b/c", arg: d256, ok: true},
		{path: "/v2/a/b/c/d/blobs/" + d512, rt: RouteBlob, name: "a/b/c/d", arg: d512, ok: true},
		{path: "/v2/a/b/c/d/e/blobs/uploads/", rt: RouteUploads, name: "a/b/c/d/e", ok: true},
		{path: "/v2/a/b/blobs/uploads/", rt: RouteUploads, name: "a/b", ok: true},
		{path: "/v2/a/b/c/blobs/uploads/0123abcd", rt: RouteUpload, name: "a/b/c", arg: "0123abcd", ok: true},
		{path: "/v2/a/b/tags/list", rt: RouteTags, name: "a/b", ok: true},
		{path: "/v2/a/b/c/d/e/tags/list", rt: RouteTags, name: "a/b/c/d/e", ok: true},
		{path: "/v2/a/b/referrers/" + d256, rt: RouteReferrers, name: "a/b", arg: d256, ok: true},
		{path: "/v2/a/b/c/d/referrers/" + d256, rt: RouteReferrers, name: "a/b/c/d", arg: d256, ok: true},

		// One component routes, and the name check refuses it.
		{path: "/v2/a/manifests/latest", rt: RouteManifest, name: "a", arg: "latest", ok: true, wantNameInvalid: true},
		{path: "/v2/a/blobs/uploads/", rt: RouteUploads, name: "a", ok: true, wantNameInvalid: true},
		{path: "/v2/a/tags/list", rt: RouteTags, name: "a", ok: true, wantNameInvalid: true},

		// Route words as components of the name.
		{path: "/v2/a/blobs/blobs/" + d256, rt: RouteBlob, name: "a/blobs", arg: d256, ok: true},
		{path: "/v2/a/manifests/manifests/v1", rt: RouteManifest, name: "a/manifests", arg: "v1", ok: true},
		{path: "/v2/a/uploads/blobs/uploads/", rt: RouteUploads, name: "a/uploads", ok: true},
		{path: "/v2/a/blobs/blobs/uploads/", rt: RouteUploads, name: "a/blobs", ok: true},
		{path: "/v2/a/blobs/uploads/blobs/uploads/x1", rt: RouteUpload, name: "a/blobs/uploads", arg: "x1", ok: true},
		{path: "/v2/a/blobs/uploads/manifests/latest", rt: RouteManifest, name: "a/blobs/uploads", arg: "latest", ok: true},
		{path: "/v2/a/manifests/blobs/" + d256, rt: RouteBlob, name: "a/manifests", arg: d256, ok: true},
		{path: "/v2/a/tags/tags/list", rt: RouteTags, name: "a/tags", ok: true},
		{path: "/v2/a/b/manifests/tags/list", rt: RouteTags, name: "a/b/manifests", ok: true},
		{path: "/v2/a/referrers/manifests/list", rt: RouteManifest, name: "a/referrers", arg: "list", ok: true},
		{path: "/v2/a/b/tags/manifests/list", rt: RouteManifest, name: "a/b/tags", arg: "list", ok: true},

		// Trailing slashes and empty arguments.
		{path: "/v2/a/b/manifests/", rt: RouteManifest, name: "a/b", arg: "", ok: true},
		{path: "/v2/a/b/blobs/", rt: RouteBlob, name: "a/b", arg: "", ok: true},
		{path: "/v2/a/b/blobs/uploads", rt: RouteBlob, name: "a/b", arg: "uploads", ok: true},
		{path: "/v2/a/b/tags/list/", ok: false},
		{path: "/v2/a/b/manifests/latest/", ok: false},
		{path: "/v2/a/b/blobs/" + d256 + "/", ok: false},
		{path: "/v2/a/b/referrers/", rt: RouteReferrers, name: "a/b", arg: "", ok: true},
		{path: "/v2//blobs/uploads/", rt: RouteUploads, name: "", ok: true, wantNameInvalid: true},

		// Unmatched.
		{path: "/v2/a/b", ok: false},
		{path: "/v2/a/b/", ok: false},
		{path: "/v2/_catalog", ok: false},
		{path: "/v2/a/b/tags", ok: false},
		{path: "/v2/a/b/list", ok: false},
		{path: "/v2/manifests/latest", ok: false},
		{path: "/v2/tags/list", ok: false},
		{path: "/v2/a/b/unknown/x", ok: false},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			rt, name, arg, ok := route(tt.path)
			if rt != tt.rt || name != tt.name || arg != tt.arg || ok != tt.ok {
				t.Errorf("route(%q) = %q, %q, %q, %v; want %q, %q, %q, %v",
					tt.path, rt, name, arg, ok, tt.rt, tt.name, tt.arg, tt.ok)
			}
			if !ok || rt == RouteBase {
				return
			}
			if _, valid := parseName(name); valid == tt.wantNameInvalid {
				t.Errorf("parseName(%q) valid = %v, want %v", name, valid, !tt.wantNameInvalid)
			}
		})
	}
}

func TestParseName(t *testing.T) {
	t.Parallel()
	comp := func(n int) string { return strings.Repeat("a", n) }
	tests := []struct {
		name          string
		in            string
		ok            bool
		project, repo string
	}{
		{"two components", "proj/model", true, "proj", "model"},
		{"five components", "p/a/b/c/d", true, "p", "a/b/c/d"},
		{"separators", "p.1/a_b/c__d/e-f/g--h", true, "p.1", "a_b/c__d/e-f/g--h"},
		{"digits", "0/1", true, "0", "1"},
		{"one component", "proj", false, "", ""},
		{"empty", "", false, "", ""},
		{"empty component", "p//x", false, "", ""},
		{"leading slash", "/p/x", false, "", ""},
		{"trailing slash", "p/x/", false, "", ""},
		{"upper case", "p/Model", false, "", ""},
		{"upper case project", "P/model", false, "", ""},
		{"triple underscore", "p/a___b", false, "", ""},
		{"leading separator", "p/-a", false, "", ""},
		{"trailing separator", "p/a.", false, "", ""},
		{"double dot", "p/a..b", false, "", ""},
		{"dot dot component", "p/..", false, "", ""},
		{"space", "p/a b", false, "", ""},
		{"colon", "p/a:b", false, "", ""},
		{"unicode", "p/é", false, "", ""},
		{"exactly 255 bytes", "p/" + comp(253), true, "p", comp(253)},
		{"256 bytes", "p/" + comp(254), false, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n, ok := parseName(tt.in)
			if ok != tt.ok {
				t.Fatalf("parseName(%q) ok = %v, want %v", tt.in, ok, tt.ok)
			}
			if !ok {
				return
			}
			if n.full != tt.in || n.project != tt.project || n.repo != tt.repo {
				t.Errorf("parseName(%q) = %+v, want project %q repo %q", tt.in, n, tt.project, tt.repo)
			}
		})
	}
}

func TestValidTag(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in string
		ok bool
	}{
		{"latest", true},
		{"v1.2.3", true},
		{"V1_RC-2", true},
		{"_private", true},
		{"0", true},
		{strings.Repeat("a", 128), true},
		{strings.Repeat("a", 129), false},
		{"", false},
		{".hidden", false},
		{"-dash", false},
		{"a/b", false},
		{"a:b", false},
		{"a+b", false},
		{"tag\n", false},
		{d256, false},
	}
	for _, tt := range tests {
		if got := validTag(tt.in); got != tt.ok {
			t.Errorf("validTag(%q) = %v, want %v", tt.in, got, tt.ok)
		}
	}
}

func TestValidDigest(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in string
		ok bool
	}{
		{d256, true},
		{d512, true},
		{"sha256:" + strings.Repeat("a", 63), false},
		{"sha256:" + strings.Repeat("a", 65), false},
		{"sha512:" + strings.Repeat("a", 64), false},
		{"sha256:" + strings.Repeat("A", 64), false},
		{"SHA256:" + strings.Repeat("a", 64), false},
		{"sha256:" + strings.Repeat("g", 64), false},
		{"sha384:" + strings.Repeat("a", 96), false},
		{"md5:" + strings.Repeat("a", 32), false},
		{strings.Repeat("a", 64), false},
		{"sha256-" + strings.Repeat("a", 64), false},
		{d256 + "\n", false},
		{"", false},
	}
	for _, tt := range tests {
		if got := validDigest(tt.in); got != tt.ok {
			t.Errorf("validDigest(%q) = %v, want %v", tt.in, got, tt.ok)
		}
	}
}

func TestValidProjectName(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]bool{
		"a": true, "team-1": true, "a.b_c": true,
		"": false, "a/b": false, "A": false, "-a": false,
		strings.Repeat("p", 64): true, strings.Repeat("p", 65): false,
	} {
		if got := ValidProjectName(in); got != want {
			t.Errorf("ValidProjectName(%q) = %v, want %v", in, got, want)
		}
	}
}

// FuzzRoute checks that route and parseName never panic, that a routed
// path is exactly its route's template filled with the name and argument,
// and that a parsed name obeys the grammar.
func FuzzRoute(f *testing.F) {
	for _, s := range []string{
		"/v2/", "/v2/a/b/manifests/latest", "/v2/a/b/blobs/" + d256, "/v2/a/b/blobs/uploads/",
		"/v2/a/b/blobs/uploads/0123", "/v2/a/b/tags/list", "/v2/a/b/referrers/" + d256,
		"/v2/a/blobs/uploads/blobs/uploads/x", "/v2//tags/list", "/v2/a/b/tags/list/",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, path string) {
		rt, name, arg, ok := route(path)
		if !ok {
			if rt != "" || name != "" || arg != "" {
				t.Fatalf("route(%q) not ok but returned %q, %q, %q", path, rt, name, arg)
			}
		} else {
			var rebuilt string
			switch rt {
			case RouteBase:
				rebuilt = "/v2/"
			case RouteManifest:
				rebuilt = "/v2/" + name + "/manifests/" + arg
			case RouteBlob:
				rebuilt = "/v2/" + name + "/blobs/" + arg
			case RouteUploads:
				rebuilt = "/v2/" + name + "/blobs/uploads/"
			case RouteUpload:
				rebuilt = "/v2/" + name + "/blobs/uploads/" + arg
			case RouteTags:
				rebuilt = "/v2/" + name + "/tags/list"
			case RouteReferrers:
				rebuilt = "/v2/" + name + "/referrers/" + arg
			default:
				t.Fatalf("route(%q) returned unknown route %q", path, rt)
			}
			if rebuilt != path {
				t.Fatalf("route(%q) = %q, %q, %q, which rebuilds %q", path, rt, name, arg, rebuilt)
			}
			if strings.Contains(arg, "/") {
				t.Fatalf("route(%q) argument %q holds a slash", path, arg)
			}
			if _, found := Routes()[rt]; !found {
				t.Fatalf("route %q has no methods", rt)
			}
		}
		for _, s := range []string{name, strings.TrimPrefix(path, "/v2/")} {
			n, valid := parseName(s)
			if !valid {
				continue
			}
			if len(s) > maxNameLen || n.full != s || n.project+"/"+n.repo != s || n.repo == "" {
				t.Fatalf("parseName(%q) = %+v", s, n)
			}
			for _, c := range strings.Split(s, "/") {
				if !nameComponent.MatchString(c) {
					t.Fatalf("parseName(%q) accepted component %q", s, c)
				}
			}
			if !ValidProjectName(n.project) {
				t.Fatalf("parseName(%q) project %q is not a valid project name", s, n.project)
			}
		}
	})
}

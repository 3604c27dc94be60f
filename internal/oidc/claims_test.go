package oidc

import (
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestParseClaims(t *testing.T) {
	t.Parallel()
	long := func(n int) string { return strings.Repeat("x", n) }
	groupsOf := func(n int) string { return `["` + strings.Repeat(`g","`, n-1) + `g"]` }
	tests := []struct {
		name    string
		raw     string
		groups  string // groups claim name; "" means "groups"
		want    claimSet
		wantErr bool
	}{
		{name: "subject only", raw: `{"sub":"s"}`, want: claimSet{Subject: "s"}},
		{
			name: "everything",
			raw:  `{"sub":"s","email":"e@example.com","email_verified":true,"name":"N","preferred_username":"u","azp":"c","groups":["b","a","b"]}`,
			want: claimSet{Subject: "s", Email: "e@example.com", EmailVerified: true, Name: "N", Username: "u", AuthorizedParty: "c", Groups: []string{"a", "b"}, hasGroups: true},
		},
		{name: "nulls are absent", raw: `{"sub":"s","email":null,"email_verified":null,"name":null,"groups":null}`, want: claimSet{Subject: "s"}},
		{name: "email_verified as string", raw: `{"sub":"s","email_verified":"true"}`, want: claimSet{Subject: "s", EmailVerified: true}},
		{name: "email_verified false string", raw: `{"sub":"s","email_verified":"false"}`, want: claimSet{Subject: "s"}},
		{name: "single group string", raw: `{"sub":"s","groups":"admins"}`, want: claimSet{Subject: "s", Groups: []string{"admins"}, hasGroups: true}},
		{name: "empty groups", raw: `{"sub":"s","groups":[]}`, want: claimSet{Subject: "s", Groups: []string{}, hasGroups: true}},
		{name: "custom groups claim", raw: `{"sub":"s","roles":["r"],"groups":["g"]}`, groups: "roles", want: claimSet{Subject: "s", Groups: []string{"r"}, hasGroups: true}},
		{name: "unicode", raw: `{"sub":"s","name":"Zoë Ångström 名前"}`, want: claimSet{Subject: "s", Name: "Zoë Ångström 名前"}},
		{name: "256 groups", raw: `{"sub":"s","groups":` + groupsOf(256) + `}`, want: claimSet{Subject: "s", Groups: []string{"g"}, hasGroups: true}},
		{name: "255-byte subject", raw: `{"sub":"` + long(255) + `"}`, want: claimSet{Subject: long(255)}},
		{name: "256-byte group", raw: `{"sub":"s","groups":["` + long(256) + `"]}`, want: claimSet{Subject: "s", Groups: []string{long(256)}, hasGroups: true}},

		{name: "no subject", raw: `{"email":"e@example.com"}`, wantErr: true},
		{name: "empty subject", raw: `{"sub":""}`, wantErr: true},
		{name: "numeric subject", raw: `{"sub":42}`, wantErr: true},
		{name: "256-byte subject", raw: `{"sub":"` + long(256) + `"}`, wantErr: true},
		{name: "long name", raw: `{"sub":"s","name":"` + long(513) + `"}`, wantErr: true},
		{name: "email not a string", raw: `{"sub":"s","email":["a"]}`, wantErr: true},
		{name: "email_verified other string", raw: `{"sub":"s","email_verified":"yes"}`, wantErr: true},
		{name: "email_verified number", raw: `{"sub":"s","email_verified":1}`, wantErr: true},
		{name: "257 groups", raw: `{"sub":"s","groups":` + groupsOf(257) + `}`, wantErr: true},
		{name: "257-byte group", raw: `{"sub":"s","groups":["` + long(257) + `"]}`, wantErr: true},
		{name: "empty group", raw: `{"sub":"s","groups":[""]}`, wantErr: true},
		{name: "group not a string", raw: `{"sub":"s","groups":["a",1]}`, wantErr: true},
		{name: "null group", raw: `{"sub":"s","groups":["a",null]}`, wantErr: true},
		{name: "groups object", raw: `{"sub":"s","groups":{"a":true}}`, wantErr: true},
		{name: "control character", raw: `{"sub":"s\u0000"}`, wantErr: true},
		{name: "newline in group", raw: `{"sub":"s","groups":["a\nb"]}`, wantErr: true},
		// encoding/json replaces invalid UTF-8 with U+FFFD.
		{name: "invalid UTF-8", raw: "{\"sub\":\"s\",\"name\":\"\xff\"}", want: claimSet{Subject: "s", Name: "\ufffd"}},
		{name: "not an object", raw: `["sub"]`, wantErr: true},
		{name: "null", raw: `null`, wantErr: true},
		{name: "truncated", raw: `{"sub":"s"`, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			groups := tt.groups
			if groups == "" {
				groups = DefaultGroupsClaim
			}
			got, err := parseClaims([]byte(tt.raw), groups)
			if tt.wantErr {
				if err == nil {
					t.Fatalf("parseClaims(%.80s) = %+v, want an error", tt.raw, got)
				}
				return
			}
			if err != nil {
				t.Fatalf("parseClaims(%.80s): %v", tt.raw, err)
			}
			if diff := cmp.Diff(got, tt.want, cmp.AllowUnexported(claimSet{})); diff != "" {
				t.Errorf("parseClaims(%.80s) (-got +want):\n%s", tt.raw, diff)
			}
		})
	}
}

func TestCheckURL(t *testing.T) {
	t.Parallel()
	tests := []struct {
		url string
		ok  bool
	}{
		{"https://idp.example.com", true},
		{"https://idp.example.com/realms/x/", true},
		{"http://localhost:8080/", true},
		{"http://LOCALHOST/", true},
		{"http://127.0.0.1:9998/", true},
		{"http://127.1.2.3/", true},
		{"http://[::1]:80/", true},
		{"http://idp.example.com/", false},
		{"http://localhost.example.com/", false},
		{"http://10.0.0.1/", false},
		{"https://user:pw@idp.example.com/", false},
		{"https://idp.example.com/#x", false},
		{"https://idp.example.com/#", false},
		{"ftp://idp.example.com/", false},
		{"javascript:alert(1)", false},
		{"/relative", false},
		{"", false},
		{"https://%zz", false},
	}
	for _, tt := range tests {
		if err := checkURL(tt.url); (err == nil) != tt.ok {
			t.Errorf("checkURL(%q) = %v, want ok %v", tt.url, err, tt.ok)
		}
	}
}

func TestLimitedBody(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		size    int
		limit   int64
		wantErr bool
	}{
		{"under", 10, 11, false},
		{"at the limit", 11, 11, false},
		{"over", 12, 11, true},
		{"far over", 1 << 16, 11, true},
		{"empty", 0, 11, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := &limitedBody{rc: io.NopCloser(strings.NewReader(strings.Repeat("a", tt.size))), left: tt.limit, limit: tt.limit}
			got, err := io.ReadAll(b)
			if (err != nil) != tt.wantErr {
				t.Fatalf("ReadAll = %d bytes, %v; want error %v", len(got), err, tt.wantErr)
			}
			if int64(len(got)) > tt.limit {
				t.Errorf("ReadAll read %d bytes, more than the limit %d", len(got), tt.limit)
			}
			if !tt.wantErr && len(got) != tt.size {
				t.Errorf("ReadAll read %d bytes, want %d", len(got), tt.size)
			}
		})
	}
}

func TestShorten(t *testing.T) {
	t.Parallel()
	base := errors.New(strings.Repeat("é", 400))
	err := shorten(base)
	if len(err.Error()) > maxErrorText+3 || !errors.Is(err, base) {
		t.Errorf("shorten: %d bytes, Is(base) = %v", len(err.Error()), errors.Is(err, base))
	}
	if short := errors.New("short"); shorten(short) != short {
		t.Error("shorten changed a short error")
	}
}

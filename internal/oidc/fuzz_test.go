package oidc

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"
)

// FuzzParseClaims feeds parseClaims arbitrary JSON, as a hostile provider
// (or a forged token that somehow verified) could. Seeds: the example
// provider's real ID token and UserInfo claims in testdata/, plus the
// corpus in testdata/fuzz/FuzzParseClaims.
func FuzzParseClaims(f *testing.F) {
	seeds, err := filepath.Glob(filepath.Join("testdata", "*.json"))
	if err != nil {
		f.Fatal(err)
	}
	for _, s := range seeds {
		b, err := os.ReadFile(s)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b, "groups")
		f.Add(b, "amr")
	}
	f.Add([]byte(`{"sub":"s","groups":"g","email_verified":"true"}`), "groups")
	f.Add([]byte(`{"sub":"s","groups":[1,"a"]}`), "groups")
	f.Fuzz(func(t *testing.T, raw []byte, groupsClaim string) {
		c, err := parseClaims(raw, groupsClaim)
		if err != nil {
			return
		}
		if c.Subject == "" || len(c.Subject) > maxSubjectBytes {
			t.Errorf("subject of %d bytes accepted", len(c.Subject))
		}
		for _, s := range []string{c.Subject, c.Email, c.Name, c.Username, c.AuthorizedParty} {
			checkClean(t, s, maxClaimBytes)
		}
		if len(c.Groups) > MaxGroups {
			t.Errorf("%d groups accepted", len(c.Groups))
		}
		if !slices.IsSorted(c.Groups) || len(slices.Compact(slices.Clone(c.Groups))) != len(c.Groups) {
			t.Errorf("groups %q not sorted and unique", c.Groups)
		}
		for _, g := range c.Groups {
			if g == "" {
				t.Error("empty group accepted")
			}
			checkClean(t, g, MaxGroupBytes)
		}
		if c.Groups != nil && !c.hasGroups {
			t.Error("groups without the groups claim")
		}
	})
}

func checkClean(t *testing.T, s string, limit int) {
	t.Helper()
	if len(s) > limit || !utf8.ValidString(s) || strings.ContainsFunc(s, unicode.IsControl) {
		t.Errorf("claim %.60q accepted", s)
	}
}

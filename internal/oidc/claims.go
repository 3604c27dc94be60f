package oidc

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Limits on the claims taken from an ID token or UserInfo response.
const (
	// MaxGroups is the most groups an identity may have.
	MaxGroups = 256
	// MaxGroupBytes is the longest group name, in bytes.
	MaxGroupBytes = 256
	// maxSubjectBytes is OpenID Connect Core's limit on sub (section 2).
	maxSubjectBytes = 255
	// maxClaimBytes bounds the other string claims (e-mail, names).
	maxClaimBytes = 512
)

// claimSet is what Palisade reads from one set of claims.
type claimSet struct {
	Subject         string
	Email           string
	EmailVerified   bool
	Name            string
	Username        string
	Groups          []string
	hasGroups       bool // the groups claim was present (possibly empty)
	AuthorizedParty string
}

// incomplete reports whether claims Palisade uses are missing, so that
// UserInfo may supply them.
func (c *claimSet) incomplete() bool {
	return c.Email == "" || c.Name == "" || c.Username == "" || !c.hasGroups
}

// fillFrom copies the claims c lacks from more (of the same subject).
// E-mail and its verification travel together.
func (c *claimSet) fillFrom(more claimSet) {
	if c.Email == "" {
		c.Email, c.EmailVerified = more.Email, more.EmailVerified
	}
	if c.Name == "" {
		c.Name = more.Name
	}
	if c.Username == "" {
		c.Username = more.Username
	}
	if !c.hasGroups {
		c.Groups, c.hasGroups = more.Groups, more.hasGroups
	}
}

// parseClaims extracts Palisade's claims from a JSON object of claims
// (an ID token payload or a UserInfo response), with the groups in the
// claim named groupsClaim. It refuses a missing subject and claims of the
// wrong type, with invalid UTF-8 or control characters, or over their
// limits; absent and null claims are empty.
func parseClaims(raw []byte, groupsClaim string) (claimSet, error) {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(raw, &m); err != nil {
		return claimSet{}, fmt.Errorf("decode claims: %w", err)
	}
	if m == nil {
		return claimSet{}, errors.New("claims are not a JSON object")
	}
	var c claimSet
	var err error
	if c.Subject, err = stringClaim(m, "sub", maxSubjectBytes); err != nil {
		return claimSet{}, err
	}
	if c.Subject == "" {
		return claimSet{}, errors.New("no subject (sub) claim")
	}
	if c.Email, err = stringClaim(m, "email", maxClaimBytes); err != nil {
		return claimSet{}, err
	}
	if c.EmailVerified, err = boolClaim(m, "email_verified"); err != nil {
		return claimSet{}, err
	}
	if c.Name, err = stringClaim(m, "name", maxClaimBytes); err != nil {
		return claimSet{}, err
	}
	if c.Username, err = stringClaim(m, "preferred_username", maxClaimBytes); err != nil {
		return claimSet{}, err
	}
	if c.AuthorizedParty, err = stringClaim(m, "azp", maxClaimBytes); err != nil {
		return claimSet{}, err
	}
	if c.Groups, c.hasGroups, err = groupsClaimValue(m, groupsClaim); err != nil {
		return claimSet{}, err
	}
	return c, nil
}

// stringClaim returns the string claim name, "" when absent or null.
func stringClaim(m map[string]json.RawMessage, name string, limit int) (string, error) {
	v, ok := m[name]
	if !ok || isNull(v) {
		return "", nil
	}
	var s string
	if err := json.Unmarshal(v, &s); err != nil {
		return "", fmt.Errorf("claim %q is not a string", name)
	}
	if err := checkString(s, limit); err != nil {
		return "", fmt.Errorf("claim %q: %w", name, err)
	}
	return s, nil
}

// boolClaim returns the boolean claim name, false when absent or null.
// Some providers send booleans as the strings "true" and "false".
func boolClaim(m map[string]json.RawMessage, name string) (bool, error) {
	v, ok := m[name]
	if !ok || isNull(v) {
		return false, nil
	}
	var b bool
	if err := json.Unmarshal(v, &b); err == nil {
		return b, nil
	}
	var s string
	if err := json.Unmarshal(v, &s); err == nil && (s == "true" || s == "false") {
		return s == "true", nil
	}
	return false, fmt.Errorf("claim %q is not a boolean", name)
}

// groupsClaimValue returns the groups in claim name, a JSON array of
// strings or a single string, sorted and without duplicates, and whether
// the claim was present at all.
func groupsClaimValue(m map[string]json.RawMessage, name string) ([]string, bool, error) {
	v, ok := m[name]
	if !ok || isNull(v) {
		return nil, false, nil
	}
	var groups []string
	var one string
	if err := json.Unmarshal(v, &one); err == nil {
		groups = []string{one}
	} else {
		// Count the elements before decoding them, so that a huge array
		// of tiny values is refused without building it.
		var elems []json.RawMessage
		if err := json.Unmarshal(v, &elems); err != nil {
			return nil, false, fmt.Errorf("groups claim %q is neither a string nor an array of strings", name)
		}
		if len(elems) > MaxGroups {
			return nil, false, fmt.Errorf("groups claim %q has %d groups, more than %d", name, len(elems), MaxGroups)
		}
		groups = make([]string, 0, len(elems))
		for _, e := range elems {
			var g string
			if err := json.Unmarshal(e, &g); err != nil {
				return nil, false, fmt.Errorf("groups claim %q is neither a string nor an array of strings", name)
			}
			groups = append(groups, g)
		}
	}
	for _, g := range groups {
		if g == "" {
			return nil, false, fmt.Errorf("groups claim %q has an empty group", name)
		}
		if err := checkString(g, MaxGroupBytes); err != nil {
			return nil, false, fmt.Errorf("groups claim %q: %w", name, err)
		}
	}
	slices.Sort(groups)
	return slices.Compact(groups), true, nil
}

// checkString refuses strings longer than limit bytes, invalid UTF-8 and
// control characters, which have no business in identifiers and names
// that end up in logs, databases and web pages.
func checkString(s string, limit int) error {
	if len(s) > limit {
		return fmt.Errorf("%d bytes, more than %d", len(s), limit)
	}
	if !utf8.ValidString(s) {
		return errors.New("invalid UTF-8")
	}
	if i := strings.IndexFunc(s, unicode.IsControl); i >= 0 {
		return fmt.Errorf("control character at byte %d", i)
	}
	return nil
}

func isNull(v json.RawMessage) bool { return bytes.Equal(bytes.TrimSpace(v), []byte("null")) }

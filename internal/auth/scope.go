package auth

import (
	"fmt"
	"slices"
	"strings"
)

// Action is what a request does to a repository.
type Action string

// The repository actions of the OCI token flow.
const (
	ActionPull   Action = "pull"
	ActionPush   Action = "push"
	ActionDelete Action = "delete"
)

// maxScopes bounds the scopes of one token request.
const maxScopes = 32

// Scope grants actions on one repository ("PROJECT/NAME"). The registry
// token flow writes it "repository:NAME:ACTION[,ACTION...]".
type Scope struct {
	Repository string
	Actions    []Action
}

// String returns the scope in the token flow's syntax.
func (s Scope) String() string {
	acts := make([]string, len(s.Actions))
	for i, a := range s.Actions {
		acts[i] = string(a)
	}
	return "repository:" + s.Repository + ":" + strings.Join(acts, ",")
}

// has reports whether the scope grants a on repo.
func (s Scope) has(repo string, a Action) bool {
	return s.Repository == repo && slices.Contains(s.Actions, a)
}

// ParseScope parses one "repository:NAME:ACTIONS" scope. Unknown actions
// are dropped ("*" means every action) and so are scopes of other resource
// types (registry:catalog:*), which yield ok == false and no error.
func ParseScope(s string) (sc Scope, ok bool, err error) {
	typ, rest, found := strings.Cut(s, ":")
	if !found {
		return Scope{}, false, fmt.Errorf("scope %.80q: want TYPE:NAME:ACTIONS", s)
	}
	i := strings.LastIndexByte(rest, ':')
	if i < 0 {
		return Scope{}, false, fmt.Errorf("scope %.80q: want TYPE:NAME:ACTIONS", s)
	}
	if typ != "repository" {
		return Scope{}, false, nil
	}
	name, acts := rest[:i], rest[i+1:]
	if name == "" {
		return Scope{}, false, fmt.Errorf("scope %.80q: empty repository name", s)
	}
	// Granted scopes are stored one per line (encodeScopes): a name with a
	// line break would read back as other scopes.
	if strings.ContainsFunc(name, func(r rune) bool { return r < 0x20 || r == 0x7f }) {
		return Scope{}, false, fmt.Errorf("scope %.80q: control character in repository name", s)
	}
	sc.Repository = name
	for _, a := range strings.Split(acts, ",") {
		switch Action(a) {
		case ActionPull, ActionPush, ActionDelete:
			sc.Actions = appendUnique(sc.Actions, Action(a))
		case "*":
			for _, all := range []Action{ActionPull, ActionPush, ActionDelete} {
				sc.Actions = appendUnique(sc.Actions, all)
			}
		}
	}
	return sc, true, nil
}

func appendUnique(as []Action, a Action) []Action {
	if slices.Contains(as, a) {
		return as
	}
	return append(as, a)
}

// encodeScopes writes granted scopes for the store: one per line.
func encodeScopes(scopes []Scope) string {
	lines := make([]string, 0, len(scopes))
	for _, s := range scopes {
		if len(s.Actions) > 0 {
			lines = append(lines, s.String())
		}
	}
	return strings.Join(lines, "\n")
}

// decodeScopes reads what encodeScopes wrote.
func decodeScopes(s string) ([]Scope, error) {
	if s == "" {
		return nil, nil
	}
	var out []Scope
	for _, line := range strings.Split(s, "\n") {
		sc, ok, err := ParseScope(line)
		if err != nil {
			return nil, err
		}
		if ok {
			out = append(out, sc)
		}
	}
	return out, nil
}

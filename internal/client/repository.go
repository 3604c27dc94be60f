package client

import (
	"fmt"
	"net/http"
	"strings"

	"oras.land/oras-go/v2/registry"
	"oras.land/oras-go/v2/registry/remote"
	"oras.land/oras-go/v2/registry/remote/auth"
	"oras.land/oras-go/v2/registry/remote/retry"
)

// Reference is a parsed artifact reference HOST:PORT/PROJECT/NAME[:TAG|@DIGEST].
type Reference struct {
	registry.Reference
}

// Project returns the reference's project (the first component of its
// repository name).
func (r Reference) Project() string {
	p, _, _ := strings.Cut(r.Repository, "/")
	return p
}

// Name returns the repository name within the project.
func (r Reference) Name() string {
	_, n, _ := strings.Cut(r.Repository, "/")
	return n
}

// ParseReference parses HOST:PORT/PROJECT/NAME[:TAG|@DIGEST]; the
// repository must have a project and a name.
func ParseReference(s string) (Reference, error) {
	r, err := registry.ParseReference(s)
	if err != nil {
		return Reference{}, fmt.Errorf("reference %q: %w (want HOST:PORT/PROJECT/NAME:TAG)", s, err)
	}
	if !strings.Contains(r.Repository, "/") {
		return Reference{}, fmt.Errorf("reference %q: the repository needs a project and a name (HOST:PORT/PROJECT/NAME:TAG)", s)
	}
	return Reference{r}, nil
}

// Repository returns an oras-go handle on the reference's repository that
// authenticates with token through the registry's token flow.
func Repository(ref Reference, t Target, token string) (*remote.Repository, error) {
	repo, err := remote.NewRepository(ref.Registry + "/" + ref.Repository)
	if err != nil {
		return nil, fmt.Errorf("repository %s: %w", ref.Repository, err)
	}
	repo.PlainHTTP = t.PlainHTTP
	cred := auth.Credential{Username: "palisade", Password: token}
	repo.Client = &auth.Client{
		// No overall timeout: pushes of large models take as long as they take.
		Client:     &http.Client{Transport: retry.NewTransport(http.DefaultTransport)},
		Cache:      auth.NewCache(),
		Credential: auth.StaticCredential(ref.Registry, cred),
		Header:     http.Header{"User-Agent": {"palisade"}},
	}
	return repo, nil
}

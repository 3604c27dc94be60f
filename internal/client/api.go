package client

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"time"

	"github.com/palisade-sec/palisade/internal/api"
	"github.com/palisade-sec/palisade/internal/maintenance"
	"github.com/palisade-sec/palisade/internal/projectkeys"
)

// maxResponse bounds an API response read into memory.
const maxResponse = 32 << 20

// Client calls the native API of one server.
type Client struct {
	t     Target
	token string
	http  *http.Client
}

// New returns a client of t that authenticates with token.
func New(t Target, token string) *Client {
	return &Client{t: t, token: token, http: &http.Client{Timeout: 2 * time.Minute}}
}

// APIError is an error answer of the API.
type APIError struct {
	Status  int
	Code    string
	Message string
}

func (e *APIError) Error() string {
	return fmt.Sprintf("server answered %d %s: %s", e.Status, e.Code, e.Message)
}

// do sends a request and decodes the JSON answer into out.
func (c *Client) do(ctx context.Context, method, path string, query url.Values, in, out any) error {
	u := *c.t.Base
	u.Path = path
	u.RawQuery = query.Encode()
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return err
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, u.String(), body)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+c.token)
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return fmt.Errorf("%s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxResponse))
	if err != nil {
		return fmt.Errorf("%s %s: read the answer: %w", method, path, err)
	}
	if resp.StatusCode >= 300 {
		var e struct {
			Error struct{ Code, Message string }
		}
		if json.Unmarshal(b, &e) != nil || e.Error.Message == "" {
			e.Error.Code, e.Error.Message = http.StatusText(resp.StatusCode), "the server gave no explanation"
		}
		return &APIError{Status: resp.StatusCode, Code: e.Error.Code, Message: e.Error.Message}
	}
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			return fmt.Errorf("%s %s: the answer is not the JSON expected: %w", method, path, err)
		}
	}
	return nil
}

// Whoami returns who the credentials authenticate as.
func (c *Client) Whoami(ctx context.Context) (api.Whoami, error) {
	var out api.Whoami
	err := c.do(ctx, "GET", "/api/v1/whoami", nil, nil, &out)
	return out, err
}

// CreateProject creates a project, with an owner when req names one.
func (c *Client) CreateProject(ctx context.Context, req api.CreateProjectRequest) (api.Project, error) {
	var p api.Project
	err := c.do(ctx, "POST", "/api/v1/projects", nil, req, &p)
	return p, err
}

// Projects lists projects.
func (c *Client) Projects(ctx context.Context) ([]api.Project, error) {
	var out struct{ Items []api.Project }
	err := c.do(ctx, "GET", "/api/v1/projects", nil, nil, &out)
	return out.Items, err
}

// Artifacts lists every artifact of a project that matches query (the
// listArtifacts parameters), following pages.
func (c *Client) Artifacts(ctx context.Context, project string, query url.Values) ([]api.Artifact, error) {
	if project == "" {
		return nil, errors.New("no project given")
	}
	var all []api.Artifact
	q := url.Values{}
	for k, v := range query {
		q[k] = v
	}
	q.Set("n", "1000")
	for {
		var out struct {
			Items []api.Artifact
			Next  string
		}
		if err := c.do(ctx, "GET", "/api/v1/projects/"+url.PathEscape(project)+"/artifacts", q, nil, &out); err != nil {
			return nil, err
		}
		all = append(all, out.Items...)
		if out.Next == "" {
			return all, nil
		}
		q.Set("last", out.Next)
	}
}

// Artifact returns the detail of an artifact, named by digest or tag.
func (c *Client) Artifact(ctx context.Context, project, repo, reference string) (api.ArtifactDetail, error) {
	var d api.ArtifactDetail
	err := c.do(ctx, "GET", "/api/v1/projects/"+url.PathEscape(project)+"/artifacts/"+url.PathEscape(reference),
		url.Values{"repository": {repo}}, nil, &d)
	return d, err
}

// PatchArtifact changes an artifact's metadata (its classification,
// with a reason when lowering it) and returns the artifact as changed.
// The artifact is named by digest or tag.
func (c *Client) PatchArtifact(ctx context.Context, project, repo, reference string, patch api.MetadataPatch) (api.Artifact, error) {
	var a api.Artifact
	err := c.do(ctx, "PATCH", "/api/v1/projects/"+url.PathEscape(project)+"/artifacts/"+url.PathEscape(reference),
		url.Values{"repository": {repo}}, patch, &a)
	return a, err
}

// Tokens lists the caller's API tokens, or every token with all (an
// administrator's).
func (c *Client) Tokens(ctx context.Context, all bool) ([]api.Token, error) {
	var q url.Values
	if all {
		q = url.Values{"all": {"true"}}
	}
	var out struct{ Items []api.Token }
	err := c.do(ctx, "GET", "/api/v1/tokens", q, nil, &out)
	return out.Items, err
}

// CreateToken creates an API token; the answer holds its secret, which
// the server never shows again.
func (c *Client) CreateToken(ctx context.Context, req api.CreateTokenRequest) (api.CreatedToken, error) {
	var out api.CreatedToken
	err := c.do(ctx, "POST", "/api/v1/tokens", nil, req, &out)
	return out, err
}

// RevokeToken revokes an API token by ID.
func (c *Client) RevokeToken(ctx context.Context, id string) error {
	return c.do(ctx, "DELETE", "/api/v1/tokens/"+url.PathEscape(id), nil, nil, nil)
}

// Users lists the server's users and service accounts.
func (c *Client) Users(ctx context.Context) ([]api.User, error) {
	var out struct{ Items []api.User }
	err := c.do(ctx, "GET", "/api/v1/users", nil, nil, &out)
	return out.Items, err
}

// CreateUser creates a user or service account.
func (c *Client) CreateUser(ctx context.Context, req api.CreateUserRequest) (api.User, error) {
	var u api.User
	err := c.do(ctx, "POST", "/api/v1/users", nil, req, &u)
	return u, err
}

// User returns a user with its project roles.
func (c *Client) User(ctx context.Context, name string) (api.User, error) {
	var u api.User
	err := c.do(ctx, "GET", "/api/v1/users/"+url.PathEscape(name), nil, nil, &u)
	return u, err
}

// PatchUser changes the fields of a user that patch sets.
func (c *Client) PatchUser(ctx context.Context, name string, patch api.UserPatch) (api.User, error) {
	var u api.User
	err := c.do(ctx, "PATCH", "/api/v1/users/"+url.PathEscape(name), nil, patch, &u)
	return u, err
}

// Members lists a project's members with their roles.
func (c *Client) Members(ctx context.Context, project string) ([]api.Member, error) {
	var out struct{ Items []api.Member }
	err := c.do(ctx, "GET", "/api/v1/projects/"+url.PathEscape(project)+"/members", nil, nil, &out)
	return out.Items, err
}

// SetMember gives a user a role in a project, replacing any role it had.
func (c *Client) SetMember(ctx context.Context, project, name, role string) (api.Member, error) {
	var m api.Member
	err := c.do(ctx, "PUT", "/api/v1/projects/"+url.PathEscape(project)+"/members/"+url.PathEscape(name), nil,
		api.SetMemberRequest{Role: role}, &m)
	return m, err
}

// RemoveMember removes a user's role in a project.
func (c *Client) RemoveMember(ctx context.Context, project, name string) error {
	return c.do(ctx, "DELETE", "/api/v1/projects/"+url.PathEscape(project)+"/members/"+url.PathEscape(name), nil, nil, nil)
}

// Usage returns a project's quota and what it holds.
func (c *Client) Usage(ctx context.Context, project string) (api.Usage, error) {
	var u api.Usage
	err := c.do(ctx, "GET", "/api/v1/projects/"+url.PathEscape(project)+"/usage", nil, nil, &u)
	return u, err
}

// SetQuota sets the quotas given in q (0 is unlimited; one left nil
// keeps its value) and returns the project's usage under the new quota.
func (c *Client) SetQuota(ctx context.Context, project string, q api.QuotaRequest) (api.Usage, error) {
	var u api.Usage
	err := c.do(ctx, "PUT", "/api/v1/projects/"+url.PathEscape(project)+"/quota", nil, q, &u)
	return u, err
}

// RotateKeys rotates the keys of one project, or of all when project is
// empty.
func (c *Client) RotateKeys(ctx context.Context, project string) ([]projectkeys.RotateReport, error) {
	var out struct {
		Rotated []projectkeys.RotateReport `json:"rotated"`
	}
	err := c.do(ctx, "POST", "/api/v1/admin/rotate-keys", nil, api.RotateRequest{Project: project}, &out)
	return out.Rotated, err
}

// RewrapMaster moves every project key under the server's current master
// key.
func (c *Client) RewrapMaster(ctx context.Context) (projectkeys.MasterReport, error) {
	var out struct {
		Master projectkeys.MasterReport `json:"master"`
	}
	err := c.do(ctx, "POST", "/api/v1/admin/rotate-keys", nil, api.RotateRequest{Master: true}, &out)
	return out.Master, err
}

// Shred crypto-shreds a project.
func (c *Client) Shred(ctx context.Context, project string) (api.ShredResponse, error) {
	var out api.ShredResponse
	err := c.do(ctx, "POST", "/api/v1/admin/projects/"+url.PathEscape(project)+"/shred", nil, api.ShredRequest{Confirm: project}, &out)
	return out, err
}

// Fsck checks the server's storage.
func (c *Client) Fsck(ctx context.Context) (maintenance.FsckReport, error) {
	var out maintenance.FsckReport
	err := c.do(ctx, "POST", "/api/v1/admin/fsck", nil, struct{}{}, &out)
	return out, err
}

// GC collects garbage on the server.
func (c *Client) GC(ctx context.Context, req api.GCRequest) (maintenance.GCReport, error) {
	var out maintenance.GCReport
	err := c.do(ctx, "POST", "/api/v1/admin/gc", nil, req, &out)
	return out, err
}

// StartDeviceLogin begins a single sign-on device login
// (palisade login --sso); it needs no token.
func (c *Client) StartDeviceLogin(ctx context.Context) (api.DeviceResponse, error) {
	var d api.DeviceResponse
	err := c.do(ctx, "POST", "/api/v1/auth/sso/device", nil, struct{}{}, &d)
	return d, err
}

// PollDeviceLogin waits (up to about one polling interval, on the
// server) for the device login of handle to be approved. Until it is, the
// error is an *APIError with Code "authorization_pending".
func (c *Client) PollDeviceLogin(ctx context.Context, handle string) (api.LoginResponse, error) {
	var l api.LoginResponse
	err := c.do(ctx, "POST", "/api/v1/auth/sso/device/token", nil, api.DevicePollRequest{Handle: handle}, &l)
	return l, err
}

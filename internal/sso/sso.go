package sso

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/palisade-sec/palisade/internal/access"
	"github.com/palisade-sec/palisade/internal/auth"
	"github.com/palisade-sec/palisade/internal/oidc"
	"github.com/palisade-sec/palisade/internal/store"
)

// Errors of the flows. The oidc package's ErrPending, ErrDenied,
// ErrExpired, ErrRejected and ErrInvalidToken pass through.
var (
	// ErrUnavailable means the provider could not be discovered.
	ErrUnavailable = errors.New("single sign-on provider unavailable")
	// ErrUnknownLogin means the handle names no login in progress: it
	// was used, it expired, or it never existed.
	ErrUnknownLogin = errors.New("no such login in progress")
	// ErrDisabled means the user exists and is disabled.
	ErrDisabled = errors.New("user disabled")
	// ErrUnrecorded means a change the login was about to make could not
	// be recorded (Options.Record failed): the login is refused and the
	// change not made.
	ErrUnrecorded = errors.New("the login's changes could not be recorded")
)

// Defaults.
const (
	DefaultTokenTTL = 12 * time.Hour
	// codeLoginTTL bounds how long a browser login may take.
	codeLoginTTL = 10 * time.Minute
	// maxPoll bounds one device poll (a long poll).
	maxPoll = 25 * time.Second
)

// Grant is a project role a group confers.
type Grant struct {
	Project string
	Role    access.Role
}

// Config configures single sign-on.
type Config struct {
	OIDC oidc.Config
	// DefaultClearance is a new user's clearance; internal when empty.
	DefaultClearance store.Classification
	// TokenTTL is the lifetime of the API token a login yields.
	TokenTTL time.Duration
	// AdminGroups, when not empty, are the groups whose members are
	// system administrators.
	AdminGroups []string
	// Groups maps a group to the project roles it confers.
	Groups map[string][]Grant
}

// Store is what single sign-on needs from the metadata store.
type Store interface {
	CreateSSORequest(ctx context.Context, r store.SSORequest) error
	SSORequest(ctx context.Context, hash [sha256.Size]byte, now time.Time) (store.SSORequest, error)
	DeleteSSORequest(ctx context.Context, hash [sha256.Size]byte) error
	PrincipalByOIDC(ctx context.Context, issuer, subject string) (store.Principal, error)
	PrincipalByName(ctx context.Context, name string) (store.Principal, error)
	CreatePrincipal(ctx context.Context, p store.Principal) (store.Principal, error)
	PatchPrincipal(ctx context.Context, id string, patch store.PrincipalPatch) error
	MembershipsOf(ctx context.Context, principalID string) ([]store.Member, error)
	SetMember(ctx context.Context, m store.Member) error
	RemoveMember(ctx context.Context, project, principalID string) error
	Project(ctx context.Context, name string) (store.Project, error)
	CreateToken(ctx context.Context, t store.Token) (store.Token, error)
}

// Service runs the flows. It is safe for concurrent use.
type Service struct {
	cfg    Config
	st     Store
	log    *slog.Logger
	now    func() time.Time
	rand   io.Reader
	record func(ctx context.Context, principalID string, c Change) error

	mu sync.Mutex
	p  *oidc.Provider
}

// Options are the service's collaborators.
type Options struct {
	Logger *slog.Logger
	Now    func() time.Time
	Rand   io.Reader
	// Record, when set, is told of each change a login is about to make
	// to its user (for the audit log), before it is made: when it fails
	// the login is refused with ErrUnrecorded and the change is not made.
	// A recorded change that is then not made is told again, NotMade set.
	Record func(ctx context.Context, principalID string, c Change) error
}

// New returns a Service; the provider is discovered on first use.
func New(cfg Config, st Store, opts Options) *Service {
	s := &Service{cfg: cfg, st: st, log: opts.Logger, now: opts.Now, rand: opts.Rand, record: opts.Record}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.rand == nil {
		s.rand = rand.Reader
	}
	if s.cfg.TokenTTL <= 0 {
		s.cfg.TokenTTL = DefaultTokenTTL
	}
	if s.cfg.DefaultClearance == "" {
		s.cfg.DefaultClearance = store.Internal
	}
	return s
}

// Issuer returns the configured issuer.
func (s *Service) Issuer() string { return s.cfg.OIDC.Issuer }

func (s *Service) provider(ctx context.Context) (*oidc.Provider, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.p != nil {
		return s.p, nil
	}
	p, err := oidc.New(ctx, s.cfg.OIDC)
	if err != nil {
		s.log.WarnContext(ctx, "single sign-on: discover the provider", slog.String("error", err.Error()))
		return nil, fmt.Errorf("%w: %v", ErrUnavailable, err)
	}
	s.p = p
	return p, nil
}

// DeviceSupported reports whether the provider offers the device flow
// (false while it cannot be discovered).
func (s *Service) DeviceSupported(ctx context.Context) bool {
	p, err := s.provider(ctx)
	return err == nil && p.DeviceSupported()
}

// handle returns a fresh random handle and its hash.
func (s *Service) handle(prefix string) (string, [sha256.Size]byte, error) {
	b := make([]byte, 32)
	if _, err := io.ReadFull(s.rand, b); err != nil {
		return "", [sha256.Size]byte{}, fmt.Errorf("new login handle: %w", err)
	}
	h := prefix + fmt.Sprintf("%x", b)
	return h, sha256.Sum256([]byte(h)), nil
}

// BeginBrowser starts a browser login and returns the provider URL to
// send the browser to.
func (s *Service) BeginBrowser(ctx context.Context) (string, error) {
	p, err := s.provider(ctx)
	if err != nil {
		return "", err
	}
	state, hash, err := s.handle("")
	if err != nil {
		return "", err
	}
	nonce, _, err := s.handle("")
	if err != nil {
		return "", err
	}
	verifier := oidc.NewVerifier()
	err = s.st.CreateSSORequest(ctx, store.SSORequest{HandleHash: hash, Kind: "code", Nonce: nonce, Verifier: verifier,
		Expires: s.now().Add(codeLoginTTL)})
	if err != nil {
		return "", fmt.Errorf("begin single sign-on: %w", err)
	}
	return p.AuthCodeURL(state, nonce, verifier), nil
}

// take finds the login of handle and removes it: a login is used once.
func (s *Service) take(ctx context.Context, handle, kind string) (store.SSORequest, error) {
	hash := sha256.Sum256([]byte(handle))
	r, err := s.st.SSORequest(ctx, hash, s.now())
	if errors.Is(err, store.ErrNotFound) || err == nil && r.Kind != kind {
		return store.SSORequest{}, ErrUnknownLogin
	}
	if err != nil {
		return store.SSORequest{}, err
	}
	if err := s.st.DeleteSSORequest(ctx, hash); err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return store.SSORequest{}, ErrUnknownLogin // another request took it
		}
		return store.SSORequest{}, err
	}
	return r, nil
}

// Login is a finished login: the API token it yields (shown once) and
// who it is for.
type Login struct {
	Token       string
	TokenID     string
	PrincipalID string
	Expires     time.Time
	User        string
	// Created reports that the login created the user.
	Created bool
}

// ChangeKind says what a login changes about its user.
type ChangeKind string

// The changes a login makes.
const (
	// UserCreated: the first login of an identity creates its user.
	UserCreated ChangeKind = "user_created"
	// EmailUpdated: the provider vouches for a new e-mail address.
	EmailUpdated ChangeKind = "email_updated"
	// AdminGranted and AdminRevoked: system administration, from
	// oidc.admin_groups.
	AdminGranted ChangeKind = "admin_granted"
	AdminRevoked ChangeKind = "admin_revoked"
	// MemberSet: a project role given or changed, from oidc.groups.
	MemberSet ChangeKind = "member_set"
	// MemberRemoved: a project role the groups no longer give.
	MemberRemoved ChangeKind = "member_removed"
)

// Change is one change a login makes to its user, reported to
// Options.Record before it is made.
type Change struct {
	Kind    ChangeKind
	Project string      // MemberSet and MemberRemoved only
	Role    access.Role // MemberSet only
	// NotMade reports that a change recorded before was not made after
	// all: its write failed, or a concurrent login made it first.
	NotMade bool
}

// FinishBrowser completes a browser login with the state and code the
// provider redirected back with.
func (s *Service) FinishBrowser(ctx context.Context, state, code string) (Login, error) {
	p, err := s.provider(ctx)
	if err != nil {
		return Login{}, err
	}
	r, err := s.take(ctx, state, "code")
	if err != nil {
		return Login{}, err
	}
	id, err := p.Exchange(ctx, code, r.Verifier, r.Nonce)
	if err != nil {
		return Login{}, err
	}
	return s.login(ctx, id)
}

// DeviceLogin is what the CLI shows and polls with.
type DeviceLogin struct {
	// Handle is what the CLI polls with; it is not the provider's
	// device code, which stays on the server.
	Handle                  string
	UserCode                string
	VerificationURI         string
	VerificationURIComplete string
	Interval                time.Duration
	Expires                 time.Time
}

// BeginDevice starts a device login.
func (s *Service) BeginDevice(ctx context.Context) (DeviceLogin, error) {
	p, err := s.provider(ctx)
	if err != nil {
		return DeviceLogin{}, err
	}
	d, err := p.StartDevice(ctx)
	if err != nil {
		return DeviceLogin{}, err
	}
	handle, hash, err := s.handle("pald_")
	if err != nil {
		return DeviceLogin{}, err
	}
	expires := d.Expiry
	if expires.IsZero() {
		expires = s.now().Add(codeLoginTTL)
	}
	enc, err := json.Marshal(d)
	if err != nil {
		return DeviceLogin{}, fmt.Errorf("begin device login: %w", err)
	}
	if err := s.st.CreateSSORequest(ctx, store.SSORequest{HandleHash: hash, Kind: "device", Device: string(enc), Expires: expires}); err != nil {
		return DeviceLogin{}, fmt.Errorf("begin device login: %w", err)
	}
	return DeviceLogin{Handle: handle, UserCode: d.UserCode, VerificationURI: d.VerificationURI,
		VerificationURIComplete: d.VerificationURIComplete, Interval: d.Interval, Expires: expires}, nil
}

// PollDevice waits up to about one polling interval for the user to
// approve the device login of handle: oidc.ErrPending while they have
// not, the login once they have.
func (s *Service) PollDevice(ctx context.Context, handle string) (Login, error) {
	p, err := s.provider(ctx)
	if err != nil {
		return Login{}, err
	}
	hash := sha256.Sum256([]byte(handle))
	r, err := s.st.SSORequest(ctx, hash, s.now())
	if errors.Is(err, store.ErrNotFound) || err == nil && r.Kind != "device" {
		return Login{}, ErrUnknownLogin
	}
	if err != nil {
		return Login{}, err
	}
	var d oidc.Device
	if err := json.Unmarshal([]byte(r.Device), &d); err != nil {
		return Login{}, fmt.Errorf("read device login: %w", err)
	}
	wait := min(d.Interval+3*time.Second, maxPoll)
	pctx, cancel := context.WithTimeout(ctx, wait)
	defer cancel()
	id, err := p.PollDevice(pctx, d)
	switch {
	case errors.Is(err, oidc.ErrPending):
		return Login{}, err
	case errors.Is(err, oidc.ErrDenied), errors.Is(err, oidc.ErrExpired):
		_ = s.st.DeleteSSORequest(context.WithoutCancel(ctx), hash)
		return Login{}, err
	case err != nil:
		return Login{}, err
	}
	if err := s.st.DeleteSSORequest(ctx, hash); err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return Login{}, ErrUnknownLogin
		}
		return Login{}, err
	}
	return s.login(ctx, id)
}

// login maps a verified identity to its user, applies the group
// mappings, and issues a token.
func (s *Service) login(ctx context.Context, id oidc.Identity) (Login, error) {
	u, created, err := s.user(ctx, id)
	if err != nil {
		return Login{}, err
	}
	if !u.Enabled() {
		return Login{}, ErrDisabled
	}
	if _, err := s.applyGroups(ctx, &u, id.Groups); err != nil {
		return Login{}, err
	}
	tid, secret, hash, err := auth.NewToken(s.rand)
	if err != nil {
		return Login{}, err
	}
	expires := s.now().Add(s.cfg.TokenTTL)
	if _, err := s.st.CreateToken(ctx, store.Token{ID: tid, Name: "single sign-on", PrincipalID: u.ID, Hash: hash, Expires: expires}); err != nil {
		return Login{}, fmt.Errorf("issue the login's token: %w", err)
	}
	s.log.InfoContext(ctx, "single sign-on", slog.String("principal_id", u.ID), slog.String("token_id", tid), slog.Bool("created", created))
	return Login{Token: secret, TokenID: tid, PrincipalID: u.ID, Expires: expires, User: u.Name, Created: created}, nil
}

// recorded tells Options.Record of changes about to be made to the user
// principalID, in order; when one cannot be recorded, those recorded
// before it are told NotMade, and the error wraps ErrUnrecorded.
func (s *Service) recorded(ctx context.Context, principalID string, changes ...Change) error {
	if s.record == nil {
		return nil
	}
	for i, c := range changes {
		if err := s.record(ctx, principalID, c); err != nil {
			s.notMade(ctx, principalID, changes[:i]...)
			return fmt.Errorf("%w: %s: %w", ErrUnrecorded, c.Kind, err)
		}
	}
	return nil
}

// notMade tells Options.Record that recorded changes were not made.
func (s *Service) notMade(ctx context.Context, principalID string, changes ...Change) {
	if s.record == nil {
		return
	}
	for _, c := range changes {
		c.NotMade = true
		if err := s.record(context.WithoutCancel(ctx), principalID, c); err != nil {
			s.log.WarnContext(ctx, "single sign-on: record a change not made", slog.String("change", string(c.Kind)), slog.String("error", err.Error()))
		}
	}
}

// user finds or creates the user of an identity.
func (s *Service) user(ctx context.Context, id oidc.Identity) (store.Principal, bool, error) {
	u, err := s.st.PrincipalByOIDC(ctx, id.Issuer, id.Subject)
	if err == nil {
		if id.Email != "" && id.EmailVerified && u.Email != id.Email {
			change := Change{Kind: EmailUpdated}
			if err := s.recorded(ctx, u.ID, change); err != nil {
				return u, false, err
			}
			// Only the e-mail: a whole-record write would undo an
			// administrator's concurrent change (a disable).
			if err := s.st.PatchPrincipal(ctx, u.ID, store.PrincipalPatch{Email: &id.Email}); err != nil {
				s.notMade(ctx, u.ID, change)
				return u, false, fmt.Errorf("update the user's e-mail: %w", err)
			}
			u.Email = id.Email
		}
		return u, false, nil
	}
	if !errors.Is(err, store.ErrNotFound) {
		return u, false, fmt.Errorf("find the user: %w", err)
	}
	pid, err := auth.NewPrincipalID(s.rand)
	if err != nil {
		return u, false, err
	}
	email := ""
	if id.EmailVerified {
		email = id.Email
	}
	create := Change{Kind: UserCreated}
	if err := s.recorded(ctx, pid, create); err != nil {
		return u, false, err
	}
	base := userName(id)
	for i := 1; i <= 100; i++ {
		name := base
		if i > 1 {
			name = fmt.Sprintf("%s-%d", base, i)
		}
		u, err = s.st.CreatePrincipal(ctx, store.Principal{ID: pid, Name: name, Kind: store.KindUser,
			Clearance: s.cfg.DefaultClearance, Email: email, OIDCIssuer: id.Issuer, OIDCSubject: id.Subject})
		if err == nil {
			return u, true, nil
		}
		if !errors.Is(err, store.ErrExists) {
			s.notMade(ctx, pid, create)
			return u, false, fmt.Errorf("create the user: %w", err)
		}
		// The name is taken, or a concurrent first login created the
		// user: look again before trying another name.
		if u, err := s.st.PrincipalByOIDC(ctx, id.Issuer, id.Subject); err == nil {
			s.notMade(ctx, pid, create)
			return u, false, nil
		}
	}
	s.notMade(ctx, pid, create)
	return u, false, fmt.Errorf("create the user: no free name like %q", base)
}

var nameChars = regexp.MustCompile(`[^a-z0-9._-]+`)

// userName derives a user name from the identity: the preferred user name
// or the e-mail's local part, in the characters user names allow.
func userName(id oidc.Identity) string {
	raw := id.Username
	if raw == "" {
		raw, _, _ = strings.Cut(id.Email, "@")
	}
	n := nameChars.ReplaceAllString(strings.ToLower(raw), "-")
	if len(n) > 48 {
		n = n[:48]
	}
	n = strings.Trim(n, "-._")
	if n == "" {
		n = "user"
	}
	return n
}

// applyGroups brings the user's administration and group-granted roles
// in line with the groups of this login: it plans the changes, records
// them, then makes them, and returns those it made.
func (s *Service) applyGroups(ctx context.Context, u *store.Principal, groups []string) ([]Change, error) {
	plan, err := s.planGroups(ctx, u, groups)
	if err != nil || len(plan) == 0 {
		return nil, err
	}
	if err := s.recorded(ctx, u.ID, plan...); err != nil {
		return nil, err
	}
	var made []Change
	for i, c := range plan {
		var err error
		switch c.Kind {
		case AdminGranted, AdminRevoked:
			admin := c.Kind == AdminGranted
			if err = s.st.PatchPrincipal(ctx, u.ID, store.PrincipalPatch{Admin: &admin}); err == nil {
				u.Admin = admin
			}
		case MemberRemoved:
			// Removed meanwhile is removed.
			if err = s.st.RemoveMember(ctx, c.Project, u.ID); errors.Is(err, store.ErrNotFound) {
				err = nil
			}
		case MemberSet:
			err = s.st.SetMember(ctx, store.Member{Project: c.Project, PrincipalID: u.ID, Role: string(c.Role), Source: "oidc"})
			if errors.Is(err, store.ErrNotFound) {
				// The project was deleted meanwhile: skip it, as planGroups would.
				s.notMade(ctx, u.ID, c)
				continue
			}
		default:
			err = fmt.Errorf("unknown change %q", c.Kind)
		}
		if err != nil {
			s.notMade(ctx, u.ID, plan[i:]...)
			return made, fmt.Errorf("apply groups: %s: %w", c.Kind, err)
		}
		made = append(made, c)
	}
	return made, nil
}

// planGroups returns what the groups of a login change about the user:
// administration first, then the group-granted roles removed and set, by
// project. A role given by hand wins over the groups'; a group mapping
// to a project that does not exist is skipped.
func (s *Service) planGroups(ctx context.Context, u *store.Principal, groups []string) ([]Change, error) {
	var plan []Change
	if len(s.cfg.AdminGroups) > 0 {
		admin := slices.ContainsFunc(groups, func(g string) bool { return slices.Contains(s.cfg.AdminGroups, g) })
		switch {
		case admin && !u.Admin:
			plan = append(plan, Change{Kind: AdminGranted})
		case !admin && u.Admin:
			plan = append(plan, Change{Kind: AdminRevoked})
		}
	}
	want := map[string]access.Role{}
	for _, g := range groups {
		for _, gr := range s.cfg.Groups[g] {
			if cur, ok := want[gr.Project]; !ok || rank(gr.Role) < rank(cur) {
				want[gr.Project] = gr.Role
			}
		}
	}
	have, err := s.st.MembershipsOf(ctx, u.ID)
	if err != nil {
		return nil, fmt.Errorf("apply groups: %w", err)
	}
	manual, current := map[string]bool{}, map[string]bool{}
	for _, m := range have {
		if m.Source != "oidc" {
			manual[m.Project] = true
			continue
		}
		if r, ok := want[m.Project]; ok {
			// Kept as it is, or replaced by the MemberSet below.
			current[m.Project] = string(r) == m.Role
			continue
		}
		plan = append(plan, Change{Kind: MemberRemoved, Project: m.Project})
	}
	for _, project := range slices.Sorted(maps.Keys(want)) {
		if manual[project] || current[project] {
			continue // a role given by hand wins; an unchanged one stays
		}
		if _, err := s.st.Project(ctx, project); errors.Is(err, store.ErrNotFound) {
			s.log.WarnContext(ctx, "single sign-on: a group maps to a project that does not exist", slog.String("project", project))
			continue
		} else if err != nil {
			return nil, fmt.Errorf("apply groups: %w", err)
		}
		plan = append(plan, Change{Kind: MemberSet, Project: project, Role: want[project]})
	}
	return plan, nil
}

// rank orders roles, most privileged first.
func rank(r access.Role) int { return slices.Index(access.Roles(), r) }

package projectkeys

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"time"

	"gocloud.dev/secrets"
	"gocloud.dev/secrets/localsecrets"

	"github.com/palisade-sec/palisade/internal/blob"
	"github.com/palisade-sec/palisade/internal/crypto"
	"github.com/palisade-sec/palisade/internal/store"
)

// keyIDPrefix starts the key ID a project KEK records in data keys.
const keyIDPrefix = "project-key:v"

// DefaultGrace is how long Rotate waits before destroying old versions,
// for commits that encrypted under them before the new version existed.
const DefaultGrace = 10 * time.Second

// ErrNoKey means a data key names a key version the project does not have
// (destroyed by a rotation or a shred, or never created).
var ErrNoKey = errors.New("the project key version this data key needs does not exist")

// Store is what the Manager needs from the metadata store.
type Store interface {
	ProjectKeys(ctx context.Context, project string) ([]store.ProjectKey, error)
	CreateProjectKey(ctx context.Context, project string, k store.ProjectKey) error
	UpdateProjectKey(ctx context.Context, project string, k store.ProjectKey) error
	DeleteProjectKey(ctx context.Context, project string, version int) error
	ListBlobs(ctx context.Context, project string, page store.Page) ([]store.Blob, error)
	UpdateBlobKey(ctx context.Context, project, digest string, old, wrapped []byte) error
	ProjectUsage(ctx context.Context, name string) (store.Usage, error)
	DeleteProject(ctx context.Context, name string) error
}

// Options configures a Manager.
type Options struct {
	Store Store
	// Master wraps project keys; MasterKeyID names it (recorded with
	// each project key).
	Master      *secrets.Keeper
	MasterKeyID string
	// Previous, when not nil, is the master key being replaced: project
	// keys it wrapped still open, and RewrapMaster moves them under
	// Master. PreviousKeyID names it.
	Previous      *secrets.Keeper
	PreviousKeyID string
	// Legacy, when not nil, decrypts data keys wrapped by the master KEK
	// directly (written before per-project keys); its KeyID identifies
	// them.
	Legacy *crypto.Envelope
	// Grace overrides DefaultGrace (tests).
	Grace  time.Duration
	Logger *slog.Logger
}

// Manager hands out per-project sealers and rotates and destroys project
// keys. It is safe for concurrent use.
type Manager struct {
	st       Store
	master   *secrets.Keeper
	masterID string
	previous *secrets.Keeper
	prevID   string
	legacy   *crypto.Envelope
	grace    time.Duration
	page     int // blobs per rotation scan page
	log      *slog.Logger

	mu    sync.Mutex
	cache map[string]*crypto.Envelope // by project + "\x00" + version
	// created serializes first-key creation per project.
	created map[string]*sync.Mutex
}

// New returns a Manager.
func New(opts Options) (*Manager, error) {
	if opts.Store == nil || opts.Master == nil {
		return nil, errors.New("new project key manager: store and master key are required")
	}
	m := &Manager{
		st: opts.Store, master: opts.Master, masterID: opts.MasterKeyID, legacy: opts.Legacy,
		previous: opts.Previous, prevID: opts.PreviousKeyID,
		grace: opts.Grace, page: blobPage, log: opts.Logger,
		cache: map[string]*crypto.Envelope{}, created: map[string]*sync.Mutex{},
	}
	if m.grace == 0 {
		m.grace = DefaultGrace
	}
	if m.log == nil {
		m.log = slog.New(slog.DiscardHandler)
	}
	return m, nil
}

func keyID(version int) string { return keyIDPrefix + strconv.Itoa(version) }

// versionOf reads the version from a wrapped data key's key ID; ok is
// false for a key not wrapped by a project KEK.
func versionOf(wrapped []byte) (int, bool, error) {
	id, err := crypto.WrappedKeyID(wrapped)
	if err != nil {
		return 0, false, err
	}
	rest, found := strings.CutPrefix(id, keyIDPrefix)
	if !found {
		return 0, false, nil
	}
	v, err := strconv.Atoi(rest)
	if err != nil || v < 1 {
		return 0, false, fmt.Errorf("data key names project key %q: %w", id, crypto.ErrFormat)
	}
	return v, true, nil
}

// envelope returns the Envelope of the project key k, unwrapping it with
// the master key on first use.
func (m *Manager) envelope(ctx context.Context, project string, k store.ProjectKey) (*crypto.Envelope, error) {
	ck := project + "\x00" + strconv.Itoa(k.Version)
	m.mu.Lock()
	env := m.cache[ck]
	m.mu.Unlock()
	if env != nil {
		return env, nil
	}
	raw, err := m.unwrapKey(ctx, k)
	if err != nil {
		return nil, fmt.Errorf("key v%d of project %s: %w", k.Version, project, err)
	}
	defer clear(raw)
	if len(raw) != 32 {
		return nil, fmt.Errorf("key v%d of project %s: unwrapped to %d bytes, want 32", k.Version, project, len(raw))
	}
	var key [32]byte
	copy(key[:], raw)
	env, err = crypto.NewEnvelope(localsecrets.NewKeeper(key), crypto.Options{KeyID: keyID(k.Version)})
	clear(key[:])
	if err != nil {
		return nil, err
	}
	m.mu.Lock()
	m.cache[ck] = env
	m.mu.Unlock()
	return env, nil
}

// unwrapKey opens a project key with the master key, or with the previous
// master key while one is configured: first the one whose ID the key
// records, then the other (a wrong key fails authentication, so trying it
// is safe).
func (m *Manager) unwrapKey(ctx context.Context, k store.ProjectKey) ([]byte, error) {
	keepers := []*secrets.Keeper{m.master}
	if m.previous != nil {
		if k.MasterKeyID == m.prevID && m.prevID != m.masterID {
			keepers = []*secrets.Keeper{m.previous, m.master}
		} else {
			keepers = append(keepers, m.previous)
		}
	}
	var errs []error
	for _, kp := range keepers {
		raw, err := kp.Decrypt(ctx, k.Wrapped)
		if err == nil {
			return raw, nil
		}
		errs = append(errs, err)
	}
	return nil, fmt.Errorf("unwrap with the master key (wrapped by %q): %w", k.MasterKeyID, errors.Join(errs...))
}

// current returns the project's newest key version, creating version 1
// when the project has none.
func (m *Manager) current(ctx context.Context, project string) (store.ProjectKey, error) {
	keys, err := m.st.ProjectKeys(ctx, project)
	if err != nil {
		return store.ProjectKey{}, err
	}
	if len(keys) > 0 {
		return keys[len(keys)-1], nil
	}
	m.mu.Lock()
	lock := m.created[project]
	if lock == nil {
		lock = &sync.Mutex{}
		m.created[project] = lock
	}
	m.mu.Unlock()
	lock.Lock()
	defer lock.Unlock()
	k, err := m.newVersion(ctx, project, 1)
	if errors.Is(err, store.ErrExists) { // another replica created it
		keys, err := m.st.ProjectKeys(ctx, project)
		if err != nil {
			return store.ProjectKey{}, err
		}
		if len(keys) == 0 {
			return store.ProjectKey{}, fmt.Errorf("key of project %s: %w", project, ErrNoKey)
		}
		return keys[len(keys)-1], nil
	}
	return k, err
}

// newVersion generates a key, wraps it with the master key and records it
// as version v.
func (m *Manager) newVersion(ctx context.Context, project string, v int) (store.ProjectKey, error) {
	key, err := localsecrets.NewRandomKey()
	if err != nil {
		return store.ProjectKey{}, fmt.Errorf("generate key of project %s: %w", project, err)
	}
	wrapped, err := m.master.Encrypt(ctx, key[:])
	clear(key[:])
	if err != nil {
		return store.ProjectKey{}, fmt.Errorf("wrap key of project %s with the master key: %w", project, err)
	}
	k := store.ProjectKey{Version: v, Wrapped: wrapped, MasterKeyID: m.masterID}
	if err := m.st.CreateProjectKey(ctx, project, k); err != nil {
		return store.ProjectKey{}, err
	}
	m.log.InfoContext(ctx, "project key created", "project", project, "version", v)
	return k, nil
}

// sealerFor decrypts with the envelope a data key names.
func (m *Manager) envelopeFor(ctx context.Context, project string, wrapped []byte) (*crypto.Envelope, error) {
	v, ok, err := versionOf(wrapped)
	if err != nil {
		return nil, err
	}
	if !ok {
		if m.legacy != nil {
			return m.legacy, nil
		}
		return nil, fmt.Errorf("data key of project %s is not wrapped by a project key: %w", project, ErrNoKey)
	}
	keys, err := m.st.ProjectKeys(ctx, project)
	if err != nil {
		return nil, err
	}
	for _, k := range keys {
		if k.Version == v {
			return m.envelope(ctx, project, k)
		}
	}
	return nil, fmt.Errorf("project %s, key v%d: %w", project, v, ErrNoKey)
}

// Sealer returns the blob sealer of a project: blob.Options.SealerFor.
func (m *Manager) Sealer(_ context.Context, project string) (blob.Sealer, error) {
	return &sealer{m: m, project: project}, nil
}

type sealer struct {
	m       *Manager
	project string
}

func (s *sealer) Encrypt(ctx context.Context, dst io.Writer, src io.Reader, aad []byte) ([]byte, error) {
	k, err := s.m.current(ctx, s.project)
	if err != nil {
		return nil, fmt.Errorf("encrypt: %w", err)
	}
	env, err := s.m.envelope(ctx, s.project, k)
	if err != nil {
		return nil, fmt.Errorf("encrypt: %w", err)
	}
	return env.Encrypt(ctx, dst, src, aad)
}

func (s *sealer) Decrypt(ctx context.Context, src io.Reader, wrapped, aad []byte) (io.Reader, error) {
	env, err := s.m.envelopeFor(ctx, s.project, wrapped)
	if err != nil {
		return nil, fmt.Errorf("decrypt: %w", err)
	}
	return env.Decrypt(ctx, src, wrapped, aad)
}

// Current rewraps a data key that names an older key version than the
// project's newest (a commit that began before a rotation) and returns
// the key to record; a current key is returned as is.
func (m *Manager) Current(ctx context.Context, project string, wrapped []byte) ([]byte, error) {
	v, ok, err := versionOf(wrapped)
	if err != nil {
		return nil, err
	}
	k, err := m.current(ctx, project)
	if err != nil {
		return nil, err
	}
	if ok && v == k.Version {
		return wrapped, nil
	}
	from, err := m.envelopeFor(ctx, project, wrapped)
	if err != nil {
		return nil, err
	}
	to, err := m.envelope(ctx, project, k)
	if err != nil {
		return nil, err
	}
	return crypto.Rewrap(ctx, wrapped, from, to)
}

// forget drops a project's unwrapped keys from memory.
func (m *Manager) forget(project string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for k := range m.cache {
		if strings.HasPrefix(k, project+"\x00") {
			delete(m.cache, k)
		}
	}
}

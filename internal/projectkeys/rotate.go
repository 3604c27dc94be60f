package projectkeys

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/palisade-sec/palisade/internal/crypto"
	"github.com/palisade-sec/palisade/internal/store"
)

// maxPasses bounds the rewrap passes of one rotation.
const maxPasses = 5

// blobPage is the default page size of rotation scans.
const blobPage = 500

// RotateReport says what a rotation did.
type RotateReport struct {
	Project string `json:"project"`
	// NewVersion is the project's key version after the rotation.
	NewVersion int `json:"new_version"`
	// Destroyed are the key versions destroyed.
	Destroyed []int `json:"destroyed"`
	// Rewrapped counts the data keys moved to the new version.
	Rewrapped int `json:"rewrapped"`
}

// Rotate gives the project a new key version, rewraps every blob's data
// key under it, and destroys the older versions once no blob names them.
// Blob data is not re-encrypted. Pushes may continue meanwhile.
func (m *Manager) Rotate(ctx context.Context, project string) (RotateReport, error) {
	rep := RotateReport{Project: project}
	keys, err := m.st.ProjectKeys(ctx, project)
	if err != nil {
		return rep, fmt.Errorf("rotate keys of %s: %w", project, err)
	}
	next := 1
	if len(keys) > 0 {
		next = keys[len(keys)-1].Version + 1
	}
	k, err := m.newVersion(ctx, project, next)
	if errors.Is(err, store.ErrExists) {
		return rep, fmt.Errorf("rotate keys of %s: another rotation is running; let it finish", project)
	}
	if err != nil {
		return rep, fmt.Errorf("rotate keys of %s: %w", project, err)
	}
	rep.NewVersion = k.Version
	for pass := 0; ; pass++ {
		n, err := m.rewrapAll(ctx, project, k)
		rep.Rewrapped += n
		if err != nil {
			return rep, fmt.Errorf("rotate keys of %s: %w (the new version v%d is in place; run the rotation again to finish)", project, err, k.Version)
		}
		if pass > 0 && n == 0 {
			break
		}
		if pass == maxPasses {
			return rep, fmt.Errorf("rotate keys of %s: blobs under old keys keep appearing; old versions kept, run the rotation again", project)
		}
		// Commits that encrypted under an old version before v(next)
		// existed record their keys after it: wait for them, then rewrap
		// again.
		select {
		case <-ctx.Done():
			return rep, ctx.Err()
		case <-time.After(m.grace):
		}
	}
	for _, old := range keys {
		if err := m.st.DeleteProjectKey(ctx, project, old.Version); err != nil && !errors.Is(err, store.ErrNotFound) {
			return rep, fmt.Errorf("rotate keys of %s: destroy v%d: %w", project, old.Version, err)
		}
		rep.Destroyed = append(rep.Destroyed, old.Version)
	}
	m.forget(project)
	m.log.InfoContext(ctx, "project key rotated", "project", project, "version", k.Version, "rewrapped", rep.Rewrapped)
	return rep, nil
}

// rewrapAll moves every data key of the project that is not under k to k,
// and returns how many it moved.
func (m *Manager) rewrapAll(ctx context.Context, project string, k store.ProjectKey) (int, error) {
	to, err := m.envelope(ctx, project, k)
	if err != nil {
		return 0, err
	}
	n := 0
	page := store.Page{N: m.page}
	for {
		bs, err := m.st.ListBlobs(ctx, project, page)
		if err != nil {
			return n, err
		}
		for _, b := range bs {
			v, ok, err := versionOf(b.WrappedKey)
			if err != nil {
				return n, fmt.Errorf("blob %s: %w", b.Digest, err)
			}
			if ok && v == k.Version {
				continue
			}
			from, err := m.envelopeFor(ctx, project, b.WrappedKey)
			if err != nil {
				return n, fmt.Errorf("blob %s: %w", b.Digest, err)
			}
			nw, err := crypto.Rewrap(ctx, b.WrappedKey, from, to)
			if err != nil {
				return n, fmt.Errorf("blob %s: %w", b.Digest, err)
			}
			err = m.st.UpdateBlobKey(ctx, project, b.Digest, b.WrappedKey, nw)
			switch {
			case errors.Is(err, store.ErrConflict), errors.Is(err, store.ErrNotFound):
				// Replaced or deleted meanwhile: the next pass sees it.
				continue
			case err != nil:
				return n, err
			}
			n++
		}
		if len(bs) < page.N {
			return n, nil
		}
		page.Last = bs[len(bs)-1].Digest
	}
}

// ShredReport says what Shred destroyed.
type ShredReport struct {
	Project string `json:"project"`
	// KeyVersions are the project key versions destroyed.
	KeyVersions []int `json:"key_versions"`
	// Usage is what the project held: its blobs can no longer be
	// decrypted.
	Usage store.Usage `json:"usage"`
}

// Shred destroys every version of the project's key and removes the
// project and all its records. Its blob ciphertexts become undecryptable;
// the caller removes them from storage.
func (m *Manager) Shred(ctx context.Context, project string) (ShredReport, error) {
	rep := ShredReport{Project: project}
	u, err := m.st.ProjectUsage(ctx, project)
	if err != nil {
		return rep, fmt.Errorf("shred %s: %w", project, err)
	}
	rep.Usage = u
	keys, err := m.st.ProjectKeys(ctx, project)
	if err != nil {
		return rep, fmt.Errorf("shred %s: %w", project, err)
	}
	for _, k := range keys {
		rep.KeyVersions = append(rep.KeyVersions, k.Version)
	}
	// Keys, blob records, manifests and repositories go in one statement
	// (ON DELETE CASCADE).
	if err := m.st.DeleteProject(ctx, project); err != nil {
		return rep, fmt.Errorf("shred %s: %w", project, err)
	}
	m.forget(project)
	m.log.WarnContext(ctx, "project shredded", "project", project, "key_versions", rep.KeyVersions, "blobs", u.Blobs)
	return rep, nil
}

// MasterReport says what RewrapMaster did.
type MasterReport struct {
	Projects int `json:"projects"`
	// Rewrapped counts the project key versions moved under the master
	// key; Current those already under it.
	Rewrapped int `json:"rewrapped"`
	Current   int `json:"current"`
}

// Projects is what RewrapMaster needs to list projects.
type Projects interface {
	ListProjects(ctx context.Context) ([]store.Project, error)
}

// RewrapMaster moves every project key wrapped by the previous master key
// under the current one: each version is unwrapped (by whichever master
// key opens it) and wrapped again by the current master key. No data key
// and no data changes. Once it has run, the previous master key can be
// removed from the configuration and destroyed.
func (m *Manager) RewrapMaster(ctx context.Context, ps Projects) (MasterReport, error) {
	var rep MasterReport
	projects, err := ps.ListProjects(ctx)
	if err != nil {
		return rep, fmt.Errorf("rewrap project keys: %w", err)
	}
	for _, p := range projects {
		rep.Projects++
		keys, err := m.st.ProjectKeys(ctx, p.Name)
		if errors.Is(err, store.ErrNotFound) {
			continue // deleted meanwhile
		}
		if err != nil {
			return rep, fmt.Errorf("rewrap keys of %s: %w", p.Name, err)
		}
		for _, k := range keys {
			if k.MasterKeyID == m.masterID {
				if _, err := m.master.Decrypt(ctx, k.Wrapped); err == nil {
					rep.Current++
					continue
				}
			}
			raw, err := m.unwrapKey(ctx, k)
			if err != nil {
				return rep, fmt.Errorf("rewrap key v%d of %s: %w (is the previous master key configured?)", k.Version, p.Name, err)
			}
			wrapped, err := m.master.Encrypt(ctx, raw)
			clear(raw)
			if err != nil {
				return rep, fmt.Errorf("rewrap key v%d of %s: %w", k.Version, p.Name, err)
			}
			k.Wrapped, k.MasterKeyID = wrapped, m.masterID
			if err := m.st.UpdateProjectKey(ctx, p.Name, k); err != nil {
				return rep, fmt.Errorf("rewrap key v%d of %s: %w", k.Version, p.Name, err)
			}
			rep.Rewrapped++
		}
	}
	m.log.InfoContext(ctx, "project keys rewrapped under the master key", "rewrapped", rep.Rewrapped, "current", rep.Current)
	return rep, nil
}

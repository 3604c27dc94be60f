package blob

// UploadsInProgress returns the number of uploads begun and not yet
// committed or aborted, for the server's metrics.
func (s *Store) UploadsInProgress() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.uploads)
}

// StagedBytes returns the plaintext bytes the project's uploads in
// progress hold, except the upload with ID except: what quota checks
// count besides the stored blobs. It does not wait for chunks in flight.
func (s *Store) StagedBytes(project, except string) int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	var n int64
	for _, u := range s.uploads {
		if u.project == project && u.id != except {
			n += u.staged.Load()
		}
	}
	return n
}

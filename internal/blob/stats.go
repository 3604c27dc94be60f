package blob

// UploadsInProgress returns the number of uploads begun and not yet
// committed or aborted, for the server's metrics.
func (s *Store) UploadsInProgress() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.uploads)
}

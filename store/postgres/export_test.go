package postgres

// SetDumpPage sets how many keys Dump reads at a time and returns a
// function that restores it.
func SetDumpPage(n int) (restore func()) {
	old := dumpPage
	dumpPage = n
	return func() { dumpPage = old }
}

// GroupStats returns how many group transactions s has begun and how
// many writes it ran alone after their statements failed in a group.
func GroupStats(s *Store) (txs, alone uint64) {
	return s.commits.txs.Load(), s.commits.alone.Load()
}

// Queued returns how many writes wait in s's queue.
func Queued(s *Store) int {
	return s.commits.group.Queued()
}

// Idle reports whether no write is queued and none leads.
func Idle(s *Store) bool {
	return s.commits.group.Idle()
}

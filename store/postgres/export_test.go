package postgres

// SetDumpPage sets how many keys Dump reads at a time and returns a
// function that restores it.
func SetDumpPage(n int) (restore func()) {
	old := dumpPage
	dumpPage = n
	return func() { dumpPage = old }
}

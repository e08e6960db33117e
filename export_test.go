package moffman

// SetVisitLimit lowers the bound of Visits (MaxVisits) for a test, so that
// it need not write 20,000 events to reach it.
func SetVisitLimit(s *Reservations, n int) { s.visitLimit = n }

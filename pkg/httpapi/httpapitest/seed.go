package httpapitest

import (
	"strings"
	"testing"
)

// The user both test seeds register. The password is the seed's plain text, which
// seed.Import hashes.
const (
	Username = "alice"
	Password = "correct horse battery staple"
)

// WithClients is the seed document doc with clients, a comma-terminated list of
// client objects, put first in its "clients" array.
func WithClients(tb testing.TB, doc, clients string) string {
	tb.Helper()
	const array = `"clients": [`
	if !strings.Contains(doc, array) {
		tb.Fatalf("the seed has no %s to extend", array)
	}
	return strings.Replace(doc, array, array+clients, 1)
}

// Package httpapitest holds what the tests of pkg/httpapi and the end-to-end tests of
// infra/localapi share, the way net/http/httptest serves net/http: a cookie-jar
// Browser that reads the login and consent pages and follows no redirect by itself,
// the seed's user and the way a seed gains clients, a DPoP key, and the one-key
// signing key set the servers under test sign with (also used by the pkg/app and
// pkg/awsapp tests).
//
// It lives under pkg/ so that both sides can import it; nothing under pkg/ imports
// infra/. Each side keeps its own fixtures, server and assertions: only what both
// really use is here.
package httpapitest

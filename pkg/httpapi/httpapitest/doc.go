// Package httpapitest holds what the tests of pkg/httpapi and the end-to-end tests of
// infra/localapi share, the way net/http/httptest serves net/http: a cookie-jar
// Browser that reads the login and consent pages and follows no redirect by itself,
// the seed's user and the way a seed gains clients, and a DPoP key.
//
// It lives under pkg/ so that both sides can import it; nothing under pkg/ imports
// infra/. Each side keeps its own fixtures, server and assertions: only what both
// really use is here.
package httpapitest

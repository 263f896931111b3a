package seed

import (
	"strings"
	"testing"
)

// TestParse_RefusesFormatCharacters: a client name, id or scope with a Unicode format
// character (category Cf) could spoof what the consent page says; registration (the
// seed, and the admin CLI through Normalize) refuses it.
func TestParse_RefusesFormatCharacters(t *testing.T) {
	long := strings.Repeat("s", MinSecretLength)
	client := func(field, value string) string {
		return `{"clients":[{"client_id":"a","client_secret":"` + long + `","redirect_uris":["https://a.example/cb"],"` + field + `":"` + value + `"}]}`
	}
	for name, doc := range map[string]string{
		"U+202E in client_name":         client("client_name", `Pay \u202Eem.live`),
		"raw U+202E in client_name":     client("client_name", "Pay \u202eem.live"),
		"U+2066 isolate in client_name": client("client_name", `Bank\u2066x\u2069`),
		"U+200B in client_name":         client("client_name", `Ba\u200Bnk`),
		"U+202E in scope":               client("scope", `openid \u202Eprofile`),
		"U+202E in client_id":           `{"clients":[{"client_id":"a\u202Eb","client_secret":"` + long + `","redirect_uris":["https://a.example/cb"]}]}`,
	} {
		if _, err := Parse([]byte(doc)); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	if _, err := Parse([]byte(client("client_name", "Zürich Bank ünd Söhne — 東京"))); err != nil {
		t.Errorf("a name without format characters is refused: %v", err)
	}
}

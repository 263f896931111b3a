package seed

import (
	"bytes"
	"strings"
	"testing"

	"github.com/pargate/pargate/pkg/oauth"
)

func TestParseClient_IsStrictAboutTheDocument(t *testing.T) {
	for _, tc := range []struct{ name, doc, want string }{
		{"unknown field", `{"client_id":"a","redirect_uri":"https://a.example/cb"}`, `unknown field "redirect_uri"`},
		{"not an object", `["a"]`, "cannot unmarshal array"},
		{"two values", `{"client_id":"a"} {}`, "more than one JSON value"},
		{"not JSON", `client_id: a`, "parse client metadata"},
	} {
		if _, err := ParseClient([]byte(tc.doc)); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: ParseClient = %v, want an error with %q", tc.name, err, tc.want)
		}
	}
	c, err := ParseClient([]byte("  {\"client_id\":\"a\",\"client_secret\":\"s\"}\n"))
	if err != nil || c.ID != "a" || c.Secret != "s" {
		t.Errorf("ParseClient = %+v, %v", c, err)
	}
}

// Normalize is the validation Parse applies to each client of a file.
func TestNormalize_IsTheValidationOfParse(t *testing.T) {
	secret := strings.Repeat("k", MinSecretLength)
	c, err := ParseClient([]byte(`{"client_id":"a","client_secret":"` + secret + `","redirect_uris":["https://a.example/cb"]}`))
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Normalize(); err != nil {
		t.Fatalf("Normalize: %v", err)
	}
	if c.TokenEndpointAuthMethod != oauth.AuthClientSecretBasic || !bytes.Equal(c.SecretHash, oauth.SecretHash(secret)) {
		t.Errorf("after Normalize: method %q, hash %x", c.TokenEndpointAuthMethod, c.SecretHash)
	}

	bad, err := ParseClient([]byte(`{"client_id":"a","client_secret":"short","redirect_uris":["https://a.example/cb"]}`))
	if err != nil {
		t.Fatal(err)
	}
	err = bad.Normalize()
	_, parseErr := Parse([]byte(`{"clients":[{"client_id":"a","client_secret":"short","redirect_uris":["https://a.example/cb"]}]}`))
	if err == nil || parseErr == nil || !strings.HasSuffix(parseErr.Error(), err.Error()) {
		t.Errorf("Normalize = %v, Parse = %v: want the same message", err, parseErr)
	}
}

//go:build knownbugs

package httpapi_test

// Failing tests of deviations found by the fuzz targets and the conformance review
// (CONFORMANCE.md, "Known deviations"). They are behind the knownbugs build tag so
// that make test stays green until they are fixed:
//
//	go test -tags knownbugs -run '^TestKnownBug' ./pkg/httpapi ./pkg/seed
//
// When a fix lands, move its test out of this file (drop the tag) and its row out of
// "Known deviations".

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
)

// RFC 6749 §5.2: "Values for the error_description parameter MUST NOT include
// characters outside the set %x20-21 / %x23-5B / %x5D-7E." Descriptions that quote
// input with %q carry '"' (and truncate adds a non-ASCII ellipsis).
func TestKnownBug_ErrorDescriptionCharset(t *testing.T) {
	ts := newServer(t, nil)
	r := ts.do(t, nil, http.MethodPost, "/par", basic(confID, confSecret), form,
		with(pushParams(), "redirect_uri", "https://evil.example/cb").Encode())
	desc, _ := r.JSON["error_description"].(string)
	for _, c := range []byte(desc) {
		if c < 0x20 || c == 0x22 || c == 0x5c || c > 0x7e {
			t.Fatalf("error_description %q has %q, outside RFC 6749 §5.2's set", desc, c)
		}
	}
}

// RFC 9449 §4.3 item 9: htu must match the request URI, compared after RFC 3986
// §6.2.3 scheme-based normalization, which drops only the scheme's default port. A
// proof for https://as.example.org:80/par names another origin than
// https://as.example.org/par, yet sameHTU drops ":80" for https too.
func TestKnownBug_DPoPHTUWithPort80OverHTTPS(t *testing.T) {
	fs := newFuzzServer(t, nil)
	proof := signRaw(t, fs.dpopKey, fs.expand(`{"alg":"ES256","typ":"dpop+jwt","jwk":$JWK}`),
		fs.expand(`{"jti":"$JTI","htm":"POST","htu":"https://as.example.org:80/par","iat":$NOW}`))
	rec := fs.post("/par", []byte(pushParams().Encode()), basic(confID, confSecret), proof)
	var m map[string]any
	_ = json.Unmarshal(rec.Body.Bytes(), &m)
	if rec.Code != 400 || m["error"] != "invalid_dpop_proof" {
		t.Fatalf("htu https://as.example.org:80/par for https://as.example.org/par: %d %v", rec.Code, m)
	}
}

// RFC 7515 §4.1.9: typ is a string; RFC 8725 §3.11 explicit typing. A request object
// whose typ is a number is read as having no typ and accepted (verifyClientJWT takes
// typ with a failed string assertion as "").
func TestKnownBug_NonStringTypIsAccepted(t *testing.T) {
	fs := newFuzzServer(t, nil)
	claims := fs.expand(`{"iss":"` + jarID + `","aud":"$ISSUER","client_id":"` + jarID + `","jti":"$JTI","iat":$NOW,"exp":$EXP,` +
		`"response_type":"code","redirect_uri":"$REDIRECT","scope":"openid","code_challenge":"$CHALLENGE","code_challenge_method":"S256"}`)
	token := signRaw(t, clientKey, fs.expand(`{"alg":"ES256","kid":"$KID","typ":7}`), claims)
	rec := fs.post("/par", []byte("client_id="+jarID+"&request="+token), basic(jarID, jarSec), "")
	if rec.Code == http.StatusCreated || !strings.Contains(rec.Body.String(), "invalid_request_object") {
		t.Fatalf("request object with typ 7: %d %s", rec.Code, rec.Body)
	}
}

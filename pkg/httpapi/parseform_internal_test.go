package httpapi

import (
	"encoding/base64"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"strings"
	"testing"

	"github.com/pargate/pargate/pkg/oauth"
)

// parseFormSeeds are bodies at the edges of url.ParseQuery's semantics.
var parseFormSeeds = []string{
	"",
	"response_type=code&client_id=c1&redirect_uri=https%3A%2F%2Fapp.example%2Fcb&scope=openid+profile+email&state=s&nonce=n&code_challenge=E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM&code_challenge_method=S256",
	"a=1&a=2&a=3", "a=1&b=2&a=3", "a&b=&=c&=", "&&&", "a=1&&b=2&", "=", "==", "a==b",
	"a=1;b=2", "a;b", ";", "a=%", "a=%zz&b=1", "%=1", "%41=%42", "a+b=c+d", "a%20b=c%2Bd",
	"a=%e2%80%ae", "a=%00", "a=%ff", "x=" + strings.Repeat("y", 100),
	strings.Repeat("a=1&", 63) + "b=2", strings.Repeat("a=1&", 64) + "b=2", strings.Repeat("k=v&", 200),
	"a=1&a=%zz", "a=%zz&a=1", "%zz", "a=1&%zz=2&b=3", "a=%4", "a=%4g", "a=%G1", "a=%2", "a=x%",
	"a=%aF%Fa%09", "+=+&%2B=%2b", "k%3Dv=1&k=v", "a%26b=1", "a=1%26b%3D2",
}

// parseForm is parseFormInto with buffers of its own.
func parseForm(body string) (url.Values, error) {
	m, _, err := parseFormInto([]byte(body), nil)
	return m, err
}

func sameAsParseQuery(t *testing.T, body string) {
	t.Helper()
	got, gotErr := parseForm(body)
	want, wantErr := url.ParseQuery(body)
	if (gotErr == nil) != (wantErr == nil) || (gotErr != nil && gotErr.Error() != wantErr.Error()) {
		t.Fatalf("parseForm(%q) error %v, url.ParseQuery's %v", body, gotErr, wantErr)
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("parseForm(%q) = %#v, url.ParseQuery = %#v", body, got, want)
	}
}

// The form parser of the hot path is url.ParseQuery's semantics exactly
// (result and error) — duplicates kept for RFC 6749 §3.1's refusal, semicolons and
// bad escapes refused.
func TestParseForm_IsURLParseQuery(t *testing.T) {
	for _, body := range parseFormSeeds {
		sameAsParseQuery(t, body)
	}
}

func FuzzParseForm(f *testing.F) {
	for _, body := range parseFormSeeds {
		f.Add(body)
	}
	f.Fuzz(sameAsParseQuery)
}

// The values share one backing array; appending to one must not change another.
func TestParseForm_ValuesDoNotAlias(t *testing.T) {
	form, err := parseForm("a=1&b=2&c=3")
	if err != nil {
		t.Fatal(err)
	}
	form["a"] = append(form["a"], "x")
	if form.Get("b") != "2" || form.Get("c") != "3" || len(form["b"]) != 1 {
		t.Errorf("appending to a changed the others: %v", form)
	}
}

// A push's form costs the map, one array of values and one string of every
// unescaped key and value, not a slice per parameter, and nothing for the body and
// scratch buffers, which the caller reuses.
func TestParseForm_Allocations(t *testing.T) {
	body := parseFormSeeds[1]
	raw, scratch := []byte(body), make([]byte, 0, len(body))
	std := testing.AllocsPerRun(100, func() { _, _ = url.ParseQuery(body) })
	got := testing.AllocsPerRun(100, func() { _, scratch, _ = parseFormInto(raw, scratch[:0]) })
	t.Logf("parseFormInto %v allocations, url.ParseQuery %v", got, std)
	if got > 4 || got >= std {
		t.Errorf("parseFormInto allocates %v times (url.ParseQuery %v), want at most 4", got, std)
	}
}

// What parseFormInto returns owns its memory: reusing the body and scratch buffers
// for the next request changes none of it.
func TestParseForm_ResultOutlivesTheBuffers(t *testing.T) {
	raw := []byte("a=1&b=x%20y&c=3")
	scratch := make([]byte, 0, 64)
	form, scratch, err := parseFormInto(raw, scratch)
	if err != nil {
		t.Fatal(err)
	}
	for i := range raw {
		raw[i] = 'z'
	}
	scratch = scratch[:cap(scratch)]
	for i := range scratch {
		scratch[i] = 'z'
	}
	if form.Get("a") != "1" || form.Get("b") != "x y" || form.Get("c") != "3" {
		t.Errorf("the form changed with its buffers: %v", form)
	}
}

// Basic credentials that are fine cost one allocation (the decoded
// string), no error built in advance; malformed ones are still invalid_client.
func TestCredentials_BasicAllocations(t *testing.T) {
	r := httptest.NewRequest(http.MethodPost, "/par", nil)
	r.Header.Set("Authorization", "Basic "+base64.StdEncoding.EncodeToString([]byte("client-one:a-secret-of-some-forty-characters-x")))
	form := url.Values{"response_type": {"code"}}
	if n := testing.AllocsPerRun(100, func() { _, _ = credentials(r, form) }); n > 1 {
		t.Errorf("credentials allocates %v times, want 1", n)
	}
	c, err := credentials(r, form)
	if err != nil || !c.BasicUsed || c.BasicID != "client-one" || c.BasicSecret != "a-secret-of-some-forty-characters-x" {
		t.Errorf("credentials = %+v, %v", c, err)
	}
	long := strings.Repeat("s", 2*basicStack)
	for _, value := range []string{
		"Basic " + base64.StdEncoding.EncodeToString([]byte("id:"+long)),
		"Basic " + base64.StdEncoding.EncodeToString([]byte("id%41:"+long[:basicStack/2])),
	} {
		r.Header.Set("Authorization", value)
		raw, _ := base64.StdEncoding.DecodeString(strings.TrimPrefix(value, "Basic "))
		id, secret, _ := strings.Cut(string(raw), ":")
		id, _ = url.QueryUnescape(id)
		if c, err := credentials(r, form); err != nil || c.BasicID != id || c.BasicSecret != secret {
			t.Errorf("credentials(%d-byte value) = %q, %d-byte secret, %v", len(value), c.BasicID, len(c.BasicSecret), err)
		}
	}
	for _, value := range []string{"Basic !!!", "Basic " + base64.StdEncoding.EncodeToString([]byte("no-colon")), "Basic " + base64.StdEncoding.EncodeToString([]byte("a%zz:b")), "Basic " + base64.StdEncoding.EncodeToString([]byte("a:%")), "Basic " + strings.Repeat("!", 2*basicStack)} {
		r.Header.Set("Authorization", value)
		var oe *oauth.Error
		if _, err := credentials(r, form); !errors.As(err, &oe) || oe.Code != oauth.CodeInvalidClient || oe.Description != oauth.ClientAuthFailed {
			t.Errorf("credentials(%.30q) = %v, want invalid_client", value, err)
		}
	}
}

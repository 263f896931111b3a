package httpapi

import (
	"encoding/json"
	"testing"

	"github.com/pargate/pargate/pkg/oauth"
)

// The pushed authorization response (RFC 9126 §2.2) is written by hand: the same
// bytes as json.Marshal of the oauth.PushResult, for a request_uri as pargate makes
// them and for any other string (escaped as encoding/json escapes it).
func TestPushBody_SameBytesAsEncodingJSON(t *testing.T) {
	for _, res := range []oauth.PushResult{
		{RequestURI: oauth.RequestURIPrefix + "bwc4JK-ESC0w8acc191e-Y1LTC2aBcdefghijklmno_-", ExpiresIn: 60},
		{RequestURI: "", ExpiresIn: 0},
		{RequestURI: "<&>\"\\\u2028\x00\xffé", ExpiresIn: 599},
	} {
		want, err := json.Marshal(res)
		if err != nil {
			t.Fatal(err)
		}
		p := pushBody(res)
		if got := p.appendJSON(nil); string(got) != string(want) {
			t.Errorf("%q, want %q", got, want)
		}
	}
}

// FuzzPushBody_RFC9126_2_2: for any request_uri and expires_in the hand-written body
// is json.Marshal's.
func FuzzPushBody_RFC9126_2_2(f *testing.F) {
	f.Add(oauth.RequestURIPrefix+"abc", 60)
	f.Add("\x7f<\u2029", -1)
	f.Fuzz(func(t *testing.T, uri string, expiresIn int) {
		res := oauth.PushResult{RequestURI: uri, ExpiresIn: expiresIn}
		want, _ := json.Marshal(res)
		p := pushBody(res)
		if got := p.appendJSON(nil); string(got) != string(want) {
			t.Fatalf("%q, want %q", got, want)
		}
	})
}

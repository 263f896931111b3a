package federation_test

import (
	"context"
	"crypto/subtle"
	"errors"
	"net/url"
	"strings"
	"testing"

	"github.com/pargate/pargate/pkg/oauth"
)

// FuzzFinishQuery feeds Finish arbitrary callback queries, in which STATE, CODE and
// ISS stand for the real values (so the fuzzer reaches the exchange): Finish never
// panics, fails only with the package's three kinds of error, and never succeeds
// unless the query carries this transaction's state (RFC 6749 §10.12) and the
// upstream's iss (RFC 9207).
func FuzzFinishQuery(f *testing.F) {
	for _, seed := range []string{
		"code=CODE&state=STATE&iss=ISS",
		"code=CODE&state=STATE",
		"code=CODE&state=STATE&state=STATE&iss=ISS",
		"code=CODE&state=STATEx&iss=ISS",
		"error=access_denied&state=STATE&iss=ISS",
		"error=access_denied&error=login_required&state=STATE&iss=ISS",
		"error=%00&state=STATE&iss=ISS",
		"code=&state=&iss=",
		"state=STATE&iss=ISS%2F&code=CODE",
		"%zz=1&code=CODE",
		"",
	} {
		f.Add(seed)
	}
	op := newOP(f)
	c := newClient(op)
	p := op.provider()
	start, err := c.Begin(context.Background(), p, callback, oauth.UpstreamAsk{})
	if err != nil {
		f.Fatal(err)
	}
	good := op.authorize(start.AuthorizationURL)
	f.Fuzz(func(t *testing.T, raw string) {
		// A fresh code per run, so a right query can succeed each time.
		code := op.issueCode(good.Get("code"))
		raw = strings.NewReplacer("STATE", url.QueryEscape(start.State), "CODE", code, "ISS", url.QueryEscape(op.issuer())).Replace(raw)
		q, _ := url.ParseQuery(raw)
		id, err := c.Finish(context.Background(), p, start, callback, q)
		if err != nil {
			var ue *oauth.UpstreamError
			if !errors.Is(err, oauth.ErrUpstreamInvalid) && !errors.Is(err, oauth.ErrUpstreamUnavailable) && !errors.As(err, &ue) {
				t.Fatalf("Finish(%q) error of an unknown kind: %v", raw, err)
			}
			if ue != nil && (len(q["state"]) != 1 || subtle.ConstantTimeCompare([]byte(q.Get("state")), []byte(start.State)) != 1) {
				t.Fatalf("Finish(%q) passed an upstream error on without the state", raw)
			}
			return
		}
		if len(q["state"]) != 1 || q.Get("state") != start.State || len(q["iss"]) != 1 || q.Get("iss") != op.issuer() {
			t.Fatalf("Finish(%q) succeeded without this transaction's state and iss", raw)
		}
		if id.Subject != "user-1" {
			t.Fatalf("Finish(%q) = %+v", raw, id)
		}
	})
}

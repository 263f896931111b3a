package oauth

import (
	"strings"
	"testing"
)

func TestPasswordHash_RoundTripAndRejects(t *testing.T) {
	h, err := HashPassword("s3cret pass")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(h, "$argon2id$v=19$m=19456,t=2,p=1$") {
		t.Errorf("hash %q is not an argon2id PHC string with the OWASP parameters", h)
	}
	if ok, err := VerifyPassword(h, "s3cret pass"); !ok || err != nil {
		t.Errorf("right password: %v %v", ok, err)
	}
	if ok, _ := VerifyPassword(h, "s3cret pasS"); ok {
		t.Error("wrong password accepted")
	}
	for _, bad := range []string{"", "$argon2i$v=19$m=1,t=1,p=1$AA$AA", "$argon2id$v=19$m=99999999,t=2,p=1$AAAA$AAAA", "plain"} {
		if ok, err := VerifyPassword(bad, "x"); ok || err == nil {
			t.Errorf("malformed hash %q: ok=%v err=%v", bad, ok, err)
		}
	}
}

// RFC 7636 Appendix B.
func TestPKCE_S256AppendixB(t *testing.T) {
	v, c := "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk", "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
	if !verifyS256(v, c) || !validPKCEValue(v) || !validS256Challenge(c) {
		t.Fatal("RFC 7636 Appendix B example does not verify")
	}
	if verifyS256(v+"x", c) {
		t.Error("other verifier accepted")
	}
	for _, bad := range []string{strings.Repeat("a", 42), strings.Repeat("a", 129), strings.Repeat("a", 42) + "!"} {
		if validPKCEValue(bad) {
			t.Errorf("verifier %q accepted", bad)
		}
	}
}

func TestParseScope_RFC6749Section3_3(t *testing.T) {
	got, err := parseScope(" openid  profile openid ")
	if err != nil || strings.Join(got, ",") != "openid,profile" {
		t.Errorf("parseScope: %v %v", got, err)
	}
	for _, bad := range []string{"open\"id", "a\\b", "caf\u00e9", "tab\there"} {
		if _, err := parseScope(bad); err == nil || err.Code != CodeInvalidScope {
			t.Errorf("scope %q: %v", bad, err)
		}
	}
}

func TestAsError_HidesUnknownCauses(t *testing.T) {
	e := AsError(errString("dynamodb: connection refused at 10.0.0.1"))
	if e.Code != CodeServerError || strings.Contains(e.Description, "10.0.0.1") {
		t.Errorf("unknown error leaks: %+v", e)
	}
	if e := AsError(wrap(ErrUnavailable)); e.Code != CodeTemporarilyUnavailable {
		t.Errorf("outage: %+v", e)
	}
	orig := InvalidRequest("x")
	if AsError(orig) != orig {
		t.Error("protocol errors must pass through")
	}
	if orig.WithRedirect() == orig || orig.Redirect {
		t.Error("WithRedirect must copy")
	}
}

type errString string

func (e errString) Error() string { return string(e) }

type wrapped struct{ err error }

func (w wrapped) Error() string { return "wrapped: " + w.err.Error() }
func (w wrapped) Unwrap() error { return w.err }
func wrap(err error) error      { return wrapped{err} }

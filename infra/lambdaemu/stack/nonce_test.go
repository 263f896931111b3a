package stack_test

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/pargate/pargate/infra/lambdaemu"
	"github.com/pargate/pargate/infra/lambdaemu/stack"
	"github.com/pargate/pargate/pkg/secrets"
)

// startWith runs the function's bootstrap as start does, with extra variables.
func startWith(tb testing.TB, name string, extra map[string]string) *stack.Function {
	tb.Helper()
	a := setup(tb)
	ep, err := a.NewEndpoint()
	if err != nil {
		tb.Fatal(err)
	}
	fn, err := a.Function(name, ep.URL)
	if err != nil {
		tb.Fatal(err)
	}
	for k, v := range extra {
		fn.Env[k] = v
	}
	fn.Bootstrap = bootstraps[name]
	rt, err := lambdaemu.Start(context.Background(), fn)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		if tb.Failed() {
			tb.Logf("%s output:\n%s", name, rt.Logs())
		}
		_ = rt.Close()
	})
	return &stack.Function{Runtime: rt, AWS: ep}
}

func secretValue(tb testing.TB, a *stack.AWS, id string) string {
	tb.Helper()
	sm := secretsmanager.New(secretsmanager.Options{Region: stack.Region, BaseEndpoint: aws.String(a.MotoEndpoint),
		Credentials: credentials.NewStaticCredentialsProvider("local", "local", "")})
	out, err := sm.GetSecretValue(context.Background(), &secretsmanager.GetSecretValueInput{SecretId: aws.String(id)})
	if err != nil {
		tb.Fatal(err)
	}
	return aws.ToString(out.SecretString)
}

// nonces are the DPoP nonces of this window and the one before under key
// (pkg/oauth/dpopnonce.go).
func nonces(key [32]byte) []string {
	var out []string
	w := time.Now().Unix() / 60
	for _, win := range []int64{w, w - 1} {
		mac := hmac.New(sha256.New, key[:])
		mac.Write([]byte("pargate-dpop-nonce"))
		var b [8]byte
		binary.BigEndian.PutUint64(b[:], uint64(win))
		mac.Write(b[:])
		out = append(out, base64.RawURLEncoding.EncodeToString(mac.Sum(nil)[:18]))
	}
	return out
}

func header(h map[string]string, name string) string {
	for k, v := range h {
		if strings.EqualFold(k, name) {
			return v
		}
	}
	return ""
}

// TestFunctions_DPoPNonceKeyFromItsOwnSecret: with DPOP_NONCE=true the par and token
// functions, each in its own process, key their nonces with the key derived from
// DPOP_NONCE_SECRET_ID under its own label (template.yaml DpopNonceSecret), so they
// agree with each other, and not with the cookie secret.
func TestFunctions_DPoPNonceKeyFromItsOwnSecret(t *testing.T) {
	a := setup(t)
	on := map[string]string{"DPOP_NONCE": "true"}
	par, token := startWith(t, "par", on), startWith(t, "token", on)

	pushed := send(t, par, request(t, "par.json"))
	wantStatus(t, pushed, http.StatusCreated)
	fromPar := header(pushed.Headers, "DPoP-Nonce")
	exchanged := send(t, token, request(t, "token.json")) // no such code: refused, after client authentication
	fromToken := header(exchanged.Headers, "DPoP-Nonce")
	if fromPar == "" || fromToken == "" {
		t.Fatalf("DPoP-Nonce: par %q, token %q; want both set", fromPar, fromToken)
	}

	want := nonces(secrets.DeriveKey([]byte(secretValue(t, a, a.DPoPNonceSecretID)), secrets.DPoPNonceKeyLabel))
	for fn, got := range map[string]string{"par": fromPar, "token": fromToken} {
		if got != want[0] && got != want[1] {
			t.Errorf("%s: nonce %q is not keyed by the DPoP nonce secret", fn, got)
		}
		cookie := []byte(secretValue(t, a, a.CookieSecretID))
		for _, k := range [][32]byte{sha256.Sum256(cookie), secrets.DeriveCookieKey(cookie)} {
			if n := nonces(k); got == n[0] || got == n[1] {
				t.Errorf("%s: nonce %q is keyed by the cookie secret", fn, got)
			}
		}
	}
}

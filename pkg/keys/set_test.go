package keys

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/go-jose/go-jose/v4"
)

func mustGenerate(tb testing.TB, alg string) jose.JSONWebKey {
	tb.Helper()
	k, err := Generate(alg)
	if err != nil {
		tb.Fatalf("Generate(%s): %v", alg, err)
	}
	return k
}

func mustSet(tb testing.TB, keys ...jose.JSONWebKey) *Set {
	tb.Helper()
	s, err := NewSet(keys...)
	if err != nil {
		tb.Fatalf("NewSet: %v", err)
	}
	return s
}

func marshalKeys(tb testing.TB, keys ...jose.JSONWebKey) []byte {
	tb.Helper()
	b, err := json.Marshal(jose.JSONWebKeySet{Keys: keys})
	if err != nil {
		tb.Fatalf("marshal keys: %v", err)
	}
	return b
}

func TestGenerate_KeyPerAlgorithm(t *testing.T) {
	for _, alg := range Algorithms() {
		t.Run(alg, func(t *testing.T) {
			k := mustGenerate(t, alg)
			if k.Algorithm != alg || k.Use != "sig" {
				t.Errorf("alg, use = %q, %q; want %q, sig", k.Algorithm, k.Use, alg)
			}
			if k.IsPublic() {
				t.Error("generated key is public, want private")
			}
			switch priv := k.Key.(type) {
			case *rsa.PrivateKey:
				if alg == ES256 || priv.N.BitLen() != 2048 {
					t.Errorf("%s: RSA key of %d bits", alg, priv.N.BitLen())
				}
			case *ecdsa.PrivateKey:
				if alg != ES256 || priv.Curve != elliptic.P256() {
					t.Errorf("%s: EC key on %s", alg, priv.Curve.Params().Name)
				}
			case ed25519.PrivateKey:
				// RFC 8037 §3.1; FAPI 2.0 §5.4.1: "EdDSA (using the Ed25519 variant)".
				if alg != EdDSA || len(priv) != ed25519.PrivateKeySize {
					t.Errorf("%s: Ed25519 key of %d bytes", alg, len(priv))
				}
			default:
				t.Errorf("key type %T", k.Key)
			}
			// RFC 7638 §3: the thumbprint is over the required public members only.
			tp, err := k.Thumbprint(crypto.SHA256)
			if err != nil {
				t.Fatal(err)
			}
			if want := base64.RawURLEncoding.EncodeToString(tp); k.KeyID != want {
				t.Errorf("kid = %q, want thumbprint %q", k.KeyID, want)
			}
		})
	}
}

func TestGenerate_RejectsUnsupportedAlgorithm(t *testing.T) {
	for _, alg := range []string{"", "HS256", "RS512", "ES384", "Ed25519", "none"} {
		if _, err := Generate(alg); err == nil {
			t.Errorf("Generate(%q) succeeded, want error", alg)
		}
	}
}

func TestParseSet_RoundTripKeepsOrder(t *testing.T) {
	a, b, c, d := mustGenerate(t, ES256), mustGenerate(t, RS256), mustGenerate(t, PS256), mustGenerate(t, EdDSA)
	data, err := mustSet(t, a, b, c, d).MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	got, err := ParseSet(data)
	if err != nil {
		t.Fatalf("ParseSet: %v", err)
	}
	if kids, want := got.KeyIDs(), []string{a.KeyID, b.KeyID, c.KeyID, d.KeyID}; !slices.Equal(kids, want) {
		t.Errorf("kids = %v, want %v", kids, want)
	}
	if got.Active().KeyID != a.KeyID {
		t.Errorf("active = %q, want the first key %q", got.Active().KeyID, a.KeyID)
	}
	if algs := got.Algorithms(); !slices.Equal(algs, []string{ES256, RS256, PS256, EdDSA}) {
		t.Errorf("Algorithms() = %v", algs)
	}
}

func TestParseSet_AcceptsHandWrittenKid(t *testing.T) {
	k := mustGenerate(t, ES256)
	k.KeyID = "2026-01-signing"
	if _, err := ParseSet(marshalKeys(t, k)); err != nil {
		t.Fatalf("ParseSet: %v", err)
	}
}

func TestParseSet_Rejects(t *testing.T) {
	es := mustGenerate(t, ES256)
	rs := mustGenerate(t, RS256)

	small, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		t.Fatal(err)
	}
	p384, err := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	with := func(k jose.JSONWebKey, f func(*jose.JSONWebKey)) jose.JSONWebKey { f(&k); return k }
	other := mustGenerate(t, ES256).Key.(*ecdsa.PrivateKey)
	// other's private scalar under es's public point: built by replacing the public
	// half, as writing the deprecated D field (SA1019) is no longer the way.
	mismatched := *other
	mismatched.PublicKey = es.Key.(*ecdsa.PrivateKey).PublicKey
	ed := mustGenerate(t, EdDSA)
	// another Ed25519 seed under ed's public half.
	edMismatched := slices.Concat(mustGenerate(t, EdDSA).Key.(ed25519.PrivateKey).Seed(), ed.Key.(ed25519.PrivateKey).Public().(ed25519.PublicKey))

	tests := []struct {
		name string
		data []byte
		want string
	}{
		{name: "not JSON", data: []byte("hunter2-placeholder"), want: "parse key set"},
		{name: "no keys member", data: []byte(`{}`), want: "no keys"},
		{name: "empty keys", data: []byte(`{"keys":[]}`), want: "no keys"},
		{name: "public key only", data: marshalKeys(t, es.Public()), want: "private key"},
		{name: "symmetric key", data: []byte(`{"keys":[{"kty":"oct","kid":"h","alg":"HS256","use":"sig","k":"c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0LXNlY3JldA"}]}`), want: "unsupported alg"},
		{name: "unsupported alg", data: marshalKeys(t, with(rs, func(k *jose.JSONWebKey) { k.Algorithm = "RS512" })), want: "unsupported alg"},
		{name: "no alg", data: marshalKeys(t, with(rs, func(k *jose.JSONWebKey) { k.Algorithm = "" })), want: "unsupported alg"},
		{name: "alg of another key type", data: marshalKeys(t, with(rs, func(k *jose.JSONWebKey) { k.Algorithm = ES256 })), want: "EC private key"},
		{name: "RSA below 2048 bits", data: marshalKeys(t, jose.JSONWebKey{Key: small, KeyID: "small", Algorithm: RS256, Use: "sig"}), want: "1024 bits"},
		{name: "ES256 on P-384", data: marshalKeys(t, jose.JSONWebKey{Key: p384, KeyID: "p384", Algorithm: ES256, Use: "sig"}), want: "P-256"},
		{name: "EC d not matching x, y", data: marshalKeys(t, with(es, func(k *jose.JSONWebKey) { k.Key = &mismatched })), want: "does not match"},
		{name: "Ed25519 d not matching x", data: marshalKeys(t, with(ed, func(k *jose.JSONWebKey) { k.Key = ed25519.PrivateKey(edMismatched) })), want: "does not match"},
		{name: "EdDSA on an EC key", data: marshalKeys(t, with(es, func(k *jose.JSONWebKey) { k.Algorithm = EdDSA })), want: "Ed25519 private key"},
		{name: "no kid", data: marshalKeys(t, with(es, func(k *jose.JSONWebKey) { k.KeyID = "" })), want: "no kid"},
		{name: "encryption key", data: marshalKeys(t, with(es, func(k *jose.JSONWebKey) { k.Use = "enc" })), want: `want "sig"`},
		{name: "no use", data: marshalKeys(t, with(es, func(k *jose.JSONWebKey) { k.Use = "" })), want: `want "sig"`},
		{name: "duplicate kid", data: marshalKeys(t, es, with(rs, func(k *jose.JSONWebKey) { k.KeyID = es.KeyID })), want: "duplicate kid"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseSet(tt.data)
			if err == nil {
				t.Fatal("ParseSet succeeded, want error")
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q does not mention %q", err, tt.want)
			}
		})
	}
}

// privateMembers are the JWK members that carry private key material (RFC 7518 §6.2.2,
// §6.3.2, §6.4.1).
var privateMembers = []string{"d", "p", "q", "dp", "dq", "qi", "oth", "k"}

func TestPublicJSON_HasNoPrivateParts(t *testing.T) {
	set := mustSet(t, mustGenerate(t, RS256), mustGenerate(t, ES256), mustGenerate(t, PS256))
	var doc struct {
		Keys []map[string]any `json:"keys"`
	}
	if err := json.Unmarshal(set.PublicJSON(), &doc); err != nil {
		t.Fatal(err)
	}
	if len(doc.Keys) != 3 {
		t.Fatalf("%d keys published, want 3", len(doc.Keys))
	}
	for i, k := range doc.Keys {
		for _, m := range privateMembers {
			if _, ok := k[m]; ok {
				t.Errorf("published key %d has private member %q", i, m)
			}
		}
		want := set.Keys()[i]
		if k["kid"] != want.KeyID || k["alg"] != want.Algorithm || k["use"] != "sig" {
			t.Errorf("published key %d: kid, alg, use = %v, %v, %v; want %s, %s, sig", i, k["kid"], k["alg"], k["use"], want.KeyID, want.Algorithm)
		}
	}
	// The private set does have them, so the check above can fail.
	priv, err := set.MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(priv), `"d":`) {
		t.Error(`private set has no "d" member: the test above proves nothing`)
	}
	for i, k := range set.Public().Keys {
		if !k.IsPublic() {
			t.Errorf("Public().Keys[%d] is not public (%T)", i, k.Key)
		}
	}
}

func TestVerify_Rejects(t *testing.T) {
	rs := mustGenerate(t, RS256)
	set := mustSet(t, rs)
	good, err := signWith(rs, "JWT", []byte(`{"sub":"alice"}`))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := set.Verify(good); err != nil {
		t.Fatalf("Verify(good token): %v", err)
	}

	stranger, err := signWith(mustGenerate(t, ES256), "JWT", []byte(`{"sub":"alice"}`))
	if err != nil {
		t.Fatal(err)
	}
	parts := strings.Split(good, ".")
	tampered := parts[0] + "." + base64.RawURLEncoding.EncodeToString([]byte(`{"sub":"admin"}`)) + "." + parts[2]
	// Same RSA key and kid, but PS256 instead of the key's RS256.
	ps := rs
	ps.Algorithm = PS256
	otherAlg, err := signWith(ps, "JWT", []byte(`{"sub":"alice"}`))
	if err != nil {
		t.Fatal(err)
	}
	for name, token := range map[string]string{"unknown key": stranger, "tampered payload": tampered, "alg not the key's": otherAlg, "garbage": "a.b.c"} {
		if _, err := set.Verify(token); err == nil {
			t.Errorf("%s: Verify succeeded, want error", name)
		}
	}

	// A JWKS whose key names no alg does not let the token choose one.
	noAlg := rs.Public()
	noAlg.Algorithm = ""
	if _, err := VerifyJWKS(marshalKeys(t, noAlg), good); err == nil {
		t.Error("VerifyJWKS accepted a key without alg")
	}
	if _, err := VerifyJWKS([]byte("not json"), good); err == nil {
		t.Error("VerifyJWKS accepted a broken JWKS")
	}
}

// FAPI 2.0 Security Profile §5.4.1 item 1: "use PS256, ES256, or EdDSA (using the
// Ed25519 variant) algorithms". A set holding any other key, in any role, is refused
// with the key's kid.
func TestSet_CheckAlgorithms_FAPI2_5_4_1_NamesTheKey(t *testing.T) {
	rs := mustGenerate(t, RS256)
	for _, tc := range []struct {
		name string
		set  *Set
		role string
	}{
		{"active", mustSet(t, rs, mustGenerate(t, ES256)), "the active key"},
		{"successor", mustSet(t, mustGenerate(t, ES256), rs), "the successor"},
		{"retired", mustSet(t, mustGenerate(t, ES256), mustGenerate(t, PS256), rs), "a retired key"},
	} {
		err := tc.set.CheckAlgorithms(FAPIAlgorithms())
		if err == nil || !strings.Contains(err.Error(), rs.KeyID) || !strings.Contains(err.Error(), tc.role) || !strings.Contains(err.Error(), "RS256") {
			t.Errorf("%s: %v, want an error naming kid %s, %q and RS256", tc.name, err, rs.KeyID, tc.role)
		}
	}
	ok := mustSet(t, mustGenerate(t, ES256), mustGenerate(t, PS256), mustGenerate(t, EdDSA))
	if err := ok.CheckAlgorithms(FAPIAlgorithms()); err != nil {
		t.Errorf("PS256, ES256, EdDSA: %v", err)
	}
	if slices.Contains(FAPIAlgorithms(), RS256) || !slices.Contains(FAPIAlgorithms(), FAPIDefaultAlgorithm) {
		t.Errorf("FAPIAlgorithms %v, default %s", FAPIAlgorithms(), FAPIDefaultAlgorithm)
	}
	// OIDC Core §15.1: RS256 stays the default outside the profile.
	if DefaultAlgorithm != RS256 {
		t.Errorf("DefaultAlgorithm = %s, want RS256", DefaultAlgorithm)
	}
}

package admin_test

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/go-jose/go-jose/v4"

	"github.com/pargate/pargate/pkg/admin"
	"github.com/pargate/pargate/pkg/keys"
	"github.com/pargate/pargate/pkg/secrets"
	"github.com/pargate/pargate/pkg/secrets/secretstest"
)

// rotation is what keys rotate prints.
type rotation struct {
	Secret       string             `json:"secret"`
	VersionID    string             `json:"version_id"`
	RotatedBy    string             `json:"rotated_by"`
	Finished     bool               `json:"finished"`
	PreviousKIDs []string           `json:"previous_kids"`
	ActiveKID    string             `json:"active_kid"`
	KIDs         []string           `json:"kids"`
	JWKS         jose.JSONWebKeySet `json:"jwks"`
}

func (h *harness) rotate(tb testing.TB, secretID string, args ...string) rotation {
	tb.Helper()
	var out rotation
	r := h.run("", append([]string{"keys", "rotate", "--keys-secret", secretID}, args...)...).ok(tb, &out)
	noPrivateKeys(tb, r.stdout)
	return out
}

// noPrivateKeys fails if out holds a private JWK member (RFC 7518 §6.2.2, §6.3.2).
func noPrivateKeys(tb testing.TB, out string) {
	tb.Helper()
	for _, member := range []string{`"d"`, `"p"`, `"q"`, `"dp"`, `"dq"`, `"qi"`} {
		if strings.Contains(out, member+":") {
			tb.Errorf("output has the private key member %s:\n%s", member, out)
		}
	}
}

func kids(set jose.JSONWebKeySet) []string {
	var ids []string
	for _, k := range set.Keys {
		ids = append(ids, k.KeyID)
	}
	return ids
}

// Without a rotation function (here: moto, no Lambda), keys rotate runs the rotation
// steps itself; the JWKS it leaves publishes the previous keys and the new one.
func TestKeysRotate_InProcessPublishesThePreviousAndTheNewKeys(t *testing.T) {
	h := newHarness(t)
	sm, id := h.newSecret(`{"keys":[]}`) // the placeholder template.yaml creates the secret with

	first := h.rotate(t, id)
	if first.RotatedBy != admin.RotatedInProcess || !first.Finished || first.Secret != id {
		t.Errorf("first rotation = %+v", first)
	}
	if len(first.PreviousKIDs) != 0 || len(first.KIDs) != 2 || first.ActiveKID != first.KIDs[0] {
		t.Errorf("first rotation of a placeholder: previous %v, kids %v, active %s; want none, active and successor",
			first.PreviousKIDs, first.KIDs, first.ActiveKID)
	}

	second := h.rotate(t, id)
	if !slices.Equal(second.PreviousKIDs, first.KIDs) {
		t.Errorf("previous_kids = %v, want the first set %v", second.PreviousKIDs, first.KIDs)
	}
	published := kids(second.JWKS)
	if !slices.Equal(published, second.KIDs) {
		t.Errorf("jwks kids %v, kids %v", published, second.KIDs)
	}
	var added []string
	for _, kid := range published {
		if !slices.Contains(first.KIDs, kid) {
			added = append(added, kid)
		}
	}
	for _, kid := range first.KIDs {
		if !slices.Contains(published, kid) {
			t.Errorf("previous key %s is no longer published: tokens it signed would stop verifying", kid)
		}
	}
	if len(added) != 1 {
		t.Errorf("the second rotation added keys %v, want exactly one new successor", added)
	}
	// keys.Rotate: the successor published by the first rotation signs now.
	if second.ActiveKID != first.KIDs[1] {
		t.Errorf("active key %s, want the first rotation's successor %s", second.ActiveKID, first.KIDs[1])
	}
	for _, k := range second.JWKS.Keys {
		if !k.IsPublic() || k.Use != "sig" || k.Algorithm != keys.RS256 {
			t.Errorf("published key %s: public %v, use %q, alg %q", k.KeyID, k.IsPublic(), k.Use, k.Algorithm)
		}
	}

	// Secrets Manager's bookkeeping is as after a rotation by the function.
	st := secretstest.VersionStages(t, sm, id)
	if !slices.Contains(st[second.VersionID], secrets.StageCurrent) || !slices.Contains(st[first.VersionID], "AWSPREVIOUS") {
		t.Errorf("version stages %v: want %s AWSCURRENT and %s AWSPREVIOUS", st, second.VersionID, first.VersionID)
	}
	for v, s := range st {
		if slices.Contains(s, secrets.StagePending) {
			t.Errorf("version %s is left AWSPENDING: %v", v, s)
		}
	}

	// keys show prints the same JWKS, and a token the functions sign verifies with it.
	h.env[admin.EnvKeysSecret] = id // the functions' variable works as well as the flag
	r := h.run("", "keys", "show").ok(t, nil)
	noPrivateKeys(t, r.stdout)
	var shown jose.JSONWebKeySet
	if err := json.Unmarshal([]byte(r.stdout), &shown); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(kids(shown), second.KIDs) {
		t.Errorf("keys show kids %v, want %v", kids(shown), second.KIDs)
	}
	token, err := keys.NewSigner(secrets.NewSource(sm, id)).Sign(t.Context(), "at+jwt", map[string]string{"sub": "alice"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := keys.VerifyJWKS([]byte(r.stdout), token); err != nil {
		t.Errorf("a token signed with the rotated secret does not verify with keys show's JWKS: %v", err)
	}
}

func TestKeysRotate_AlgorithmIsTheFlagsTheEnvironmentsOrTheNewestKeys(t *testing.T) {
	h := newHarness(t)
	_, id := h.newSecret(`{"keys":[]}`)
	algs := func(r rotation) []string {
		var out []string
		for _, k := range r.JWKS.Keys {
			out = append(out, k.Algorithm)
		}
		return out
	}

	if r := h.rotate(t, id, "--alg", keys.ES256); !slices.Equal(algs(r), []string{keys.ES256, keys.ES256}) {
		t.Errorf("--alg ES256: algorithms %v", algs(r))
	}
	// No flag, no KEY_ALG: the deployment's algorithm, read from the newest key.
	if r := h.rotate(t, id); !slices.Equal(algs(r), []string{keys.ES256, keys.ES256, keys.ES256}) {
		t.Errorf("without --alg after ES256: algorithms %v", algs(r))
	}
	h.env[admin.EnvKeyAlg] = keys.PS256
	if r := h.rotate(t, id); algs(r)[1] != keys.PS256 {
		t.Errorf("KEY_ALG=PS256: the new successor has %s", algs(r)[1])
	}
	h.run("", "keys", "rotate", "--keys-secret", id, "--alg", "HS256").fails(t, admin.ExitUsage, "not supported")
}

// A rotation that stopped after createSecret (a version staged AWSPENDING, not
// AWSCURRENT) is finished, not abandoned for a new one.
func TestKeysRotate_ResumesAnUnfinishedRotation(t *testing.T) {
	h := newHarness(t)
	sm, id := h.newSecret(`{"keys":[]}`)
	h.rotate(t, id)
	current, err := secrets.LoadKeySet(t.Context(), sm, id)
	if err != nil {
		t.Fatal(err)
	}
	pending, value := secretstest.Rotated(t, current, keys.RS256, h.now())
	const token = "0123456789abcdef0123456789abcdef"
	_, err = sm.PutSecretValue(t.Context(), &secretsmanager.PutSecretValueInput{
		SecretId:           aws.String(id),
		ClientRequestToken: aws.String(token),
		SecretString:       aws.String(value),
		VersionStages:      []string{secrets.StagePending},
	})
	if err != nil {
		t.Fatal(err)
	}

	r := h.rotate(t, id)
	if r.VersionID != token {
		t.Errorf("rotated to version %s, want the pending %s", r.VersionID, token)
	}
	if !slices.Equal(r.KIDs, pending.KeyIDs()) {
		t.Errorf("current kids %v, want the pending set's %v", r.KIDs, pending.KeyIDs())
	}
}

func TestKeys_Errors(t *testing.T) {
	h := newHarness(t)
	_, placeholder := h.newSecret(`{"keys":[]}`)
	_, broken := h.newSecret(`{"keys":[{"kty":"oct","k":"c2VjcmV0"}]}`)

	h.run("", "keys", "show", "--keys-secret", placeholder).fails(t, admin.ExitError, "holds no signing keys yet")
	h.run("", "keys", "show", "--keys-secret", "no-such-secret").fails(t, admin.ExitError, "describe secret no-such-secret")
	h.run("", "keys", "rotate", "--keys-secret", "no-such-secret").fails(t, admin.ExitError, "describe secret no-such-secret")
	h.run("", "keys", "show").fails(t, admin.ExitUsage, "no keys secret: set --keys-secret or KEYS_SECRET_ID")
	h.run("", "keys", "rotate").fails(t, admin.ExitUsage, "no keys secret")
	// A current value with keys that do not parse is never rotated past: its keys
	// may still be in use.
	h.run("", "keys", "rotate", "--keys-secret", broken).fails(t, admin.ExitError, "secret "+broken)
}

// Package keys holds the server's signing keys: generating and validating them, the
// JWK Set they are stored as, the public JWKS published at /jwks, and the Signer that
// mints access and ID tokens with them (docs/design.md decision 12).
//
// # Key set format
//
// A key set is a JWK Set (RFC 7517 §5) of private keys, the same JSON in the Secrets
// Manager secret and in a local keys file:
//
//	{"keys":[{"kty":"RSA","kid":"…","alg":"RS256","use":"sig","n":"…","e":"AQAB","d":"…",…}, …]}
//
// Every key has a kid, an alg (RS256, PS256, ES256 or EdDSA with Ed25519) and "use":"sig". Position is
// meaning:
//
//   - keys[0] is the active key: every token is signed with it.
//   - keys[1], when the set was written by [Rotate], is the successor: published in the
//     JWKS now, signing from the next rotation on.
//   - the rest are retired keys, published only so that tokens they signed still verify.
//
// All keys are published; none but the first ever signs.
//
// The set also records when each key was first published, in a "published" member
// beside "keys" that maps kids to RFC 3339 times ([Set.Published]):
//
//	{"keys":[…], "published":{"<kid>":"2026-01-02T03:04:05Z", …}}
//
// [Rotate] and [Revoke] record the keys they add at the time of the rotation and keep
// the times of the keys they keep; the public JWKS never carries them. The member is
// optional, so a reader of the plain JWK Set format still reads the set, and a set
// written before times were recorded (or made by hand) has none: a key without a time
// counts as published long ago, because it was already in the JWKS of a set in
// service when that set was written. Times of kids not in the set are dropped.
//
// # Rotation: published before used
//
// A relying party caches the JWKS (often for hours) and a Lambda instance caches the
// set for [DefaultRefresh]. If a rotation made a brand-new key active at once, tokens
// signed with it would reach verifiers whose cached JWKS does not have its kid yet,
// and fail. So [Rotate] never activates a key that is not already published: it
// promotes the successor the previous rotation published, publishes a freshly
// generated successor, and keeps the outgoing key as retired so tokens it signed keep
// verifying:
//
//	before:  [A active, B successor, Z retired]
//	after:   [B active, C successor, A retired]      (Z is dropped)
//
// A new key is therefore published for a whole rotation period before it signs, and a
// retired key stays published for a whole rotation period after it stopped signing.
// This is safe as long as the rotation interval is longer than both the longest
// token lifetime and the longest JWKS cache of any verifier (days against minutes).
// Rotations need not be days apart, though: an operator may rotate twice in a row.
// So [Rotate] (and the test step's [CheckSuccessor]) refuse, with an error wrapping
// [ErrSuccessorTooNew] that says when it may, to promote a successor published less
// than [MinPublished] ago: the JWKS cache time, the max-age /jwks is served with
// ([JWKSMaxAge]) plus the signer's [DefaultRefresh], during which an instance may
// still serve the JWKS of the set before. A verifier that caches the JWKS longer than
// the server's Cache-Control allows is only covered by the rotation interval.
// The cost is one extra public key in the JWKS. While instances pick up a new set at
// different moments, both the old and the new active key are in both sets, so any
// JWKS served during the change verifies any token signed during it.
//
// The first rotation of a deployment, when the secret holds no key set yet, has
// nothing published to honour: it makes a fresh key active immediately, plus a
// successor. A hand-made set of one key gets a successor and keeps its active key;
// neither promotes a successor, so neither waits.
// [CheckSuccessor] states the rule so a rotation can test it before finishing.
//
// # Caching and Lambda cold starts
//
// Nothing here does I/O at construction. A [Signer] loads its set from a [Source] on
// first use, then re-reads it at most every refresh interval, so a rotation is picked
// up without a redeploy; when a re-read fails it keeps signing with the set it has and
// logs the failure.
package keys

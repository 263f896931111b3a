// The relying party's back channel done by hand with fetch: push, token exchange,
// JWT inspection. (openid-client.test.js does the same with a real library.)

import { createHash, randomBytes } from 'node:crypto';
import { createRemoteJWKSet, jwtVerify } from 'jose';
import { confidential } from './localapi.js';

const b64url = (buf) => Buffer.from(buf).toString('base64url');

export function pkce() {
  const verifier = b64url(randomBytes(32));
  const challenge = b64url(createHash('sha256').update(verifier).digest());
  return { verifier, challenge };
}

function basic(id, secret) {
  // RFC 6749 §2.3.1: form-urlencode both parts before Base64.
  const enc = (s) => encodeURIComponent(s).replace(/%20/g, '+');
  return 'Basic ' + Buffer.from(`${enc(id)}:${enc(secret)}`).toString('base64');
}

/**
 * Pushes an authorization request for the confidential client and returns what a
 * relying party keeps: {requestURI, expiresIn, authorizeURL, state, nonce, verifier}.
 */
export async function push(server, overrides = {}) {
  const { verifier, challenge } = pkce();
  const state = b64url(randomBytes(16));
  const nonce = b64url(randomBytes(16));
  const params = new URLSearchParams({
    response_type: 'code',
    redirect_uri: server.callback,
    scope: 'openid profile email',
    state,
    nonce,
    code_challenge: challenge,
    code_challenge_method: 'S256',
    ...overrides,
  });
  const r = await fetch(server.meta.pushed_authorization_request_endpoint, {
    method: 'POST',
    headers: { authorization: basic(confidential.id, confidential.secret) },
    body: params,
  });
  const body = await r.json();
  if (r.status !== 201) throw new Error(`/par answered ${r.status}: ${JSON.stringify(body)}`);
  const authorizeURL = new URL(server.meta.authorization_endpoint);
  authorizeURL.search = new URLSearchParams({ client_id: confidential.id, request_uri: body.request_uri }).toString();
  return {
    requestURI: body.request_uri,
    expiresIn: body.expires_in,
    authorizeURL: authorizeURL.href,
    state,
    nonce,
    verifier,
  };
}

/** Exchanges code at the token endpoint; returns {status, headers, body}. */
export async function exchange(server, code, verifier) {
  const r = await fetch(server.meta.token_endpoint, {
    method: 'POST',
    headers: { authorization: basic(confidential.id, confidential.secret) },
    body: new URLSearchParams({
      grant_type: 'authorization_code',
      code,
      redirect_uri: server.callback,
      code_verifier: verifier,
    }),
  });
  return { status: r.status, headers: r.headers, body: await r.json() };
}

/** Verifies a JWT against the server's JWKS; returns {payload, protectedHeader}. */
export async function verifyJWT(server, jwt, options = {}) {
  server.jwks ??= createRemoteJWKSet(new URL(server.meta.jwks_uri));
  return jwtVerify(jwt, server.jwks, { issuer: server.issuer, ...options });
}

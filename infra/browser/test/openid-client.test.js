// A real relying party: openid-client v6 discovers the local API, pushes the
// authorization request (PAR, PKCE, state, nonce), the browser signs in and
// approves, and openid-client redeems the code and validates the ID token.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import * as client from 'openid-client';
import { launch, missingChromium, newPage } from './lib/browser.js';
import { confidential, postClient, publicClient, startLocalAPI, user } from './lib/localapi.js';

const skip = await missingChromium();

describe('openid-client v6 as the relying party', { skip: skip || false }, () => {
  let server, browser;

  before(async () => {
    await Promise.all([startLocalAPI().then((s) => (server = s)), launch().then((b) => (browser = b))]);
  });
  after(async () => {
    await browser?.close();
    await server?.stop();
  });

  /** The user's part: sign in and allow in Chromium; returns the URL the browser landed on. */
  async function userApproves(authorizationUrl) {
    const page = await newPage(browser);
    try {
      await page.goto(authorizationUrl.href);
      await page.getByLabel('Username').fill(user.username);
      await page.getByLabel('Password').fill(user.password);
      await page.getByRole('button', { name: 'Sign in' }).click();
      await page.getByRole('button', { name: 'Allow' }).click();
      await page.waitForURL((u) => u.href.startsWith(`${server.issuer}/callback?`));
      assert.deepEqual(page.problems, []);
      return new URL(page.url());
    } finally {
      await page.context().close();
    }
  }

  /**
   * The whole flow for one client: discovery, PAR with PKCE + state + nonce, the
   * browser, the code grant. Returns openid-client's token response.
   */
  async function flow(clientId, secret, auth, scope) {
    const config = await client.discovery(new URL(server.issuer), clientId, secret, auth, {
      execute: [client.allowInsecureRequests], // the local issuer is http://127.0.0.1
    });
    const meta = config.serverMetadata();
    assert.equal(meta.issuer, server.issuer);
    assert.equal(meta.pushed_authorization_request_endpoint, `${server.issuer}/par`);
    assert.ok(meta.code_challenge_methods_supported.includes('S256'));
    assert.equal(meta.authorization_response_iss_parameter_supported, true);
    // The ID token's signature too, against the JWKS (not only the TLS-less back channel).
    client.enableNonRepudiationChecks(config);

    const pkceCodeVerifier = client.randomPKCECodeVerifier();
    const codeChallenge = await client.calculatePKCECodeChallenge(pkceCodeVerifier);
    const state = client.randomState();
    const nonce = client.randomNonce();
    const authorizationUrl = await client.buildAuthorizationUrlWithPAR(config, {
      redirect_uri: `${server.issuer}/callback`,
      scope,
      code_challenge: codeChallenge,
      code_challenge_method: 'S256',
      state,
      nonce,
    });
    // Only client_id and request_uri travel through the browser.
    assert.deepEqual([...authorizationUrl.searchParams.keys()].sort(), ['client_id', 'request_uri']);
    assert.match(authorizationUrl.searchParams.get('request_uri'), /^urn:ietf:params:oauth:request_uri:/);

    const callback = await userApproves(authorizationUrl);
    // openid-client checks state and the RFC 9207 iss parameter, PKCE at the token
    // endpoint, and the ID token's iss, aud, exp, iat, nonce and signature.
    const tokens = await client.authorizationCodeGrant(config, callback, {
      pkceCodeVerifier,
      expectedState: state,
      expectedNonce: nonce,
      idTokenExpected: true,
    });
    assert.equal(tokens.token_type.toLowerCase(), 'bearer');
    assert.ok(tokens.access_token);
    assert.ok(tokens.expiresIn() > 0);
    const claims = tokens.claims();
    assert.equal(claims.iss, server.issuer);
    assert.equal(claims.aud === clientId || (Array.isArray(claims.aud) && claims.aud.includes(clientId)), true);
    assert.equal(claims.sub, user.claims.sub);
    assert.equal(claims.nonce, nonce);
    assert.ok(claims.auth_time > 0 && claims.auth_time <= claims.iat);
    assert.equal(claims.name, user.claims.name);

    // The code is single-use: a second redemption fails.
    await assert.rejects(
      client.authorizationCodeGrant(config, callback, { pkceCodeVerifier, expectedState: state, expectedNonce: nonce }),
      (err) => err.error === 'invalid_grant' || err.cause?.error === 'invalid_grant',
    );
    return { tokens, claims };
  }

  test('confidential client, client_secret_post (openid-client default): PAR, PKCE, code grant, ID token', async () => {
    const { tokens, claims } = await flow(postClient.id, postClient.secret, undefined, 'openid profile email');
    assert.equal(claims.email, user.claims.email);
    assert.equal(claims.email_verified, true);
    assert.deepEqual(tokens.scope.split(' ').sort(), ['email', 'openid', 'profile']);
  });

  test('confidential client, client_secret_basic', async () => {
    const { claims } = await flow(confidential.id, confidential.secret, client.ClientSecretBasic(confidential.secret), 'openid profile email');
    assert.equal(claims.email, user.claims.email);
  });

  test('public client (none) with PKCE: no email claims without the email scope', async () => {
    const { tokens, claims } = await flow(publicClient.id, undefined, client.None(), 'openid profile');
    assert.equal(claims.email, undefined);
    assert.deepEqual(tokens.scope.split(' ').sort(), ['openid', 'profile']);
  });
});

// A real relying party: openid-client v6 discovers the local API, pushes the
// authorization request (PAR, PKCE, state, nonce), the browser signs in and
// approves, and openid-client redeems the code and validates the ID token. Then the
// rest of a relying party's life with the same library: userinfo, refresh (rotation,
// reuse detection), revocation and introspection, DPoP-bound codes and tokens
// (RFC 9449), DPoP server nonces, and authorization_details (RFC 9396); and a
// service's tokens of the client credentials grant (RFC 6749 §4.4).

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { X509Certificate, createHash } from 'node:crypto';
import { createServer } from 'node:http';
import { calculateJwkThumbprint, decodeJwt, exportJWK } from 'jose';
import * as client from 'openid-client';
import { Agent, fetch as undiciFetch } from 'undici';
import { launch, missingChromium, newPage, signIn } from './lib/browser.js';
import {
  confidential,
  dpopPublicClient,
  jarmClient,
  mtlsClient,
  nativeClient,
  offlineClient,
  postClient,
  publicClient,
  serviceClient,
  startLocalAPI,
  target,
  user,
} from './lib/localapi.js';
import { verifyJWT } from './lib/oauth.js';

const skip = await missingChromium();

/**
 * An assertion for assert.rejects: openid-client failed with the OAuth error code
 * (a token endpoint error body, or a WWW-Authenticate challenge of a resource).
 */
function oauthError(code) {
  return (err) => {
    const codes = [err.error, err.cause?.error];
    for (const c of Array.isArray(err.cause) ? err.cause : []) codes.push(c.parameters?.error);
    assert.ok(codes.includes(code), `want ${code}, got ${err.name}: ${err.message} ${JSON.stringify(codes)}`);
    return true;
  };
}

/** The RFC 7638 thumbprint of a DPoP key pair's public key, as cnf.jkt carries it. */
async function thumbprint(keyPair) {
  return calculateJwkThumbprint(await exportJWK(keyPair.publicKey));
}

describe('openid-client v6 as the relying party', { skip: skip || false }, () => {
  let server, browser;

  before(async () => {
    await Promise.all([startLocalAPI().then((s) => (server = s)), launch().then((b) => (browser = b))]);
  });
  after(async () => {
    await browser?.close();
    await server?.stop();
  });

  /**
   * The user's part: sign in and allow in Chromium; returns the URL the browser
   * landed on. onConsent(page) may inspect the consent page before Allow.
   */
  async function userApproves(srv, authorizationUrl, onConsent) {
    // An HTTPS server's local CA (srv.ca) is trusted by the back channel, not by Chromium.
    const page = await newPage(browser, undefined, srv.ca ? { ignoreHTTPSErrors: true } : {});
    try {
      await page.goto(authorizationUrl.href);
      await signIn(page, user);
      const allow = page.getByRole('button', { name: 'Allow' });
      await allow.waitFor();
      await onConsent?.(page);
      await allow.click();
      await page.waitForURL((u) => u.href.startsWith(`${srv.callback}?`));
      assert.deepEqual(page.problems, []);
      return new URL(page.url());
    } finally {
      await page.context().close();
    }
  }

  /**
   * openid-client's discovery of srv for one client, with the metadata checked. With
   * a log array, every later request's answer is noted there: {path, status, error,
   * nonce} (error from the JSON body or the WWW-Authenticate challenge, nonce from
   * DPoP-Nonce).
   */
  async function discover(srv, clientId, secret, auth, log) {
    const config = await client.discovery(new URL(srv.issuer), clientId, secret, auth, {
      execute: [client.allowInsecureRequests], // the local issuer is http://127.0.0.1
    });
    if (log) {
      config[client.customFetch] = async (url, options) => {
        const r = await fetch(url, options);
        let error = r.headers.get('www-authenticate')?.match(/error="([^"]+)"/)?.[1];
        if (!error && r.status === 400) error = (await r.clone().json()).error;
        log.push({ path: new URL(url).pathname, status: r.status, error, nonce: r.headers.get('dpop-nonce') });
        return r;
      };
    }
    const meta = config.serverMetadata();
    assert.equal(meta.issuer, srv.issuer);
    assert.equal(meta.pushed_authorization_request_endpoint, `${srv.issuer}/par`);
    assert.ok(meta.code_challenge_methods_supported.includes('S256'));
    assert.equal(meta.authorization_response_iss_parameter_supported, true);
    // The ID token's signature too, against the JWKS (not only the TLS-less back channel).
    client.enableNonRepudiationChecks(config);
    return config;
  }

  /**
   * PAR with PKCE + state + nonce (and options.DPoP, which sends a DPoP proof with
   * the push and so binds the code to its key; and extra parameters), then the
   * browser. Returns the callback URL and the checks authorizationCodeGrant needs.
   */
  async function pushAndApprove(srv, config, scope, { DPoP, extra = {}, onConsent } = {}) {
    const pkceCodeVerifier = client.randomPKCECodeVerifier();
    const state = client.randomState();
    const nonce = client.randomNonce();
    const authorizationUrl = await client.buildAuthorizationUrlWithPAR(
      config,
      {
        redirect_uri: srv.callback,
        scope,
        code_challenge: await client.calculatePKCECodeChallenge(pkceCodeVerifier),
        code_challenge_method: 'S256',
        state,
        nonce,
        ...extra,
      },
      { DPoP },
    );
    // Only client_id and request_uri travel through the browser.
    assert.deepEqual([...authorizationUrl.searchParams.keys()].sort(), ['client_id', 'request_uri']);
    assert.match(authorizationUrl.searchParams.get('request_uri'), /^urn:ietf:params:oauth:request_uri:/);
    const callback = await userApproves(srv, authorizationUrl, onConsent);
    return { callback, checks: { pkceCodeVerifier, expectedState: state, expectedNonce: nonce, idTokenExpected: true } };
  }

  /**
   * The whole flow for one client: discovery, PAR, the browser, the code grant.
   * openid-client checks state and the RFC 9207 iss parameter, PKCE at the token
   * endpoint, and the ID token's iss, aud, exp, iat, nonce and signature.
   */
  async function flow(clientId, secret, auth, scope, { srv = server, DPoP, extra, onConsent, log } = {}) {
    const config = await discover(srv, clientId, secret, auth, log);
    const dpop = DPoP && client.getDPoPHandle(config, DPoP);
    const { callback, checks } = await pushAndApprove(srv, config, scope, { DPoP: dpop, extra, onConsent });
    const tokens = await client.authorizationCodeGrant(config, callback, checks, undefined, { DPoP: dpop });
    assert.equal(tokens.token_type.toLowerCase(), DPoP ? 'dpop' : 'bearer');
    assert.ok(tokens.access_token);
    assert.ok(tokens.expiresIn() > 0);
    const claims = tokens.claims();
    assert.equal(claims.iss, srv.issuer);
    assert.equal(claims.aud === clientId || (Array.isArray(claims.aud) && claims.aud.includes(clientId)), true);
    assert.equal(claims.sub, user.claims.sub);
    assert.equal(claims.nonce, checks.expectedNonce);
    assert.ok(claims.auth_time > 0 && claims.auth_time <= claims.iat);
    assert.equal(claims.name, user.claims.name);

    return { config, dpop, tokens, claims, callback, checks };
  }

  /**
   * The code is single-use: a second redemption fails, and (RFC 6749 §4.1.2) revokes
   * the tokens issued from it.
   */
  async function replayRevokes({ config, tokens, claims, callback, checks }) {
    assert.equal((await client.fetchUserInfo(config, tokens.access_token, claims.sub)).sub, claims.sub);
    await assert.rejects(client.authorizationCodeGrant(config, callback, checks), oauthError('invalid_grant'));
    await assert.rejects(client.fetchUserInfo(config, tokens.access_token, claims.sub), oauthError('invalid_token'));
  }

  test('confidential client, client_secret_post (openid-client default): PAR, PKCE, code grant, ID token', async () => {
    const result = await flow(postClient.id, postClient.secret, undefined, 'openid profile email');
    const { tokens, claims } = result;
    assert.equal(claims.email, user.claims.email);
    assert.equal(claims.email_verified, true);
    assert.deepEqual(tokens.scope.split(' ').sort(), ['email', 'openid', 'profile']);
    // Not allowed the refresh_token grant: no refresh token.
    assert.equal(tokens.refresh_token, undefined);
    await replayRevokes(result);
  });

  test('confidential client, client_secret_basic', async () => {
    const result = await flow(confidential.id, confidential.secret, client.ClientSecretBasic(confidential.secret), 'openid profile email');
    assert.equal(result.claims.email, user.claims.email);
    await replayRevokes(result);
  });

  test('public client (none) with PKCE: no email claims without the email scope', async () => {
    const result = await flow(publicClient.id, undefined, client.None(), 'openid profile');
    const { tokens, claims } = result;
    assert.equal(claims.email, undefined);
    assert.deepEqual(tokens.scope.split(' ').sort(), ['openid', 'profile']);
    assert.equal(tokens.refresh_token, undefined);
    await replayRevokes(result);
  });

  test('native app (RFC 8252 §7.3): registered http://127.0.0.1/cb, the callback on a random ephemeral port', async () => {
    // The app's own loopback listener on a port the operating system picks, as a
    // native app does; it gets the authorization response.
    let received;
    const callbackReceived = new Promise((ok) => (received = ok));
    const listener = createServer((req, res) => {
      const u = new URL(req.url, 'http://127.0.0.1');
      if (u.pathname !== '/cb') {
        res.writeHead(404, { 'Content-Type': 'text/plain' }).end('not found');
        return;
      }
      received(u);
      res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8', 'Cache-Control': 'no-store' });
      res.end('<!doctype html><html lang="en"><title>Signed in</title><p>You can close this window and return to the app.</p></html>');
    });
    await new Promise((ok, fail) => listener.once('error', fail).listen(0, '127.0.0.1', ok));
    try {
      const { port } = listener.address();
      assert.ok(port > 0);
      const redirectUri = `http://127.0.0.1:${port}/cb`;
      assert.notEqual(redirectUri, nativeClient.redirect);
      const config = await discover(server, nativeClient.id, undefined, client.None());

      // Only the port is free: another path on the same port is refused at /par.
      const pkceCodeVerifier = client.randomPKCECodeVerifier();
      const params = {
        scope: 'openid profile',
        code_challenge: await client.calculatePKCECodeChallenge(pkceCodeVerifier),
        code_challenge_method: 'S256',
        state: client.randomState(),
        nonce: client.randomNonce(),
      };
      await assert.rejects(
        client.buildAuthorizationUrlWithPAR(config, { ...params, redirect_uri: `http://127.0.0.1:${port}/other` }),
        oauthError('invalid_request'),
      );

      // OIDC Core §3.1.2.1 login_hint pre-fills the username on the login page.
      const authorizationUrl = await client.buildAuthorizationUrlWithPAR(config, { ...params, redirect_uri: redirectUri, login_hint: user.username });
      const page = await newPage(browser);
      try {
        await page.goto(authorizationUrl.href);
        assert.equal(await page.getByLabel('Username').inputValue(), user.username);
        await page.getByLabel('Password').fill(user.password);
        await page.getByRole('button', { name: 'Sign in' }).click();
        await page.getByRole('button', { name: 'Allow' }).click();
        await page.waitForURL((u) => u.href.startsWith(`${redirectUri}?`));
        assert.deepEqual(page.problems, []);
      } finally {
        await page.context().close();
      }
      const callback = await callbackReceived;
      assert.equal(callback.searchParams.get('iss'), server.issuer);
      // openid-client sends redirect_uri as the URL the response came to, port included
      // (RFC 6749 §4.1.3: identical to the authorization request's).
      const currentUrl = new URL(`${callback.pathname}${callback.search}`, redirectUri);
      const tokens = await client.authorizationCodeGrant(config, currentUrl, {
        pkceCodeVerifier,
        expectedState: params.state,
        expectedNonce: params.nonce,
        idTokenExpected: true,
      });
      const claims = tokens.claims();
      assert.equal(claims.aud === nativeClient.id || (Array.isArray(claims.aud) && claims.aud.includes(nativeClient.id)), true);
      assert.equal(claims.sub, user.claims.sub);
      assert.equal(claims.nonce, params.nonce);
      assert.deepEqual(tokens.scope.split(' ').sort(), ['openid', 'profile']);
    } finally {
      await new Promise((ok) => listener.close(ok));
    }
  });

  test('native app (RFC 8252 §7.1): the response goes to its private-use URI scheme, allowed by the consent page CSP', async () => {
    const config = await discover(server, nativeClient.id, undefined, client.None());
    const pkceCodeVerifier = client.randomPKCECodeVerifier();
    const state = client.randomState();
    const authorizationUrl = await client.buildAuthorizationUrlWithPAR(config, {
      redirect_uri: nativeClient.privateUse,
      scope: 'openid profile',
      code_challenge: await client.calculatePKCECodeChallenge(pkceCodeVerifier),
      code_challenge_method: 'S256',
      state,
    });
    const page = await newPage(browser);
    let responseUrl;
    try {
      await page.goto(authorizationUrl.href);
      await signIn(page, user);
      assert.match(await page.locator('.host').innerText(), /^com\.example\.pargate$/);
      // Chromium follows the 303 to the app's scheme (and, with no app installed to
      // take it, aborts there): the CSP form-action had to allow com.example.pargate:.
      const toApp = (r) => r.url().startsWith(`${nativeClient.privateUse}?`);
      const sent = page.waitForEvent('request', toApp);
      const aborted = page.waitForEvent('requestfailed', toApp);
      await page.getByRole('button', { name: 'Allow' }).click();
      responseUrl = new URL((await sent).url());
      await aborted;
      assert.deepEqual(
        page.problems.filter((p) => p !== `request failed: ${responseUrl.href} net::ERR_ABORTED`),
        [],
        'no CSP violation on the way to the app',
      );
    } finally {
      await page.context().close();
    }
    assert.equal(responseUrl.searchParams.get('iss'), server.issuer);
    const tokens = await client.authorizationCodeGrant(config, responseUrl, { pkceCodeVerifier, expectedState: state, idTokenExpected: true });
    assert.equal(tokens.claims().sub, user.claims.sub);
  });

  const offline = () =>
    flow(offlineClient.id, offlineClient.secret, client.ClientSecretBasic(offlineClient.secret), 'openid profile email offline_access', {
      onConsent: async (page) => {
        // offline_access is asked for in words on the consent page.
        assert.match(await page.locator('main').innerText(), /Stay connected/);
      },
    });

  test('userinfo, then refresh: rotation, and reuse of a rotated refresh token revokes the family', async () => {
    const { config, tokens, claims } = await offline();
    assert.deepEqual(tokens.scope.split(' ').sort(), ['email', 'offline_access', 'openid', 'profile']);
    const rt1 = tokens.refresh_token;
    assert.ok(rt1, 'offline_access with the refresh_token grant gives a refresh token');

    // OIDC Core §5.3: openid-client checks that sub is the ID token's.
    const info = await client.fetchUserInfo(config, tokens.access_token, claims.sub);
    assert.equal(info.sub, user.claims.sub);
    assert.equal(info.name, user.claims.name);
    assert.equal(info.given_name, user.claims.given_name);
    assert.equal(info.family_name, user.claims.family_name);
    assert.equal(info.preferred_username, user.claims.preferred_username);
    assert.equal(info.email, user.claims.email);
    assert.equal(info.email_verified, true);
    // A userinfo subject other than expected is refused by openid-client itself.
    await assert.rejects(client.fetchUserInfo(config, tokens.access_token, 'someone-else'), { code: 'OAUTH_JSON_ATTRIBUTE_COMPARISON_FAILED' });

    // Refresh: new access and refresh tokens; the ID token names the same user.
    const next = await client.refreshTokenGrant(config, rt1);
    const rt2 = next.refresh_token;
    assert.ok(rt2);
    assert.notEqual(rt2, rt1, 'the refresh token is rotated');
    assert.notEqual(next.access_token, tokens.access_token);
    assert.equal(next.token_type.toLowerCase(), 'bearer');
    assert.ok(next.expiresIn() > 0);
    assert.deepEqual(next.scope.split(' ').sort(), ['email', 'offline_access', 'openid', 'profile']);
    if (next.id_token) assert.equal(next.claims().sub, user.claims.sub);
    assert.equal((await client.fetchUserInfo(config, next.access_token, claims.sub)).sub, user.claims.sub);

    // The rotated-out token is refused, and presenting it revoked the whole family
    // (RFC 9700 §4.14.2): the current refresh token and access token die with it.
    await assert.rejects(client.refreshTokenGrant(config, rt1), oauthError('invalid_grant'));
    await assert.rejects(client.refreshTokenGrant(config, rt2), oauthError('invalid_grant'));
    assert.equal((await client.tokenIntrospection(config, rt2)).active, false);
    assert.equal((await client.tokenIntrospection(config, next.access_token)).active, false);
    await assert.rejects(client.fetchUserInfo(config, next.access_token, claims.sub), oauthError('invalid_token'));
  });

  test('introspection (RFC 7662) of both tokens, then revocation (RFC 7009) of the refresh token ends the grant', async () => {
    const { config, tokens } = await offline();
    const rt = tokens.refresh_token;
    const at = tokens.access_token;

    const atInfo = await client.tokenIntrospection(config, at);
    assert.equal(atInfo.active, true);
    assert.equal(atInfo.sub, user.claims.sub);
    assert.equal(atInfo.client_id, offlineClient.id);
    assert.equal(atInfo.iss, server.issuer);
    assert.deepEqual(atInfo.scope.split(' ').sort(), ['email', 'offline_access', 'openid', 'profile']);
    assert.ok(atInfo.exp > Date.now() / 1000);
    assert.equal(atInfo.cnf, undefined, 'a bearer token has no cnf');
    const rtInfo = await client.tokenIntrospection(config, rt);
    assert.equal(rtInfo.active, true);
    assert.equal(rtInfo.client_id, offlineClient.id);
    assert.equal(rtInfo.sub, user.claims.sub);

    // Another client sees nothing of these tokens (it is no resource server).
    const other = await discover(server, postClient.id, postClient.secret);
    assert.equal((await client.tokenIntrospection(other, at)).active, false);
    // RFC 7009 §2.1: revoking another client's token is refused, and changes nothing.
    await assert.rejects(client.tokenRevocation(other, rt), oauthError('unauthorized_client'));
    assert.equal((await client.tokenIntrospection(config, rt)).active, true);

    await client.tokenRevocation(config, rt);
    assert.equal((await client.tokenIntrospection(config, rt)).active, false);
    assert.equal((await client.tokenIntrospection(config, at)).active, false, 'the grant is revoked with its refresh token');
    await assert.rejects(client.refreshTokenGrant(config, rt), oauthError('invalid_grant'));
    await assert.rejects(client.fetchUserInfo(config, at, user.claims.sub), oauthError('invalid_token'));
    // Revoking again, or an unknown token, is still 200 (RFC 7009 §2.2).
    await client.tokenRevocation(config, rt);
    await client.tokenRevocation(config, 'not-a-token-the-server-issued');
  });

  test('client credentials (RFC 6749 §4.4) with clientCredentialsGrant: a token for the client itself, DPoP-bound on request, revocable', async () => {
    const config = await discover(server, serviceClient.id, serviceClient.secret, client.ClientSecretBasic(serviceClient.secret));
    assert.ok(config.serverMetadata().grant_types_supported.includes('client_credentials'));

    // RFC 6749 §3.3: without scope, the client's scopes - openid never (no end-user).
    const tokens = await client.clientCredentialsGrant(config);
    assert.equal(tokens.token_type.toLowerCase(), 'bearer');
    assert.equal(tokens.scope, 'reports:read reports:write');
    assert.ok(tokens.expiresIn() > 0);
    // RFC 6749 §4.4.3: no refresh token; no ID token without an end-user.
    assert.equal(tokens.refresh_token, undefined);
    assert.equal(tokens.id_token, undefined);
    // RFC 9068 §2.2: sub is the client_id when no resource owner is involved.
    const { payload } = await verifyJWT(server, tokens.access_token, { typ: 'at+jwt' });
    assert.equal(payload.sub, serviceClient.id);
    assert.equal(payload.client_id, serviceClient.id);
    assert.equal(payload.auth_time, undefined);

    const narrow = await client.clientCredentialsGrant(config, { scope: 'reports:read' });
    assert.equal(narrow.scope, 'reports:read');
    await assert.rejects(client.clientCredentialsGrant(config, { scope: 'openid' }), oauthError('invalid_scope'));
    await assert.rejects(client.clientCredentialsGrant(config, { scope: 'reports:delete' }), oauthError('invalid_scope'));

    // RFC 9449 §5: with a DPoP proof the token is bound to its key (cnf.jkt).
    const keyPair = await client.randomDPoPKeyPair();
    const bound = await client.clientCredentialsGrant(config, { scope: 'reports:read' }, { DPoP: client.getDPoPHandle(config, keyPair) });
    assert.equal(bound.token_type.toLowerCase(), 'dpop');
    assert.deepEqual((await verifyJWT(server, bound.access_token, { typ: 'at+jwt' })).payload.cnf, { jkt: await thumbprint(keyPair) });

    // RFC 7662 §2.2: active, its subject the client; userinfo has no end-user to
    // describe (RFC 6750 §3.1 invalid_token).
    const info = await client.tokenIntrospection(config, tokens.access_token);
    assert.equal(info.active, true);
    assert.equal(info.sub, serviceClient.id);
    assert.equal(info.scope, 'reports:read reports:write');
    await assert.rejects(client.fetchUserInfo(config, tokens.access_token, client.skipSubjectCheck), oauthError('invalid_token'));

    // RFC 7009 §2.1: revoked, it is inactive at once; the client's other tokens are not.
    await client.tokenRevocation(config, tokens.access_token);
    assert.equal((await client.tokenIntrospection(config, tokens.access_token)).active, false);
    assert.equal((await client.tokenIntrospection(config, narrow.access_token)).active, true);

    // RFC 6749 §5.2: a client not registered for the grant is unauthorized_client.
    const other = await discover(server, postClient.id, postClient.secret);
    await assert.rejects(client.clientCredentialsGrant(other), oauthError('unauthorized_client'));
  });

  test('OpenID Connect without offline_access: no refresh token even for a client allowed the grant', async () => {
    const { tokens } = await flow(offlineClient.id, offlineClient.secret, client.ClientSecretBasic(offlineClient.secret), 'openid profile');
    assert.equal(tokens.refresh_token, undefined);
  });

  /**
   * DPoP end to end for the public client that must use it: the PAR carries a proof
   * (the code is bound to the key), the token is DPoP-bound (cnf.jkt), userinfo
   * takes it only with a proof, and the refresh token is bound to the same key.
   */
  async function dpopFlow(srv, log) {
    const keyPair = await client.randomDPoPKeyPair();
    const jkt = await thumbprint(keyPair);
    const { config, dpop, tokens, claims } = await flow(dpopPublicClient.id, undefined, client.None(), 'openid profile offline_access', {
      srv,
      DPoP: keyPair,
      log,
    });
    // RFC 9449 §6.1: the JWT access token names the key's thumbprint.
    const { payload } = await verifyJWT(srv, tokens.access_token, { typ: 'at+jwt' });
    assert.deepEqual(payload.cnf, { jkt });
    assert.equal(payload.sub, user.claims.sub);

    // RFC 9449 §7: userinfo with the DPoP scheme and a proof carrying ath.
    const info = await client.fetchUserInfo(config, tokens.access_token, claims.sub, { DPoP: dpop });
    assert.equal(info.sub, user.claims.sub);
    assert.equal(info.name, user.claims.name);
    // Without a proof (openid-client then sends it as a Bearer token) it is refused,
    // and so is a proof by another key.
    await assert.rejects(client.fetchUserInfo(config, tokens.access_token, claims.sub), oauthError('invalid_token'));
    const stranger = client.getDPoPHandle(config, await client.randomDPoPKeyPair());
    await assert.rejects(
      client.fetchUserInfo(config, tokens.access_token, claims.sub, { DPoP: stranger }),
      oauthError('invalid_dpop_proof'),
    );

    // RFC 9449 §5: a public client's refresh token is bound to the key: another key
    // is refused (without spending the token), the right one refreshes.
    assert.ok(tokens.refresh_token);
    await assert.rejects(client.refreshTokenGrant(config, tokens.refresh_token, undefined, { DPoP: stranger }), oauthError('invalid_grant'));
    const next = await client.refreshTokenGrant(config, tokens.refresh_token, undefined, { DPoP: dpop });
    assert.equal(next.token_type.toLowerCase(), 'dpop');
    assert.ok(next.refresh_token && next.refresh_token !== tokens.refresh_token);
    assert.deepEqual((await verifyJWT(srv, next.access_token, { typ: 'at+jwt' })).payload.cnf, { jkt });
    assert.equal((await client.fetchUserInfo(config, next.access_token, claims.sub, { DPoP: dpop })).sub, user.claims.sub);
    // dpop_bound_access_tokens: a refresh without any proof is refused.
    await assert.rejects(client.refreshTokenGrant(config, next.refresh_token), oauthError('invalid_dpop_proof'));
    return { config, dpop, next, jkt };
  }

  test('DPoP: PAR with a proof binds the code; DPoP-bound access token (cnf.jkt), userinfo and refresh with the key', async () => {
    const { config, next, jkt } = await dpopFlow(server);
    // RFC 9449 §6.2: introspection shows the binding.
    const info = await client.tokenIntrospection(config, next.access_token);
    assert.equal(info.active, true);
    assert.deepEqual(info.cnf, { jkt });
  });

  test('DPoP: a code bound at the PAR endpoint is refused with a proof by another key (invalid_grant)', async () => {
    const config = await discover(server, offlineClient.id, offlineClient.secret, client.ClientSecretBasic(offlineClient.secret));
    const pushed = client.getDPoPHandle(config, await client.randomDPoPKeyPair());
    const { callback, checks } = await pushAndApprove(server, config, 'openid profile', { DPoP: pushed });
    const other = client.getDPoPHandle(config, await client.randomDPoPKeyPair());
    await assert.rejects(client.authorizationCodeGrant(config, callback, checks, undefined, { DPoP: other }), oauthError('invalid_grant'));
    // Nor without a proof: the code is bound (and the failed attempt spent it anyway).
    await assert.rejects(client.authorizationCodeGrant(config, callback, checks), oauthError('invalid_grant'));
  });

  describe('DPoP server nonces (DPOP_NONCE=true)', () => {
    let nonceServer;
    before(async () => {
      nonceServer = await startLocalAPI({ DPOP_NONCE: 'true' });
    });
    after(() => nonceServer?.stop());

    test('openid-client answers use_dpop_nonce with the DPoP-Nonce it was given, at /par, /token and /userinfo', async () => {
      const log = [];
      await dpopFlow(nonceServer, log);
      // The server demanded a nonce (RFC 9449 §8) and said which in DPoP-Nonce;
      // openid-client retried with it, and every endpoint then answered.
      assert.deepEqual(
        { ...log[0], nonce: Boolean(log[0].nonce) },
        { path: '/par', status: 400, error: 'use_dpop_nonce', nonce: true },
      );
      assert.ok(log.some((e) => e.path === '/par' && e.status === 201));
      assert.ok(log.some((e) => e.path === '/token' && e.status === 200));
      assert.ok(log.some((e) => e.path === '/userinfo' && e.status === 200));
    });
  });

  describe('authorization_details (RFC 9396)', () => {
    const types = {
      payment_initiation: {
        fields: { instructedAmount: 'object', creditorName: 'string', remittanceInformationUnstructured: 'string' },
        required: ['instructedAmount'],
      },
    };
    const details = [
      {
        type: 'payment_initiation',
        actions: ['initiate', 'status'],
        instructedAmount: { currency: 'EUR', amount: '123.50' },
        creditorName: 'Merchant A',
        remittanceInformationUnstructured: 'Ref Number Merchant',
      },
    ];
    let rarServer;
    before(async () => {
      rarServer = await startLocalAPI({ AUTHORIZATION_DETAILS_TYPES: JSON.stringify(types) });
    });
    after(() => rarServer?.stop());

    test('pushed with buildAuthorizationUrlWithPAR, shown in words on the consent page, returned with the tokens', async () => {
      const shown = {};
      const { config, tokens } = await flow(postClient.id, postClient.secret, undefined, 'openid profile', {
        srv: rarServer,
        extra: { authorization_details: JSON.stringify(details) },
        onConsent: async (page) => {
          const region = page.getByRole('region', { name: 'Payment initiation' });
          await region.getByRole('heading', { name: 'Payment initiation' }).waitFor();
          const labels = await region.locator('dt').allInnerTexts();
          const values = await region.locator('dd').allInnerTexts();
          labels.forEach((l, i) => (shown[l.trim()] = values[i].trim()));
        },
      });
      assert.ok(config.serverMetadata().authorization_details_types_supported.includes('payment_initiation'));
      // Every field in words: the creditor, the amount and currency, the actions.
      assert.equal(shown['Creditor name'], 'Merchant A');
      assert.match(shown['Instructed amount'], /123\.50/);
      assert.match(shown['Instructed amount'], /EUR/);
      assert.match(shown['Actions'], /initiate.*status/);
      assert.equal(shown['Remittance information unstructured'], 'Ref Number Merchant');

      // RFC 9396 §7: the token response carries the details as granted; §9.1 the
      // access token and §9.2 introspection too.
      assert.deepEqual(tokens.authorization_details, details);
      const { payload } = await verifyJWT(rarServer, tokens.access_token, { typ: 'at+jwt' });
      assert.deepEqual(payload.authorization_details, details);
      assert.deepEqual((await client.tokenIntrospection(config, tokens.access_token)).authorization_details, details);
    });

    test('an authorization_details of an unknown type is refused at the PAR endpoint', async () => {
      const config = await discover(rarServer, postClient.id, postClient.secret);
      await assert.rejects(
        client.buildAuthorizationUrlWithPAR(config, {
          redirect_uri: rarServer.callback,
          scope: 'openid',
          code_challenge: await client.calculatePKCECodeChallenge(client.randomPKCECodeVerifier()),
          code_challenge_method: 'S256',
          authorization_details: JSON.stringify([{ type: 'account_information', actions: ['list'] }]),
        }),
        oauthError('invalid_authorization_details'),
      );
    });
  });
  test('JARM: response_mode jwt verified by openid-client (useJwtResponseMode), then the code grant', async () => {
    const config = await discover(server, jarmClient.id, {
      client_secret: jarmClient.secret,
      authorization_signed_response_alg: jarmClient.alg,
    });
    const meta = config.serverMetadata();
    for (const mode of ['query', 'form_post', 'jwt', 'query.jwt', 'form_post.jwt']) {
      assert.ok(meta.response_modes_supported.includes(mode), `response_modes_supported lacks ${mode}`);
    }
    assert.ok(meta.authorization_signing_alg_values_supported.includes(jarmClient.alg));
    // openid-client pushes response_mode=jwt and verifies the response JWT: its
    // signature against the jwks_uri, alg, iss, aud, exp, then state and iss inside.
    client.useJwtResponseMode(config);
    const { callback, checks } = await pushAndApprove(server, config, 'openid profile email');
    // The response is the JWT alone: no code, state or iss in the clear (JARM §2.3.1, RFC 9207 §2.4).
    assert.deepEqual([...callback.searchParams.keys()], ['response']);
    const { payload, protectedHeader } = await verifyJWT(server, callback.searchParams.get('response'), { audience: jarmClient.id });
    assert.equal(protectedHeader.alg, jarmClient.alg);
    assert.equal(payload.state, checks.expectedState);
    assert.ok(payload.code);
    assert.ok(payload.exp * 1000 - Date.now() <= 10 * 60 * 1000, 'JARM §2.1: at most 10 minutes');

    // A response whose signature was tampered with is refused before the code is used.
    const forged = new URL(callback);
    const jwt = callback.searchParams.get('response');
    forged.searchParams.set('response', jwt.slice(0, -4) + (jwt.endsWith('AAAA') ? 'BBBB' : 'AAAA'));
    await assert.rejects(client.authorizationCodeGrant(config, forged, checks));

    const tokens = await client.authorizationCodeGrant(config, callback, checks);
    assert.equal(tokens.claims().sub, user.claims.sub);
    assert.equal(tokens.claims().nonce, checks.expectedNonce);
  });

  // make run only: API Gateway terminates TLS, and run-lambda serves plain HTTP.
  const localOnly = target !== 'local' && 'TLS=true is make run only';
  describe('over HTTPS with mutual TLS (RFC 8705): openid-client with an undici Agent holding the client certificate', { skip: localOnly }, () => {
    let tlsServer;
    before(async () => {
      tlsServer = await startLocalAPI({}, { tls: true });
    });
    after(() => tlsServer?.stop());

    test('tls_client_auth at /par and /token, certificate-bound access token at /userinfo', async () => {
      const srv = tlsServer;
      assert.ok(srv.issuer.startsWith('https://'));
      const withCert = new Agent({ connect: { ca: srv.ca, cert: srv.clientCert, key: srv.clientKey } });
      const mtlsFetch = (url, options) => undiciFetch(url, { ...options, dispatcher: withCert });
      const config = await client.discovery(new URL(srv.issuer), mtlsClient.id, { use_mtls_endpoint_aliases: true }, client.TlsClientAuth(), {
        [client.customFetch]: mtlsFetch,
      });
      config[client.customFetch] = mtlsFetch;
      const meta = config.serverMetadata();
      assert.equal(meta.issuer, srv.issuer);
      assert.equal(meta.tls_client_certificate_bound_access_tokens, true);
      assert.ok(meta.token_endpoint_auth_methods_supported.includes('tls_client_auth'));
      assert.equal(meta.mtls_endpoint_aliases.token_endpoint, `${srv.issuer}/token`);

      const { callback, checks } = await pushAndApprove(srv, config, 'openid profile email');
      const tokens = await client.authorizationCodeGrant(config, callback, checks);
      assert.equal(tokens.token_type.toLowerCase(), 'bearer');
      assert.equal(tokens.claims().sub, user.claims.sub);
      // RFC 8705 §3.1: cnf.x5t#S256 is the SHA-256 of the client certificate (DER).
      const der = new X509Certificate(srv.clientCert).raw;
      assert.equal(decodeJwt(tokens.access_token).cnf['x5t#S256'], createHash('sha256').update(der).digest('base64url'));
      assert.equal((await client.fetchUserInfo(config, tokens.access_token, user.claims.sub)).sub, user.claims.sub);

      // RFC 8705 §3: without the certificate the bound token is refused at /userinfo.
      const noCert = new Agent({ connect: { ca: srv.ca } });
      const r = await undiciFetch(`${srv.issuer}/userinfo`, { headers: { authorization: `Bearer ${tokens.access_token}` }, dispatcher: noCert });
      assert.equal(r.status, 401);
      assert.match(r.headers.get('www-authenticate') ?? '', /invalid_token/);
      // And without it the client cannot authenticate at /par (RFC 8705 §2): 401
      // invalid_client, with the Basic challenge every 401 there carries.
      const log = [];
      config[client.customFetch] = async (url, options) => {
        const res = await undiciFetch(url, { ...options, dispatcher: noCert });
        log.push({ status: res.status, error: (await res.clone().json()).error });
        return res;
      };
      await assert.rejects(
        client.buildAuthorizationUrlWithPAR(config, {
          redirect_uri: srv.callback,
          scope: 'openid',
          code_challenge: await client.calculatePKCECodeChallenge(client.randomPKCECodeVerifier()),
          code_challenge_method: 'S256',
        }),
        { status: 401 },
      );
      assert.deepEqual(log, [{ status: 401, error: 'invalid_client' }]);
    });
  });
});

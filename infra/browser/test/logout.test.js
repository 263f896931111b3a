// RP-Initiated Logout 1.0 (docs/design.md decision 33) in Chromium with openid-client
// as the relying party: a logout with id_token_hint (buildEndSessionUrl) ends the
// session without a page and returns to the registered post_logout_redirect_uri with
// state; without a hint the confirmation page asks, then the signed-out page; after
// either, prompt=none is login_required (OIDC Core §3.1.2.6). Back-Channel Logout 1.0
// (docs/design.md decision 34): a small receiver on 127.0.0.1, the confidential
// client's backchannel_logout_uri, gets the logout token and verifies it with jose
// against the server's JWKS.

import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { after, before, describe, test } from 'node:test';
import { createRemoteJWKSet, jwtVerify } from 'jose';
import * as client from 'openid-client';
import { contrastFailures, layoutProblems } from './lib/a11y.js';
import { launch, missingChromium, newPage, signIn } from './lib/browser.js';
import { authorize as authorizeInPage, discover as discoverRP } from './lib/rp.js';
import { confidential, startLocalAPI, target, user } from './lib/localapi.js';

const skip = await missingChromium();

describe('RP-Initiated Logout with openid-client', { skip: skip || false }, () => {
  let server, browser;

  before(async () => {
    await Promise.all([startLocalAPI().then((s) => (server = s)), launch().then((b) => (browser = b))]);
  });
  after(async () => {
    await browser?.close();
    await server?.stop();
  });

  const discover = (rp) => discoverRP(server, rp);
  const authorize = (config, page, extra, act) => authorizeInPage(server, config, page, extra, act);

  async function signInAndAllow(page) {
    await signIn(page, user);
    await page.getByRole('button', { name: 'Allow' }).click();
  }

  /** The page contract's look: the stylesheet applied (its CSP hash matched), WCAG AA contrast, no layout problems. */
  async function assertPageLooksRight(page, what) {
    assert.equal(await page.locator('main').evaluate((m) => getComputedStyle(m).display), 'block', `${what}: styled`);
    assert.deepEqual(await contrastFailures(page), [], `${what}: contrast`);
    assert.deepEqual(await layoutProblems(page, 24), [], `${what}: layout`);
  }

  async function promptNoneError(config, page) {
    const { callback, checks } = await authorize(config, page, { prompt: 'none' }, async () => {});
    const err = await client.authorizationCodeGrant(config, callback, checks).then(
      () => assert.fail('a code was issued after the logout'),
      (e) => e,
    );
    return err.error;
  }

  test('RP-Initiated Logout §2, §3: with id_token_hint the session ends without a page and the browser returns with state; then prompt=none is login_required', async () => {
    const config = await discover();
    assert.equal(config.serverMetadata().end_session_endpoint, `${server.issuer}/logout`);
    const page = await newPage(browser);
    try {
      const { callback, checks } = await authorize(config, page, {}, signInAndAllow);
      const tokens = await client.authorizationCodeGrant(config, callback, checks);
      assert.ok((await page.context().cookies()).some((c) => c.name === 'pargate_session'));

      const state = client.randomState();
      const end = client.buildEndSessionUrl(config, {
        id_token_hint: tokens.id_token,
        post_logout_redirect_uri: server.callback,
        state,
      });
      await page.goto(end.href);
      await page.waitForURL((u) => u.href.startsWith(`${server.callback}?`));
      assert.equal(new URL(page.url()).searchParams.get('state'), state);
      assert.ok(!(await page.context().cookies()).some((c) => c.name === 'pargate_session'), 'the session cookie is still there');

      assert.equal(await promptNoneError(config, page), 'login_required');
      assert.deepEqual(page.problems, []);
    } finally {
      await page.context().close();
    }
  });

  test('RP-Initiated Logout §4, §5: without a hint the confirmation page asks, then the signed-out page; then prompt=none is login_required', async () => {
    const config = await discover();
    const page = await newPage(browser);
    try {
      const { callback, checks } = await authorize(config, page, {}, signInAndAllow);
      await client.authorizationCodeGrant(config, callback, checks);

      await page.goto(client.buildEndSessionUrl(config, {}).href);
      await page.getByRole('heading', { name: 'Sign out?' }).waitFor();
      await assertPageLooksRight(page, 'confirmation page');
      assert.match(await page.locator('.account').innerText(), new RegExp(`Signed in as ${user.username}`));
      // Not ended until the user confirms.
      assert.ok((await page.context().cookies()).some((c) => c.name === 'pargate_session'));
      await page.getByRole('button', { name: 'Sign out' }).click();
      await page.getByRole('heading', { name: 'You are signed out' }).waitFor();
      await assertPageLooksRight(page, 'signed-out page');
      assert.ok(!(await page.context().cookies()).some((c) => c.name === 'pargate_session'), 'the session cookie is still there');

      assert.equal(await promptNoneError(config, page), 'login_required');
      assert.deepEqual(page.problems, []);
    } finally {
      await page.context().close();
    }
  });
});

/**
 * A relying party's back-channel logout endpoint on 127.0.0.1 (Back-Channel Logout
 * 1.0 §2.5, §2.8): it keeps each POST's Content-Type and logout_token and answers 200.
 */
async function startReceiver() {
  const received = [];
  const srv = createServer((req, res) => {
    let body = '';
    req.on('data', (d) => (body += d));
    req.on('end', () => {
      received.push({ method: req.method, type: req.headers['content-type'], token: new URLSearchParams(body).get('logout_token') });
      res.writeHead(200, { 'Cache-Control': 'no-store' }).end();
    });
  });
  await new Promise((ok) => srv.listen(0, '127.0.0.1', ok));
  return { url: `http://127.0.0.1:${srv.address().port}/backchannel-logout`, received, close: () => new Promise((ok) => srv.close(ok)) };
}

describe('Back-Channel Logout with openid-client and a receiver', { skip: skip || false }, () => {
  let server, browser, receiver;

  before(async () => {
    receiver = await startReceiver();
    // A local run may POST to loopback relying parties; in Lambda (the lambda target)
    // the setting is refused and loopback is never connected to.
    await Promise.all([
      startLocalAPI({ BACKCHANNEL_LOGOUT_ALLOW_LOOPBACK: 'true' }, { backchannelLogoutURI: receiver.url }).then((s) => (server = s)),
      launch().then((b) => (browser = b)),
    ]);
  });
  after(async () => {
    await browser?.close();
    await server?.stop();
    await receiver?.close();
  });

  test('Back-Channel Logout §2.1 discovery; §2.4, §2.5 a logout POSTs a logout token the receiver verifies (typ, iss, aud, events, sid of the ID token)', async () => {
    const config = await discoverRP(server);
    const meta = config.serverMetadata();
    assert.equal(meta.backchannel_logout_supported, true);
    assert.equal(meta.backchannel_logout_session_supported, true);
    assert.equal(meta.frontchannel_logout_supported, false);
    const page = await newPage(browser);
    try {
      const { callback, checks } = await authorizeInPage(server, config, page, {}, async (p) => {
        await signIn(p, user);
        await p.getByRole('button', { name: 'Allow' }).click();
      });
      const tokens = await client.authorizationCodeGrant(config, callback, checks);
      const idClaims = tokens.claims();
      assert.ok(idClaims.sid, 'the ID token has a sid');
      assert.equal(receiver.received.length, 0, 'a logout token before the logout');

      const end = client.buildEndSessionUrl(config, { id_token_hint: tokens.id_token, post_logout_redirect_uri: server.callback });
      await page.goto(end.href);
      await page.waitForURL((u) => u.href.startsWith(server.callback));

      if (target === 'lambda') {
        // Lambda never connects to loopback: the logout completed, nothing arrived.
        assert.equal(receiver.received.length, 0, 'a loopback receiver was reached from Lambda');
        assert.match(server.log(), /"msg":"backchannel_logout","client_id":"browser-app","outcome":"unreachable"/);
        return;
      }
      // Sent before the browser was answered: it is here by now.
      assert.equal(receiver.received.length, 1, 'logout tokens received');
      const [got] = receiver.received;
      assert.equal(got.method, 'POST');
      assert.equal(got.type, 'application/x-www-form-urlencoded');
      const jwks = createRemoteJWKSet(new URL(meta.jwks_uri), { [Symbol.for('allowInsecureRequests')]: true });
      const { payload, protectedHeader } = await jwtVerify(got.token, jwks, {
        issuer: server.issuer,
        audience: confidential.id,
        typ: 'logout+jwt',
        requiredClaims: ['iat', 'jti', 'events', 'sid', 'sub'],
      });
      assert.equal(protectedHeader.typ, 'logout+jwt');
      assert.deepEqual(payload.events, { 'http://schemas.openid.net/event/backchannel-logout': {} });
      assert.equal(payload.sid, idClaims.sid);
      assert.equal(payload.sub, idClaims.sub);
      assert.equal(payload.nonce, undefined);
      assert.ok(!server.log().includes(got.token), 'the server logged the logout token');
      assert.deepEqual(page.problems, []);
    } finally {
      await page.context().close();
    }
  });
});

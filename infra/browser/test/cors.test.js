// A browser-based app (draft-ietf-oauth-browser-based-apps) in real Chromium: a page
// on an origin of its own pushes, redeems the code at /token and reads /userinfo
// with fetch, through the CORS protocol (Fetch §3.2; docs/design.md decision 30).
// A page on another origin gets a network error (TypeError) at /token, and the code
// it tried is not spent: the app's page still redeems it.

import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { after, before, describe, test } from 'node:test';

import { launch, missingChromium, signIn } from './lib/browser.js';
import { corsClient, startLocalAPI, user } from './lib/localapi.js';
import { pkce } from './lib/oauth.js';

const skip = await missingChromium();

/** A page server on its own 127.0.0.1 port: another origin than the issuer's. */
async function startOrigin() {
  const srv = createServer((req, res) => {
    res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8', 'Cache-Control': 'no-store' });
    res.end('<!doctype html><html lang="en"><title>App</title><p>A single-page app.</p></html>');
  });
  await new Promise((ok, fail) => srv.once('error', fail).listen(0, '127.0.0.1', ok));
  return { origin: `http://127.0.0.1:${srv.address().port}`, close: () => new Promise((ok) => srv.close(ok)) };
}

/**
 * Runs fetch(url, init) in the page and returns {status, body, headers} as the page
 * can read them (the CORS-safelisted and exposed headers, Fetch §3.2.6), or {error}
 * with the error's name when fetch rejects.
 */
async function pageFetch(page, url, init) {
  return page.evaluate(
    async ([url, init]) => {
      try {
        const r = await fetch(url, init);
        const headers = {};
        for (const [k, v] of r.headers) headers[k] = v;
        return { status: r.status, body: await r.json(), headers };
      } catch (e) {
        return { error: e.name };
      }
    },
    [url, init],
  );
}

describe('CORS for a browser-based app', { skip: skip || false }, () => {
  let server, browser, app, other;

  before(async () => {
    [app, other] = await Promise.all([startOrigin(), startOrigin()]);
    await Promise.all([
      startLocalAPI({}, { allowedOrigins: [app.origin] }).then((s) => (server = s)),
      launch().then((b) => (browser = b)),
    ]);
  });
  after(async () => {
    await browser?.close();
    await server?.stop();
    await app?.close();
    await other?.close();
  });

  /** A page of a fresh context at origin. */
  async function pageAt(origin) {
    const context = await browser.newContext({ locale: 'en-US' });
    context.setDefaultTimeout(20_000);
    const page = await context.newPage();
    await page.goto(`${origin}/`);
    return page;
  }

  /** The app's page pushes (CORS at /par, a public client); the user approves in another tab. */
  async function code(appPage) {
    const { verifier, challenge } = pkce();
    const params = new URLSearchParams({
      client_id: corsClient.id,
      response_type: 'code',
      redirect_uri: server.callback,
      scope: 'openid profile offline_access',
      state: 'cors-state',
      code_challenge: challenge,
      code_challenge_method: 'S256',
    }).toString();
    const pushed = await pageFetch(appPage, server.meta.pushed_authorization_request_endpoint, {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      body: params,
    });
    // The page reads the answer only with Access-Control-Allow-Origin (which a page
    // itself cannot see: it is not a header exposed to it).
    assert.equal(pushed.status, 201, JSON.stringify(pushed));
    const tab = await appPage.context().newPage();
    try {
      const authorize = new URL(server.meta.authorization_endpoint);
      authorize.search = new URLSearchParams({ client_id: corsClient.id, request_uri: pushed.body.request_uri }).toString();
      await tab.goto(authorize.href);
      await signIn(tab, user);
      await tab.getByRole('button', { name: 'Allow' }).click();
      await tab.waitForURL((u) => u.href.startsWith(`${server.callback}?`));
      const c = new URL(tab.url()).searchParams.get('code');
      assert.ok(c);
      return { code: c, verifier };
    } finally {
      await tab.close();
    }
  }

  function redeem(page, { code, verifier }) {
    return pageFetch(page, server.meta.token_endpoint, {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        grant_type: 'authorization_code',
        client_id: corsClient.id,
        code,
        redirect_uri: server.callback,
        code_verifier: verifier,
      }).toString(),
    });
  }

  test('the app origin fetches /token and /userinfo; another origin gets a TypeError and spends nothing', async () => {
    const appPage = await pageAt(app.origin);
    const otherPage = await pageAt(other.origin);
    try {
      // Another origin: Chromium's preflight succeeds (any origin), the request is
      // refused without Access-Control-Allow-Origin, so fetch rejects.
      const grant = await code(appPage);
      const refused = await redeem(otherPage, grant);
      assert.deepEqual(refused, { error: 'TypeError' });

      // The app's origin: the same code, not spent by the refused request.
      const tokens = await redeem(appPage, grant);
      assert.equal(tokens.status, 200, JSON.stringify(tokens));
      assert.equal(tokens.body.token_type, 'Bearer');
      assert.ok(tokens.body.access_token && tokens.body.refresh_token && tokens.body.id_token);

      // /userinfo with an Authorization header: a preflighted GET.
      const info = await pageFetch(appPage, server.meta.userinfo_endpoint, {
        headers: { Authorization: `Bearer ${tokens.body.access_token}` },
      });
      assert.equal(info.status, 200, JSON.stringify(info));
      assert.equal(info.body.sub, user.claims.sub);
      assert.deepEqual(
        await pageFetch(otherPage, server.meta.userinfo_endpoint, { headers: { Authorization: `Bearer ${tokens.body.access_token}` } }),
        { error: 'TypeError' },
      );

      // The refresh token is rotated (public client, BCP), from the app's page.
      const refreshed = await pageFetch(appPage, server.meta.token_endpoint, {
        method: 'POST',
        headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ grant_type: 'refresh_token', client_id: corsClient.id, refresh_token: tokens.body.refresh_token }).toString(),
      });
      assert.equal(refreshed.status, 200, JSON.stringify(refreshed));
      assert.notEqual(refreshed.body.refresh_token, tokens.body.refresh_token);

      // An error for the app is readable by its page: the code is spent now.
      const again = await redeem(appPage, grant);
      assert.equal(again.status, 400);
      assert.equal(again.body.error, 'invalid_grant');

      // Discovery and the JWKS are public documents: any origin reads them.
      for (const url of [`${server.issuer}/.well-known/openid-configuration`, server.meta.jwks_uri]) {
        const doc = await pageFetch(otherPage, url, {});
        assert.equal(doc.status, 200, `${url}: ${JSON.stringify(doc)}`);
      }
    } finally {
      await appPage.context().close();
      await otherPage.context().close();
    }
  });
});

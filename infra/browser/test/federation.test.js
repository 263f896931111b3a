// Brokered login (issue 13; docs/design.md decisions 35 and 37) in Chromium: the
// broker (the server under test) offers two upstream OpenID Providers on its login
// page — node-oidc-provider and a second pargate, each started here on 127.0.0.1 and
// each advertising PAR, so the upstream leg is pushed too. The user signs in on each
// upstream's own login page and comes back through /federation/callback; openid-client,
// the broker's relying party, verifies the final ID token: amr starts with fed, idp
// names the provider, sub is the broker's own and stable across two logins.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import * as client from 'openid-client';
import { launch, missingChromium, newPage, signIn } from './lib/browser.js';
import { authorize as authorizeInPage, discover as discoverRP } from './lib/rp.js';
import { freePort, startLocalAPI } from './lib/localapi.js';
import { startNodeProvider } from './lib/upstreams.js';

const skip = await missingChromium();

const broker = { id: 'pargate-broker', secret: 'pargate-broker-secret-0123456789abcdefghijklmnopqrstuvwxyz' };
const upUser = { username: 'una', password: 'una-upstream-password', claims: { name: 'Una Upstream', email: 'una@upstream.example', email_verified: true } };

describe('brokered login through node-oidc-provider and a second pargate', { skip: skip || false }, () => {
  let server, upstreamPargate, nodeOP, browser;

  before(async () => {
    const [brokerPort, nodePort, upPort] = await Promise.all([freePort(), freePort(), freePort()]);
    const brokerIssuer = `http://127.0.0.1:${brokerPort}`;
    const callback = `${brokerIssuer}/federation/callback`;
    nodeOP = await startNodeProvider(nodePort, { id: broker.id, secret: broker.secret, redirectURI: callback }, upUser);
    // The second pargate: the broker is its client (remembered consent), Una its user.
    upstreamPargate = await startLocalAPI({}, {
      port: upPort,
      seedDoc: () => ({
        clients: [{ client_id: broker.id, client_name: 'Broker', client_secret: broker.secret,
          redirect_uris: [callback], scope: 'openid profile email' }],
        users: [{ username: upUser.username, password: upUser.password, claims: upUser.claims }],
      }),
    });
    server = await startLocalAPI({}, {
      port: brokerPort,
      identityProviders: [
        { id: 'node', display_name: 'Node Identity', issuer: nodeOP.issuer, client_id: broker.id, client_secret: broker.secret },
        { id: 'pg', display_name: 'Partner pargate', issuer: upstreamPargate.issuer, client_id: broker.id, client_secret: broker.secret },
      ],
    });
    assert.ok(upstreamPargate.meta.pushed_authorization_request_endpoint, 'the upstream pargate advertises PAR');
    browser = await launch();
  });
  after(async () => {
    await browser?.close();
    await server?.stop();
    await upstreamPargate?.stop();
    await nodeOP?.close();
  });

  async function signInThrough(page, button, upstreamLogin) {
    const b = page.getByRole('button', { name: button });
    await b.waitFor();
    // Issue 13 §2: the button contract.
    assert.equal(await b.evaluate((e) => e.outerHTML), `<button type="submit" name="idp" value="${button === 'Continue with Node Identity' ? 'node' : 'pg'}">${button}</button>`);
    await b.click();
    await upstreamLogin(page);
    await page.getByRole('button', { name: 'Allow' }).click(); // the broker's consent page
  }

  async function nodeLogin(page) {
    await page.getByLabel('Upstream username').fill(upUser.username);
    await page.getByLabel('Upstream password').fill(upUser.password);
    await page.getByRole('button', { name: 'Sign in upstream' }).click();
    await page.getByRole('button', { name: 'Allow upstream' }).click();
  }

  async function pargateLogin(page) {
    await signIn(page, upUser);
    // The upstream pargate's own consent page, the first time (remembered after).
    const allow = page.getByRole('button', { name: 'Allow' });
    await allow.waitFor();
    if (!page.url().startsWith(server.issuer)) await allow.click();
  }

  for (const [name, button, login, idp, acr] of [
    ['node-oidc-provider', 'Continue with Node Identity', nodeLogin, 'node', 'urn:upstream:loa:2'],
    ['a second pargate', 'Continue with Partner pargate', pargateLogin, 'pg', undefined],
  ]) {
    test(`sign in through ${name}: amr fed, idp, the broker's own sub, stable across two logins`, async () => {
      const config = await discoverRP(server);
      const subs = [];
      for (let i = 0; i < 2; i++) {
        const page = await newPage(browser); // a fresh context: no session at either side
        try {
          const res = await authorizeInPage(server, config, page, { scope: 'openid profile email' }, (p) => signInThrough(p, button, login));
          const tokens = await client.authorizationCodeGrant(config, res.callback, res.checks);
          const claims = tokens.claims();
          assert.equal(claims.iss, server.issuer);
          assert.equal(claims.amr[0], 'fed', `amr ${JSON.stringify(claims.amr)}`);
          assert.ok(claims.amr.includes('pwd'), `the upstream's pwd kept: ${JSON.stringify(claims.amr)}`);
          assert.equal(claims.idp, idp);
          assert.equal(claims.acr, acr);
          assert.equal(claims.name, 'Una Upstream');
          assert.notEqual(claims.sub, upUser.username, 'the upstream sub is never the local one');
          subs.push(claims.sub);
          assert.deepEqual(page.problems, [], 'no page error, console error or CSP violation');
        } finally {
          await page.context().close();
        }
      }
      assert.equal(subs[0], subs[1], 'the local sub is stable across logins');
    });
  }

  test('the login page lists both providers above the password form, and its CSP allows them as form targets', async () => {
    const config = await discoverRP(server);
    const page = await newPage(browser);
    try {
      let csp;
      page.on('response', (r) => { if (r.url().startsWith(`${server.issuer}/authorize?`) && r.status() === 200) csp = r.headers()['content-security-policy']; });
      const url = await client.buildAuthorizationUrlWithPAR(config, {
        redirect_uri: server.callback, scope: 'openid', code_challenge: await client.calculatePKCECodeChallenge(client.randomPKCECodeVerifier()),
        code_challenge_method: 'S256', state: client.randomState(),
      });
      await page.goto(url.href);
      await page.getByLabel('Password').waitFor();
      const buttons = await page.locator('button[name="idp"]').allInnerTexts();
      assert.deepEqual(buttons, ['Continue with Node Identity', 'Continue with Partner pargate']);
      assert.match(csp, new RegExp(`form-action 'self' [^;]*${nodeOP.issuer}`));
    } finally {
      await page.context().close();
    }
  });
});

// RP-Initiated Logout 1.0 (docs/design.md decision 33) in Chromium with openid-client
// as the relying party: a logout with id_token_hint (buildEndSessionUrl) ends the
// session without a page and returns to the registered post_logout_redirect_uri with
// state; without a hint the confirmation page asks, then the signed-out page; after
// either, prompt=none is login_required (OIDC Core §3.1.2.6).

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import * as client from 'openid-client';
import { contrastFailures, layoutProblems } from './lib/a11y.js';
import { launch, missingChromium, newPage } from './lib/browser.js';
import { authorize as authorizeInPage, discover as discoverRP } from './lib/rp.js';
import { startLocalAPI, user } from './lib/localapi.js';

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
    await page.getByLabel('Username').fill(user.username);
    await page.getByLabel('Password').fill(user.password);
    await page.getByRole('button', { name: 'Sign in' }).click();
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

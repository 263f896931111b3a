// Single sign-on sessions (OIDC Core §3.1.2.1, §3.1.2.6, §2; docs/design.md decision
// 30) in one Chromium context, which keeps the session cookie between
// authorizations, with openid-client as the relying party: a second authorization
// skips the login, prompt=none never shows a page (login_required without a session,
// consent_required with one unless consent is remembered), prompt=login and max_age
// force a login and a new auth_time, and "Not you?" ends the session. The fixture
// clients are registered with consent: always, except rememberClient: a second
// authorization of it in the same browser skips login and consent, and prompt=none
// returns a code (docs/design.md decision 32).

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import * as client from 'openid-client';
import { launch, missingChromium, newPage, signIn } from './lib/browser.js';
import { authorize as authorizeInPage, discover as discoverRP } from './lib/rp.js';
import { rememberClient, startLocalAPI, user } from './lib/localapi.js';

const skip = await missingChromium();

describe('single sign-on sessions with openid-client', { skip: skip || false }, () => {
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


  async function allow(page) {
    await page.getByRole('button', { name: 'Allow' }).click();
  }

  /** Consent without a login page: the session signed the browser in. */
  async function allowWithoutLogin(page) {
    const button = page.getByRole('button', { name: 'Allow' });
    await button.waitFor();
    assert.equal(await page.getByLabel('Password').count(), 0, 'a login page with a live session');
    assert.match(await page.locator('.account').innerText(), new RegExp(`Signed in as ${user.username}`));
    await button.click();
  }

  async function idToken(config, { callback, checks }) {
    const tokens = await client.authorizationCodeGrant(config, callback, checks);
    return tokens.claims();
  }

  async function authorizationError(config, { callback, checks }) {
    const err = await client.authorizationCodeGrant(config, callback, checks).then(
      () => assert.fail('a code was issued'),
      (e) => e,
    );
    return err.error;
  }

  test('a second authorization in the same browser skips the login; prompt=none is login_required without a session and consent_required with one', async () => {
    const config = await discover();
    const page = await newPage(browser);
    try {
      // No session: prompt=none answers at once, without a page (OIDC Core §3.1.2.6).
      assert.equal(await authorizationError(config, await authorize(config, page, { prompt: 'none' }, async () => {})), 'login_required');

      const first = await idToken(config, await authorize(config, page, {}, async (p) => (await signIn(p, user), await allow(p))));
      assert.deepEqual(first.amr, ['pwd']);
      assert.equal(typeof first.sid, 'string');
      const cookies = await page.context().cookies();
      const session = cookies.find((c) => c.name === 'pargate_session');
      assert.ok(session && session.httpOnly && session.sameSite === 'Lax', `session cookie ${JSON.stringify(session)}`);

      const second = await idToken(config, await authorize(config, page, {}, allowWithoutLogin));
      assert.equal(second.sid, first.sid);
      assert.equal(second.auth_time, first.auth_time);
      assert.equal(second.sub, first.sub);

      // With a session, prompt=none still shows no page: this client's consent is
      // never remembered (consent: always).
      assert.equal(await authorizationError(config, await authorize(config, page, { prompt: 'none' }, async () => {})), 'consent_required');
      // max_age elapsed (0): login_required, not a page.
      assert.equal(
        await authorizationError(config, await authorize(config, page, { prompt: 'none', max_age: '0' }, async () => {})),
        'login_required',
      );
      assert.deepEqual(page.problems, []);
    } finally {
      await page.context().close();
    }
  });

  test('prompt=login and max_age force a login and change auth_time and sid', async () => {
    const config = await discover();
    const page = await newPage(browser);
    try {
      const first = await idToken(config, await authorize(config, page, {}, async (p) => (await signIn(p, user), await allow(p))));
      let last = first;
      for (const extra of [{ prompt: 'login' }, { max_age: '0' }]) {
        await sleep(1100); // auth_time counts whole seconds
        const claims = await idToken(
          config,
          await authorize(config, page, extra, async (p) => {
            // The login page although the browser has a session, naming its user.
            await p.getByRole('button', { name: 'Not you?' }).waitFor();
            assert.equal(await p.getByRole('button', { name: /^Continue as/ }).count(), 0);
            await signIn(p, user);
            await allow(p);
          }),
        );
        assert.ok(claims.auth_time > last.auth_time, `${JSON.stringify(extra)}: auth_time ${claims.auth_time} after ${last.auth_time}`);
        assert.notEqual(claims.sid, last.sid);
        last = claims;
      }
      // max_age not yet elapsed reuses the newest session.
      const reused = await idToken(config, await authorize(config, page, { max_age: '3600' }, allowWithoutLogin));
      assert.equal(reused.auth_time, last.auth_time);
      assert.deepEqual(page.problems, []);
    } finally {
      await page.context().close();
    }
  });

  test('prompt=select_account offers "Continue as" and "Not you?" ends the session for this browser', async () => {
    const config = await discover();
    const page = await newPage(browser);
    try {
      await idToken(config, await authorize(config, page, {}, async (p) => (await signIn(p, user), await allow(p))));
      await idToken(
        config,
        await authorize(config, page, { prompt: 'select_account' }, async (p) => {
          await p.getByRole('button', { name: `Continue as ${user.username}` }).click();
          await allow(p);
        }),
      );
      await idToken(
        config,
        await authorize(config, page, { prompt: 'select_account' }, async (p) => {
          await p.getByRole('button', { name: 'Not you?' }).click();
          await p.getByLabel('Password').waitFor();
          assert.equal(await p.getByRole('button', { name: 'Not you?' }).count(), 0);
          await signIn(p, user);
          await allow(p);
        }),
      );
      assert.deepEqual(page.problems, []);
    } finally {
      await page.context().close();
    }
  });

  test('remembered consent: a second authorization in the same browser skips login and consent; prompt=none returns a code', async () => {
    const config = await discover(rememberClient);
    const page = await newPage(browser);
    try {
      const first = await idToken(config, await authorize(config, page, {}, async (p) => (await signIn(p, user), await allow(p))));

      // Straight to the callback: no login page, no consent page (OIDC Core §3.1.2.1).
      const pages = [];
      const seen = (frame) => frame === page.mainFrame() && pages.push(frame.url());
      page.on('framenavigated', seen);
      const second = await idToken(config, await authorize(config, page, {}, async () => {}));
      page.off('framenavigated', seen);
      assert.deepEqual(
        pages.filter((u) => !u.startsWith(`${server.callback}?`)),
        [],
        `pages shown before the callback: ${pages.join(', ')}`,
      );
      assert.equal(second.sub, first.sub);
      assert.equal(second.sid, first.sid);

      // prompt=none: a code, silently (OIDC Core §3.1.2.1 "pre-configured consent").
      const silent = await idToken(config, await authorize(config, page, { prompt: 'none' }, async () => {}));
      assert.equal(silent.sub, first.sub);
      assert.equal(silent.auth_time, first.auth_time);

      // prompt=consent shows the consent page again, without a login.
      await idToken(config, await authorize(config, page, { prompt: 'consent' }, allowWithoutLogin));
      // A scope the user did not approve: consent_required under prompt=none.
      assert.equal(
        await authorizationError(config, await authorize(config, page, { prompt: 'none', scope: 'openid profile email' }, async () => {})),
        'consent_required',
      );
      assert.deepEqual(page.problems, []);
    } finally {
      await page.context().close();
    }
  });
});

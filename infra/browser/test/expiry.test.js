// expires_in bounds when a request_uri may first be used, not how long the login may
// take (docs/design.md decision 2): a local API with PAR_EXPIRES_IN=5, two pushed
// requests, one opened at once, then a 6 second wait.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { launch, missingChromium, newPage, signIn } from './lib/browser.js';
import { startLocalAPI, user } from './lib/localapi.js';
import { exchange, push } from './lib/oauth.js';

const skip = await missingChromium();

describe('expired request_uri (PAR_EXPIRES_IN=5)', { skip: skip || false }, () => {
  let server, browser, started, unused, startedPage;

  before(async () => {
    await Promise.all([
      startLocalAPI({ PAR_EXPIRES_IN: '5' }).then((s) => (server = s)),
      launch().then((b) => (browser = b)),
    ]);
    [started, unused] = await Promise.all([push(server), push(server)]);
    assert.equal(started.expiresIn, 5);
    startedPage = await newPage(browser);
    await startedPage.goto(started.authorizeURL);
    await startedPage.getByRole('heading', { name: 'Sign in' }).waitFor();
    await sleep(6_000);
  });
  after(async () => {
    await browser?.close();
    await server?.stop();
  });

  test('a request_uri first opened after expires_in gets the error page', async () => {
    const page = await newPage(browser);
    const r = await page.goto(unused.authorizeURL);
    assert.equal(r.status(), 400);
    await page.getByRole('heading', { level: 1, name: /cannot continue/i }).waitFor();
    assert.match(await page.getByRole('alert').innerText(), /expired/i);
    assert.match(await page.locator('main').innerText(), /invalid_request_uri/);
    assert.equal(await page.locator('form').count(), 0);
    assert.deepEqual(page.problems, []);
  });

  test('a login started within expires_in can finish after it', async () => {
    const page = startedPage;
    await signIn(page, user);
    await page.getByRole('button', { name: 'Allow' }).click();
    await page.waitForURL((u) => u.href.startsWith(`${server.callback}?`));
    const q = new URL(page.url()).searchParams;
    assert.equal(q.get('state'), started.state);
    const t = await exchange(server, q.get('code'), started.verifier);
    assert.equal(t.status, 200, JSON.stringify(t.body));
    assert.deepEqual(page.problems, []);
  });
});

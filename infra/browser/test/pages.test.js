// The PAR flow through the login and consent pages in headless Chromium: pushed with
// fetch, signed in and approved in the browser, code exchanged with fetch.

import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { after, before, describe, test } from 'node:test';
import { contrastFailures, focusIndicator, layoutProblems } from './lib/a11y.js';
import { launch, missingChromium, newPage, screenshot, signIn, viewports } from './lib/browser.js';
import { confidential, startLocalAPI, target, user } from './lib/localapi.js';
import { exchange, push, verifyJWT } from './lib/oauth.js';

const skip = await missingChromium();

/** signIn as username/password, then the page that follows. */
async function signInAs(page, username, password) {
  await signIn(page, { username, password });
  await page.waitForLoadState();
}

async function expectLoginPage(page) {
  await page.getByRole('heading', { level: 1, name: 'Sign in' }).waitFor();
  assert.equal(await page.locator('input[name=username]').count(), 1);
  assert.equal(await page.locator('input[name=password]').count(), 1);
  assert.equal(await page.locator('button[type=submit], input[type=submit]').count(), 1, 'one submit button');
}

async function expectConsentPage(page) {
  await page.getByRole('button', { name: 'Allow' }).waitFor();
  assert.equal(await page.locator('button[name=decision][value=approve]').count(), 1);
  assert.equal(await page.locator('button[name=decision][value=deny]').count(), 1);
}

/** Waits for the redirect to the client's /callback and returns its query. */
async function callbackParams(page, server) {
  await page.waitForURL((u) => u.href.startsWith(`${server.callback}?`));
  return new URL(page.url()).searchParams;
}

function assertPageHeaders(response, what) {
  const h = response.headers();
  assert.match(h['content-security-policy'] ?? '', /default-src 'none'/, `${what}: CSP`);
  assert.match(h['content-security-policy'], /style-src 'sha256-/, `${what}: CSP style hash`);
  assert.equal(h['x-frame-options'], 'DENY', `${what}: X-Frame-Options`);
  assert.match(h['cache-control'] ?? '', /no-store/, `${what}: Cache-Control`);
}

describe('login and consent pages in Chromium', { skip: skip || false }, () => {
  let server, browser;
  const pages = [];

  before(async () => {
    // Assigned one by one, so that after() closes whichever started.
    await Promise.all([startLocalAPI().then((s) => (server = s)), launch().then((b) => (browser = b))]);
  });
  after(async () => {
    await browser?.close();
    await server?.stop();
  });

  async function open(viewport) {
    const page = await newPage(browser, viewport);
    pages.push(page);
    return page;
  }

  /** Page errors, console errors (CSP violations) and failed requests fail the test. */
  function assertNoProblems(page) {
    assert.deepEqual(page.problems, [], 'browser reported problems');
  }

  test('success: sign in, allow, back at /callback with code, state and iss; the code buys tokens', async () => {
    const req = await push(server);
    const page = await open();

    const login = await page.goto(req.authorizeURL);
    assert.equal(login.status(), 200);
    assertPageHeaders(login, 'login page');
    await expectLoginPage(page);
    assert.match(await page.title(), /Sign in/);
    assert.match(await page.locator('main').innerText(), new RegExp(confidential.name));
    // The request's parameters travel in the back channel only.
    const html = await page.content();
    assert.ok(!html.includes(req.state) && !html.includes(req.nonce), 'state or nonce leaked into the page');
    assert.ok((await login.body()).length < 16 * 1024, 'login page under 16 KiB');

    await signInAs(page, user.username, user.password);
    // Post/Redirect/Get: the consent page is a GET of /authorize again.
    assert.equal(new URL(page.url()).pathname, '/authorize');
    await expectConsentPage(page);
    const consent = await page.locator('main').innerText();
    assert.match(consent, new RegExp(confidential.name), 'the consent page names the client');
    assert.match(consent, new RegExp(user.username), 'the consent page names the user');
    const redirectHost = new URL(server.callback).host;
    assert.ok(consent.includes(redirectHost), `the consent page names where the browser goes (${redirectHost})`);
    // The requested scopes, in plain words.
    const permissions = page.getByRole('list', { name: /will be able to/i });
    assert.deepEqual(
      (await permissions.getByRole('listitem').allInnerTexts()).map((t) => t.split('\n')[0].trim()),
      ['Sign you in', 'See your profile', 'See your email address'],
    );

    await page.getByRole('button', { name: 'Allow' }).click();
    const q = await callbackParams(page, server);
    assert.ok(q.get('code'), 'code');
    assert.equal(q.get('state'), req.state);
    assert.equal(q.get('iss'), server.issuer);
    assert.equal(q.get('error'), null);
    assertNoProblems(page);

    const t = await exchange(server, q.get('code'), req.verifier);
    assert.equal(t.status, 200, JSON.stringify(t.body));
    assert.match(t.headers.get('cache-control'), /no-store/);
    assert.equal(t.body.token_type.toLowerCase(), 'bearer');
    assert.ok(t.body.expires_in > 0);
    assert.deepEqual(t.body.scope.split(' ').sort(), ['email', 'openid', 'profile']);

    const at = await verifyJWT(server, t.body.access_token, { typ: 'at+jwt' });
    assert.equal(at.payload.sub, user.claims.sub);
    assert.equal(at.payload.client_id, confidential.id);
    const id = await verifyJWT(server, t.body.id_token, { audience: confidential.id });
    assert.equal(id.payload.sub, user.claims.sub);
    assert.equal(id.payload.nonce, req.nonce);
    assert.equal(id.payload.name, user.claims.name);
    assert.equal(id.payload.email, user.claims.email);
    assert.ok(id.payload.auth_time <= Math.ceil(Date.now() / 1000));
  });

  test('deny: back at /callback with error=access_denied, state and iss, no code', async () => {
    const req = await push(server);
    const page = await open();
    await page.goto(req.authorizeURL);
    await signInAs(page, user.username, user.password);
    await expectConsentPage(page);
    await page.getByRole('button', { name: 'Deny' }).click();
    const q = await callbackParams(page, server);
    assert.equal(q.get('error'), 'access_denied');
    assert.equal(q.get('state'), req.state);
    assert.equal(q.get('iss'), server.issuer);
    assert.equal(q.get('code'), null);
    assertNoProblems(page);
  });

  test('form_post: the browser posts the response to the client under the CSP; form_post.jwt posts a signed one', async () => {
    for (const mode of ['form_post', 'form_post.jwt']) {
      const req = await push(server, { response_mode: mode });
      const page = await open();
      await page.goto(req.authorizeURL);
      await signInAs(page, user.username, user.password);
      await expectConsentPage(page);
      // The answer to Allow is the page whose script submits its form.
      const formPage = page.waitForResponse((r) => r.url() === `${server.issuer}/authorize` && r.request().method() === 'POST');
      const posted = page.waitForRequest((r) => r.url() === server.callback && r.method() === 'POST');
      await page.getByRole('button', { name: 'Allow' }).click();
      const answer = await formPage;
      assert.equal(answer.status(), 200, mode);
      assertPageHeaders(answer, `${mode} page`);
      const csp = answer.headers()['content-security-policy'];
      assert.match(csp, /script-src 'sha256-[A-Za-z0-9+/=]+'/, `${mode}: the script allowed by its hash only`);
      assert.match(csp, new RegExp(`form-action ${server.callback}(;|$)`), `${mode}: form-action is the redirect URI`);
      assert.equal(answer.headers()['referrer-policy'], 'no-referrer');
      // Form Post Response Mode §2: POSTed, form-encoded, to the redirect URI.
      const request = await posted;
      assert.match(request.headers()['content-type'], /application\/x-www-form-urlencoded/);
      const body = new URLSearchParams(request.postData());
      await page.waitForURL(server.callback);
      let code;
      if (mode === 'form_post') {
        assert.deepEqual([...body.keys()].sort(), ['code', 'iss', 'state']);
        assert.equal(body.get('state'), req.state);
        assert.equal(body.get('iss'), server.issuer);
        code = body.get('code');
        assert.equal(await page.locator('#code').innerText(), code, 'the callback page got the posted code');
      } else {
        assert.deepEqual([...body.keys()], ['response']);
        const { payload } = await verifyJWT(server, body.get('response'), { audience: confidential.id });
        assert.equal(payload.state, req.state);
        code = payload.code;
      }
      // The browser ran the one script without a CSP violation and posted nowhere else.
      assertNoProblems(page);
      const t = await exchange(server, code, req.verifier);
      assert.equal(t.status, 200, JSON.stringify(t.body));
    }
  });

  test('form_post to a client that redirects after the POST (Post/Redirect/Get): the CSP lets the redirect through', async () => {
    // The relying party: POST /cb takes the response and answers 303 to /done on its
    // own origin. form-action names /cb exactly; CSP Level 3 §6.7.2.8 ignores paths
    // after a redirect, so the client's origin is what the redirect must stay on.
    const received = [];
    const rp = createServer((req, res) => {
      if (req.method === 'POST' && req.url === '/cb') {
        let body = '';
        req.on('data', (d) => (body += d));
        req.on('end', () => {
          received.push(new URLSearchParams(body));
          res.writeHead(303, { location: '/done' }).end();
        });
        return;
      }
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end('<!doctype html><title>done</title><p>signed in</p>');
    });
    await new Promise((ok) => rp.listen(0, '127.0.0.1', ok));
    const rpOrigin = `http://127.0.0.1:${rp.address().port}`;
    const srv = await startLocalAPI({}, { redirectURIs: [`${rpOrigin}/cb`] });
    try {
      const req = await push(srv, { response_mode: 'form_post', redirect_uri: `${rpOrigin}/cb` });
      const page = await open();
      await page.goto(req.authorizeURL);
      await signInAs(page, user.username, user.password);
      await expectConsentPage(page);
      await page.getByRole('button', { name: 'Allow' }).click();
      await page.waitForURL(`${rpOrigin}/done`);
      assert.equal(received.length, 1);
      assert.equal(received[0].get('state'), req.state);
      assert.equal(received[0].get('iss'), srv.issuer);
      assert.ok(received[0].get('code'));
      assertNoProblems(page);
    } finally {
      await srv.stop();
      rp.close();
    }
  });

  test('wrong password: an accessible error, the username kept, then the right one works', async () => {
    const req = await push(server);
    const page = await open();
    await page.goto(req.authorizeURL);
    await signInAs(page, user.username, 'not the password');

    await expectLoginPage(page);
    const alert = page.getByRole('alert');
    assert.match(await alert.innerText(), /username or password is incorrect/i);
    const alertID = await alert.getAttribute('id');
    assert.ok(alertID, 'the alert has an id for aria-describedby');
    for (const label of ['Username', 'Password']) {
      const input = page.getByLabel(label);
      assert.equal(await input.getAttribute('aria-invalid'), 'true', `${label} aria-invalid`);
      assert.ok((await input.getAttribute('aria-describedby'))?.split(' ').includes(alertID), `${label} aria-describedby`);
    }
    assert.equal(await page.getByLabel('Username').inputValue(), user.username, 'the username is kept');
    assert.equal(await page.getByLabel('Password').inputValue(), '', 'the password is not echoed');
    assert.equal(await page.evaluate(() => document.activeElement?.id), 'password', 'focus is on the password');

    await signInAs(page, user.username, user.password);
    await expectConsentPage(page);
    assertNoProblems(page);
  });

  test('reload before completion: the login and consent pages come back, then the flow completes', async () => {
    const req = await push(server);
    const page = await open();
    await page.goto(req.authorizeURL);
    await expectLoginPage(page);
    await page.reload();
    await expectLoginPage(page);
    await signInAs(page, user.username, user.password);
    await expectConsentPage(page);
    for (let i = 0; i < 2; i++) {
      const r = await page.reload();
      assert.equal(r.status(), 200);
      await expectConsentPage(page); // still signed in: no password asked again
    }
    await page.getByRole('button', { name: 'Allow' }).click();
    const q = await callbackParams(page, server);
    const t = await exchange(server, q.get('code'), req.verifier);
    assert.equal(t.status, 200, JSON.stringify(t.body));
    assertNoProblems(page);
  });

  test('reuse after completion: the same request_uri shows the error page, in any browser', async () => {
    const req = await push(server);
    const page = await open();
    await page.goto(req.authorizeURL);
    await signInAs(page, user.username, user.password);
    await page.getByRole('button', { name: 'Allow' }).click();
    await callbackParams(page, server);

    for (const p of [page, await open()]) {
      const r = await p.goto(req.authorizeURL);
      assert.equal(r.status(), 400);
      assertPageHeaders(r, 'error page');
      await p.getByRole('heading', { level: 1, name: /cannot continue/i }).waitFor();
      assert.ok((await p.getByRole('alert').innerText()).length > 0, 'the alert says why');
      assert.match(await p.locator('main').innerText(), /invalid_request_uri/);
      assert.equal(await p.locator('form, input, button').count(), 0, 'no form on the error page');
      assertNoProblems(p);
    }
  });

  test('keyboard only: focus order, visible focus, Enter submits', async () => {
    const req = await push(server);
    const page = await open();
    await page.goto(req.authorizeURL);
    await expectLoginPage(page);

    const focused = () => focusIndicator(page);
    const assertVisibleFocus = (f) => {
      assert.notEqual(f.outlineStyle, 'none', `focus on ${f.id || f.text} is visible`);
      assert.ok(f.outlineWidth >= 2, `focus ring of ${f.id || f.text} is at least 2px`);
      assert.ok(f.ratio >= 3, `focus ring of ${f.id || f.text} has contrast ${f.ratio} >= 3`);
    };

    // The username field has focus on arrival; Tab walks the form in reading order.
    let f = await focused();
    assert.equal(f.id, 'username');
    await page.keyboard.type(user.username);
    const order = [];
    for (let i = 0; i < 2; i++) {
      await page.keyboard.press('Tab');
      f = await focused();
      assertVisibleFocus(f);
      order.push(f.id || f.text);
    }
    assert.deepEqual(order, ['password', 'Sign in']);
    await page.keyboard.press('Shift+Tab');
    assert.equal((await focused()).id, 'password');
    await page.keyboard.type(user.password);
    await page.keyboard.press('Enter');
    await page.waitForLoadState();
    await expectConsentPage(page);

    // Consent: no button is pre-focused (the user reads first); Tab reaches Allow, then Deny.
    f = await focused();
    assert.ok(!['button'].includes(f.tag), `nothing pre-focused on the consent page, got ${f.tag} ${f.text}`);
    const buttons = [];
    for (let i = 0; i < 2; i++) {
      await page.keyboard.press('Tab');
      f = await focused();
      assertVisibleFocus(f);
      buttons.push(f.value);
    }
    assert.deepEqual(buttons, ['approve', 'deny']);
    await page.keyboard.press('Shift+Tab');
    assert.equal((await focused()).value, 'approve');
    await page.keyboard.press('Enter');
    const q = await callbackParams(page, server);
    assert.ok(q.get('code'));
    assertNoProblems(page);
  });

  for (const [scheme, viewport] of [['light', 'desktop'], ['dark', 'desktop'], ['light', 'mobile']]) {
    test(`contrast (WCAG AA) of every page, ${scheme} scheme, ${viewport}`, async () => {
      const page = await open(viewports[viewport]);
      await page.emulateMedia({ colorScheme: scheme });
      const req = await push(server);
      const seen = {};
      await page.goto(req.authorizeURL);
      seen.login = await contrastFailures(page);
      await signInAs(page, user.username, 'wrong password');
      seen['login-error'] = await contrastFailures(page);
      await signInAs(page, user.username, user.password);
      seen.consent = await contrastFailures(page);
      await page.getByRole('button', { name: 'Allow' }).click();
      await callbackParams(page, server);
      await page.goto(req.authorizeURL);
      seen.error = await contrastFailures(page);
      for (const [name, failures] of Object.entries(seen)) assert.deepEqual(failures, [], `${name} page`);
    });
  }

  for (const [name, viewport] of Object.entries(viewports)) {
    test(`screenshots and layout at ${name} width (${viewport.width}px)`, async () => {
      const page = await open(viewport);
      const minTarget = name === 'mobile' ? 44 : 24; // WCAG 2.5.8 minimum; 44px on touch screens
      const check = async (what) => {
        await screenshot(page, what, name);
        if (what !== 'callback') assert.deepEqual(await layoutProblems(page, minTarget), [], `${what} at ${name} width`);
        // The stylesheet applied (its CSP hash matched): the card has its styling.
        if (what !== 'callback') assert.equal(await page.locator('main').evaluate((m) => getComputedStyle(m).display), 'block', `${what}: styled`);
        if (what !== 'callback') assert.equal(await page.locator('body').evaluate((m) => getComputedStyle(m).display), 'grid', `${what}: styled`);
      };
      const req = await push(server);
      await page.goto(req.authorizeURL);
      await check('login');
      await signInAs(page, user.username, 'wrong password');
      await page.getByRole('alert').waitFor();
      await check('login-error');
      await signInAs(page, user.username, user.password);
      await expectConsentPage(page);
      await check('consent');
      await page.getByRole('button', { name: 'Allow' }).click();
      await callbackParams(page, server);
      await check('callback');
      await page.goto(req.authorizeURL);
      await check('error');
      // The browser has a single sign-on session now: prompt=select_account shows the
      // login page with "Continue as" and "Not you?" (docs/design.md decision 31).
      await page.goto((await push(server, { prompt: 'select_account' })).authorizeURL);
      await page.getByRole('button', { name: 'Not you?' }).waitFor();
      await check('login-session');
      if (name === 'desktop') {
        // The dark scheme, for the reviewer's eyes, from a browser without a session
        // (with one, the login page is skipped).
        await page.context().clearCookies();
        await page.emulateMedia({ colorScheme: 'dark' });
        const req2 = await push(server);
        await page.goto(req2.authorizeURL);
        await screenshot(page, 'login', 'desktop-dark');
        await signInAs(page, user.username, user.password);
        await screenshot(page, 'consent', 'desktop-dark');
        await page.goto(req.authorizeURL);
        await screenshot(page, 'error', 'desktop-dark');
      }
      assertNoProblems(page);
    });
  }

  // The pages' flows ran on cold instances first, then on warm ones: run-lambda logs
  // one line per cold start, and after every test above there are no more of them
  // than LAMBDA_CONCURRENCY (2) per function.
  test('lambda target: cold starts, then warm instances', { skip: target !== 'lambda' && 'PARGATE_TARGET=lambda only' }, () => {
    const colds = {};
    for (const [, fn] of server.log().matchAll(/cold start (\w+):/g)) colds[fn] = (colds[fn] ?? 0) + 1;
    for (const fn of ['ParFunction', 'AuthorizeFunction', 'TokenFunction', 'DiscoveryFunction']) {
      assert.ok(colds[fn] >= 1 && colds[fn] <= 2, `${fn}: ${colds[fn] ?? 0} cold starts, want 1 or 2 (${JSON.stringify(colds)})`);
    }
  });
});

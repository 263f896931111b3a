// Headless Chromium from the system (apt's /usr/bin/chromium), driven by playwright-core.
// Nothing is downloaded: playwright-core never fetches browsers.

import { access, mkdir } from 'node:fs/promises';
import { constants } from 'node:fs';
import { join, resolve } from 'node:path';
import { chromium } from 'playwright-core';

export const executablePath = process.env.CHROMIUM_PATH || '/usr/bin/chromium';

export const chromiumArgs = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

export const viewports = {
  desktop: { width: 1280, height: 800 },
  mobile: { width: 390, height: 844 },
};

/**
 * The reason the browser tests cannot run, or '' when they can. Under CI=true a
 * missing Chromium throws: CI must fail, never skip.
 */
export async function missingChromium() {
  try {
    await access(executablePath, constants.X_OK);
    return '';
  } catch {
    const why = `${executablePath} not found (apt-get install -y chromium, or set CHROMIUM_PATH)`;
    if (process.env.CI === 'true') throw new Error(`CI=true: ${why}`);
    return why;
  }
}

/** Launches Chromium; chromium.launch gives it a fresh temporary profile every time. */
export async function launch() {
  return chromium.launch({ executablePath, args: chromiumArgs, headless: true, timeout: 30_000 });
}

/**
 * A new context (its own cookies) and page at the given viewport, with options added
 * to the context's (e.g. ignoreHTTPSErrors for a server whose local CA the browser
 * does not know). Page errors, console errors (CSP violations among them) and failed
 * requests are collected in page.problems, which tests expect to stay empty.
 */
export async function newPage(browser, viewport = viewports.desktop, options = {}) {
  const context = await browser.newContext({ viewport, locale: 'en-US', ...options });
  context.setDefaultTimeout(20_000);
  const page = await context.newPage();
  page.problems = [];
  page.on('pageerror', (e) => page.problems.push(`pageerror: ${e.message}`));
  page.on('console', (m) => {
    // An error page's own 4xx status is logged as a failed load; the response
    // listener below judges statuses instead.
    if (/^Failed to load resource: the server responded with a status of/.test(m.text())) return;
    if (m.type() === 'error' || m.type() === 'warning') page.problems.push(`console ${m.type()}: ${m.text()}`);
  });
  page.on('response', (r) => {
    const req = r.request();
    // Pages load nothing besides themselves; a failing subresource is a problem.
    if (r.status() >= 400 && !req.isNavigationRequest() && !r.url().endsWith('/favicon.ico')) {
      page.problems.push(`subresource ${r.status()}: ${r.url()}`);
    }
  });
  page.on('requestfailed', (r) => {
    // A favicon request is the browser's own business.
    if (!r.url().endsWith('/favicon.ico')) page.problems.push(`request failed: ${r.url()} ${r.failure()?.errorText}`);
  });
  return page;
}

export const screenshotDir = resolve(import.meta.dirname, '../../screenshots');

/** Saves a full-page screenshot as screenshots/<name>-<viewportName>.png. */
export async function screenshot(page, name, viewportName) {
  await mkdir(screenshotDir, { recursive: true });
  const path = join(screenshotDir, `${name}-${viewportName}.png`);
  await page.screenshot({ path, fullPage: true });
  return path;
}

/**
 * Fills the login form by its labels (the page contract's username and password
 * fields) as `who` and submits it with its button.
 */
export async function signIn(page, who) {
  await page.getByLabel('Username').fill(who.username);
  await page.getByLabel('Password').fill(who.password);
  await page.getByRole('button', { name: 'Sign in' }).click();
}

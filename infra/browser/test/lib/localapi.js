// Starts the server under test on a free loopback port, with a seed file whose
// clients redirect to a /callback page. PARGATE_TARGET chooses the server: local (the
// default) is `make run` - infra/localapi, built once per test process, which serves
// /callback itself; lambda is `make run-lambda` - infra/apigw/cmd/run-lambda and the
// functions' bootstraps, built once per test process, each server with its own
// moto_server, and /callback on a small server of its own here (the HTTP API routes
// only template.yaml's paths).

import { spawn, execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer as createHTTPServer } from 'node:http';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
export const repoRoot = resolve(import.meta.dirname, '../../../..');
// The module whose ./infra/localapi is built: this repository unless PARGATE_SRC
// names another checkout (e.g. a clean copy while the working tree is mid-change).
const sourceRoot = process.env.PARGATE_SRC || repoRoot;
// The server under test: local (`make run`) or lambda (`make run-lambda`).
export const target = process.env.PARGATE_TARGET || 'local';
if (!['local', 'lambda'].includes(target)) throw new Error(`PARGATE_TARGET=${target}: want local or lambda`);

// Fixture clients and user. Secrets are 43+ characters, as the seed requires.
export const confidential = {
  id: 'browser-app',
  name: 'Acme Budget Planner',
  secret: 'browser-app-secret-0123456789abcdefghijklmnopqrstuvwxyz',
};
// The relying party of openid-client.test.js: client_secret_post, openid-client's default.
export const postClient = {
  id: 'browser-rp',
  name: 'Acme Budget Sync',
  secret: 'browser-rp-secret-0123456789abcdefghijklmnopqrstuvwxyz',
};
export const publicClient = { id: 'browser-spa', name: 'Acme Budget (web)' };
// openid-client.test.js's refreshing relying party: allowed the refresh_token grant,
// so offline_access yields a refresh token (rotated on every use).
export const offlineClient = {
  id: 'browser-rp-offline',
  name: 'Acme Budget Sync (offline)',
  secret: 'browser-rp-offline-secret-0123456789abcdefghijklmnopqrstuvwxyz',
};
// A public client that must use DPoP (dpop_bound_access_tokens), with refresh tokens:
// RFC 9449 §5 binds a public client's refresh tokens to its DPoP key.
export const dpopPublicClient = { id: 'browser-dpop-spa', name: 'Acme Budget (DPoP)' };
export const user = {
  username: 'alice',
  password: 'correct horse battery staple',
  claims: {
    sub: '7d2f0c1e-alice',
    name: 'Alice Example',
    given_name: 'Alice',
    family_name: 'Example',
    preferred_username: 'alice',
    email: 'alice@example.org',
    email_verified: true,
  },
};

function seed(callback) {
  return {
    clients: [
      {
        client_id: confidential.id,
        client_name: confidential.name,
        client_secret: confidential.secret,
        token_endpoint_auth_method: 'client_secret_basic',
        redirect_uris: [callback],
        grant_types: ['authorization_code'],
        response_types: ['code'],
        scope: 'openid profile email',
      },
      {
        client_id: postClient.id,
        client_name: postClient.name,
        client_secret: postClient.secret,
        token_endpoint_auth_method: 'client_secret_post',
        redirect_uris: [callback],
        scope: 'openid profile email',
      },
      {
        client_id: publicClient.id,
        client_name: publicClient.name,
        token_endpoint_auth_method: 'none',
        redirect_uris: [callback],
        scope: 'openid profile',
      },
      {
        client_id: offlineClient.id,
        client_name: offlineClient.name,
        client_secret: offlineClient.secret,
        token_endpoint_auth_method: 'client_secret_basic',
        redirect_uris: [callback],
        grant_types: ['authorization_code', 'refresh_token'],
        scope: 'openid profile email offline_access',
      },
      {
        client_id: dpopPublicClient.id,
        client_name: dpopPublicClient.name,
        token_endpoint_auth_method: 'none',
        redirect_uris: [callback],
        grant_types: ['authorization_code', 'refresh_token'],
        scope: 'openid profile offline_access',
        dpop_bound_access_tokens: true,
      },
    ],
    users: [{ username: user.username, password: user.password, claims: user.claims }],
  };
}

let built; // one build per test process: a promise of what startOn runs

async function build() {
  const dir = await mkdtemp(join(tmpdir(), 'pargate-localapi-'));
  process.once('exit', () => rm(dir, { recursive: true, force: true }));
  if (target === 'local') {
    const bin = join(dir, 'localapi');
    await run('go', ['build', '-o', bin, './infra/localapi'], { cwd: sourceRoot });
    return { bin, args: [] };
  }
  const bin = join(dir, 'run-lambda');
  await run('go', ['build', '-o', bin, './infra/apigw/cmd/run-lambda'], { cwd: sourceRoot, env: { ...process.env, GOOS: '', GOARCH: '' } });
  const bootstraps = join(dir, 'bootstraps');
  await run(bin, ['-build', bootstraps], { cwd: sourceRoot });
  return { bin, args: ['-bootstraps', bootstraps] };
}

async function freePort() {
  return new Promise((ok, fail) => {
    const s = createServer();
    s.unref();
    s.on('error', fail);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => ok(port));
    });
  });
}

const escapeHTML = (v) => String(v ?? '').replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/**
 * The relying party's redirect target on the lambda target, on its own port: a page
 * showing what the authorization response carried, as the local API's /callback does.
 * Returns {url, close()}.
 */
async function startCallback() {
  const srv = createHTTPServer((req, res) => {
    const u = new URL(req.url, 'http://127.0.0.1');
    if (u.pathname !== '/callback') {
      res.writeHead(404, { 'Content-Type': 'text/plain' }).end('not found');
      return;
    }
    const q = u.searchParams;
    const result = q.get('error')
      ? `<p>The authorization server answered <strong>${escapeHTML(q.get('error'))}</strong>: ${escapeHTML(q.get('error_description'))}</p>`
      : `<p>Authorization code: <code id="code">${escapeHTML(q.get('code'))}</code></p>`;
    res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8', 'Cache-Control': 'no-store', 'Referrer-Policy': 'no-referrer' });
    res.end(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Demo client callback</title>
<meta name="viewport" content="width=device-width, initial-scale=1"></head>
<body style="font-family:system-ui,sans-serif;max-width:48rem;margin:2rem auto;padding:0 1rem">
<h1>Demo client callback</h1>
${result}
<p>state: <code>${escapeHTML(q.get('state'))}</code> · iss: <code>${escapeHTML(q.get('iss'))}</code></p>
</body></html>`);
  });
  await new Promise((ok, fail) => srv.once('error', fail).listen(0, '127.0.0.1', ok));
  return { url: `http://127.0.0.1:${srv.address().port}/callback`, close: () => new Promise((ok) => srv.close(ok)) };
}

/**
 * Starts the server under test (PARGATE_TARGET). env adds to (or overrides) its
 * environment, e.g. {PAR_EXPIRES_IN: '5'}; on the lambda target the variables
 * template.yaml gives the functions override its values, as `make run-lambda` takes
 * them. Returns {issuer, port, meta, callback (the redirect URI), stop(), log()}.
 */
export async function startLocalAPI(env = {}) {
  built ??= build();
  const bin = await built;
  let lastError;
  for (let attempt = 0; attempt < 3; attempt++) {
    const port = await freePort();
    try {
      return await startOn(bin, port, env);
    } catch (err) {
      lastError = err; // the port may have been taken in between: try another one
    }
  }
  throw lastError;
}

async function startOn({ bin, args }, port, env) {
  const issuer = `http://127.0.0.1:${port}`;
  const callbackServer = target === 'lambda' ? await startCallback() : null;
  const callback = callbackServer?.url ?? `${issuer}/callback`;
  const dir = await mkdtemp(join(tmpdir(), 'pargate-seed-'));
  const seedFile = join(dir, 'seed.json');
  await writeFile(seedFile, JSON.stringify(seed(callback), null, 2), { mode: 0o600 });
  const child = spawn(bin, args, {
    cwd: target === 'local' ? repoRoot : sourceRoot,
    env: {
      ...process.env,
      ADDR: `127.0.0.1:${port}`,
      ISSUER: issuer,
      SEED_FILE: seedFile,
      STORE: 'memory',
      LOG_LEVEL: 'warn',
      // Two instances per function at most: several servers run at once.
      LAMBDA_CONCURRENCY: '2',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (d) => (output += d));
  child.stderr.on('data', (d) => (output += d));
  const exited = new Promise((ok) => child.once('exit', (code, signal) => ok({ code, signal })));
  const cleanUp = async () => {
    await callbackServer?.close();
    await rm(dir, { recursive: true, force: true });
  };
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    await exited;
    await cleanUp();
  };
  // Ready when discovery answers; give up if the process exits or the time passes
  // (run-lambda starts moto_server and creates the table and secrets first).
  const seconds = target === 'lambda' ? 90 : 20;
  const deadline = Date.now() + seconds * 1000;
  for (;;) {
    const early = await Promise.race([exited, new Promise((ok) => setTimeout(ok, 100))]);
    if (early) {
      await cleanUp();
      throw new Error(`${target} server exited (${JSON.stringify(early)}):\n${output}`);
    }
    try {
      const r = await fetch(`${issuer}/.well-known/openid-configuration`);
      if (r.ok) {
        const meta = await r.json();
        return { issuer, port, meta, callback, stop, log: () => output };
      }
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`${target} server did not answer on ${issuer} within ${seconds} s:\n${output}`);
    }
  }
}

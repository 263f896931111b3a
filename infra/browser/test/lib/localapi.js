// Builds infra/localapi once per test process and starts it on a free loopback port
// with a seed file whose clients redirect to the local API's own /callback page.

import { spawn, execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
export const repoRoot = resolve(import.meta.dirname, '../../../..');
// The module whose ./infra/localapi is built: this repository unless PARGATE_SRC
// names another checkout (e.g. a clean copy while the working tree is mid-change).
const sourceRoot = process.env.PARGATE_SRC || repoRoot;

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

function seed(issuer) {
  return {
    clients: [
      {
        client_id: confidential.id,
        client_name: confidential.name,
        client_secret: confidential.secret,
        token_endpoint_auth_method: 'client_secret_basic',
        redirect_uris: [`${issuer}/callback`],
        grant_types: ['authorization_code'],
        response_types: ['code'],
        scope: 'openid profile email',
      },
      {
        client_id: postClient.id,
        client_name: postClient.name,
        client_secret: postClient.secret,
        token_endpoint_auth_method: 'client_secret_post',
        redirect_uris: [`${issuer}/callback`],
        scope: 'openid profile email',
      },
      {
        client_id: publicClient.id,
        client_name: publicClient.name,
        token_endpoint_auth_method: 'none',
        redirect_uris: [`${issuer}/callback`],
        scope: 'openid profile',
      },
      {
        client_id: offlineClient.id,
        client_name: offlineClient.name,
        client_secret: offlineClient.secret,
        token_endpoint_auth_method: 'client_secret_basic',
        redirect_uris: [`${issuer}/callback`],
        grant_types: ['authorization_code', 'refresh_token'],
        scope: 'openid profile email offline_access',
      },
      {
        client_id: dpopPublicClient.id,
        client_name: dpopPublicClient.name,
        token_endpoint_auth_method: 'none',
        redirect_uris: [`${issuer}/callback`],
        grant_types: ['authorization_code', 'refresh_token'],
        scope: 'openid profile offline_access',
        dpop_bound_access_tokens: true,
      },
    ],
    users: [{ username: user.username, password: user.password, claims: user.claims }],
  };
}

let built; // one build per test process: a promise of the binary's path

async function build() {
  const dir = await mkdtemp(join(tmpdir(), 'pargate-localapi-'));
  const bin = join(dir, 'localapi');
  await run('go', ['build', '-o', bin, './infra/localapi'], { cwd: sourceRoot });
  process.once('exit', () => rm(dir, { recursive: true, force: true }));
  return bin;
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

/**
 * Starts the local API. env adds to (or overrides) its environment, e.g.
 * {PAR_EXPIRES_IN: '5'}. Returns {issuer, port, stop(), log()}.
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

async function startOn(bin, port, env) {
  const issuer = `http://127.0.0.1:${port}`;
  const dir = await mkdtemp(join(tmpdir(), 'pargate-seed-'));
  const seedFile = join(dir, 'seed.json');
  await writeFile(seedFile, JSON.stringify(seed(issuer), null, 2), { mode: 0o600 });
  const child = spawn(bin, [], {
    cwd: repoRoot,
    env: {
      ...process.env,
      ADDR: `127.0.0.1:${port}`,
      ISSUER: issuer,
      SEED_FILE: seedFile,
      STORE: 'memory',
      LOG_LEVEL: 'warn',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (d) => (output += d));
  child.stderr.on('data', (d) => (output += d));
  const exited = new Promise((ok) => child.once('exit', (code, signal) => ok({ code, signal })));
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    await exited;
    await rm(dir, { recursive: true, force: true });
  };
  // Ready when discovery answers; give up if the process exits or 20 s pass.
  const deadline = Date.now() + 20_000;
  for (;;) {
    const early = await Promise.race([exited, new Promise((ok) => setTimeout(ok, 100))]);
    if (early) {
      await rm(dir, { recursive: true, force: true });
      throw new Error(`localapi exited (${JSON.stringify(early)}):\n${output}`);
    }
    try {
      const r = await fetch(`${issuer}/.well-known/openid-configuration`);
      if (r.ok) {
        const meta = await r.json();
        return { issuer, port, meta, stop, log: () => output };
      }
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`localapi did not answer on ${issuer} within 20 s:\n${output}`);
    }
  }
}

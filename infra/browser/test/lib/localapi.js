// Starts the server under test on a free loopback port, with a seed file whose
// clients redirect to a /callback page. PARGATE_TARGET chooses the server: local (the
// default) is `make run` - infra/localapi, built once per test process, which serves
// /callback itself; lambda is `make run-lambda` - infra/apigw/cmd/run-lambda and the
// functions' bootstraps, built once per test process, each server with its own
// moto_server, and /callback on a small server of its own here (the HTTP API routes
// only template.yaml's paths).

import { spawn, execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer as createHTTPServer } from 'node:http';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { Agent, fetch as undiciFetch } from 'undici';

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
// The JARM relying party of openid-client.test.js: pins authorization_signed_response_alg
// to the algorithm of the server's key (RS256, the default profile's KEY_ALG).
export const jarmClient = {
  id: 'browser-rp-jarm',
  name: 'Acme Budget Sync (signed responses)',
  secret: 'browser-rp-jarm-secret-0123456789abcdefghijklmnopqrstuvwxyz',
  alg: 'RS256',
};
// The mutual-TLS relying party (RFC 8705 tls_client_auth, certificate-bound tokens):
// its certificate is issued by the client CA that startLocalAPI({}, {tls: true})
// makes and names in MTLS_CA_FILE.
export const mtlsClient = { id: 'browser-rp-mtls', name: 'Acme Budget Sync (mTLS)', subject: 'CN=browser-rp-mtls,O=Acme' };
// A native app (application_type native, RFC 8252) without credentials: its registered
// loopback IP redirect has no port, the app listening on an ephemeral one (§7.3); and
// a private-use URI scheme redirect (§7.1).
export const nativeClient = {
  id: 'browser-native',
  name: 'Acme Budget (desktop)',
  redirect: 'http://127.0.0.1/cb',
  privateUse: 'com.example.pargate:/cb',
};
// The service of openid-client.test.js's client credentials test (RFC 6749 §4.4): a
// confidential client registered for that grant only, without redirect URIs; its
// scope includes openid, which the grant never grants.
export const serviceClient = {
  id: 'browser-service',
  name: 'Acme Budget Reports (service)',
  secret: 'browser-service-secret-0123456789abcdefghijklmnopqrstuvwxyz',
};
// A browser-based app (draft-ietf-oauth-browser-based-apps) without credentials
// whose page is on an origin of its own besides its redirect URI's: cors.test.js
// passes that origin to startLocalAPI (allowedOrigins) for allowed_origins.
export const corsClient = { id: 'browser-cors-spa', name: 'Acme Budget (single-page app)' };
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

// The relying party of sessions.test.js's remembered consent (docs/design.md decision
// 32): the only fixture client registered with the default consent metadata. Every
// other one is registered with consent: always, so that each of their authorizations
// shows the consent page the tests step through.
export const rememberClient = {
  id: 'browser-rp-remember',
  name: 'Acme Budget Sync (remembered consent)',
  secret: 'browser-rp-remember-secret-0123456789abcdefghijklmnopqrstuvwxyz',
};

function seed(callback, redirectURIs = [], allowedOrigins = [], backchannelLogoutURI = '') {
  const always = (clients) => clients.map((c) => ({ ...c, consent: 'always' }));
  return {
    clients: [
      {
        client_id: rememberClient.id,
        client_name: rememberClient.name,
        client_secret: rememberClient.secret,
        token_endpoint_auth_method: 'client_secret_basic',
        redirect_uris: [callback],
        grant_types: ['authorization_code'],
        scope: 'openid profile email',
      },
      ...always([
      {
        client_id: corsClient.id,
        client_name: corsClient.name,
        token_endpoint_auth_method: 'none',
        redirect_uris: [callback],
        grant_types: ['authorization_code', 'refresh_token'],
        scope: 'openid profile offline_access',
        ...(allowedOrigins.length ? { allowed_origins: allowedOrigins } : {}),
      },
      {
        client_id: confidential.id,
        client_name: confidential.name,
        client_secret: confidential.secret,
        token_endpoint_auth_method: 'client_secret_basic',
        redirect_uris: [callback, ...redirectURIs],
        // RP-Initiated Logout 1.0 §3: where /logout may return the browser.
        post_logout_redirect_uris: [callback],
        // Back-Channel Logout 1.0 §2.2: where a logout POSTs its logout token
        // (logout.test.js's receiver), when the test runs one.
        ...(backchannelLogoutURI ? { backchannel_logout_uri: backchannelLogoutURI, backchannel_logout_session_required: true } : {}),
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
      {
        client_id: jarmClient.id,
        client_name: jarmClient.name,
        client_secret: jarmClient.secret,
        token_endpoint_auth_method: 'client_secret_post',
        redirect_uris: [callback],
        scope: 'openid profile email',
        authorization_signed_response_alg: jarmClient.alg,
      },
      {
        client_id: nativeClient.id,
        client_name: nativeClient.name,
        application_type: 'native',
        token_endpoint_auth_method: 'none',
        redirect_uris: [nativeClient.redirect, nativeClient.privateUse],
        scope: 'openid profile',
      },
      {
        client_id: mtlsClient.id,
        client_name: mtlsClient.name,
        token_endpoint_auth_method: 'tls_client_auth',
        tls_client_auth_subject_dn: mtlsClient.subject,
        tls_client_certificate_bound_access_tokens: true,
        redirect_uris: [callback],
        scope: 'openid profile email',
      },
      {
        client_id: serviceClient.id,
        client_name: serviceClient.name,
        client_secret: serviceClient.secret,
        token_endpoint_auth_method: 'client_secret_basic',
        grant_types: ['client_credentials'],
        scope: 'openid reports:read reports:write',
      },
      ]),
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
 * showing what the authorization response carried, as the local API's /callback does,
 * in the query (GET) or, for form_post, in the form-encoded body (POST).
 * Returns {url, close()}.
 */
async function startCallback() {
  const srv = createHTTPServer(async (req, res) => {
    const u = new URL(req.url, 'http://127.0.0.1');
    if (u.pathname !== '/callback') {
      res.writeHead(404, { 'Content-Type': 'text/plain' }).end('not found');
      return;
    }
    let q = u.searchParams;
    if (req.method === 'POST') {
      let body = '';
      for await (const chunk of req) body += chunk;
      q = new URLSearchParams(body);
    }
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
${q.get('response') ? `<p>JARM response: <code id="response">${escapeHTML(q.get('response'))}</code></p>` : ''}
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
 * them. redirectURIs are registered for the confidential client besides the
 * callback; allowedOrigins are corsClient's allowed_origins; backchannelLogoutURI is the
 * confidential client's backchannel_logout_uri; port fixes the port (a server the
 * others must know before it starts); seedDoc(callback) replaces the fixture seed and
 * identityProviders are added to it (the federation suite, issue 13). With tls (local target only: API Gateway terminates TLS, run-lambda
 * serves plain HTTP) the local API serves HTTPS (TLS=true) with a local CA made in a
 * temporary TLS_DIR, and MTLS_CA_FILE names a client CA made here. Returns {issuer,
 * port, meta, callback (the redirect URI), stop(), log()}, with tls also {ca,
 * clientCert, clientKey} (PEM strings: the local CA, mtlsClient's certificate and key).
 */
export async function startLocalAPI(env = {}, { tls = false, redirectURIs = [], allowedOrigins = [], backchannelLogoutURI = '', port, seedDoc, identityProviders } = {}) {
  if (tls && target !== 'local') throw new Error('startLocalAPI: tls needs the local target');
  built ??= build();
  const bin = await built;
  let lastError;
  for (let attempt = 0; attempt < (port ? 1 : 3); attempt++) {
    const p = port ?? (await freePort());
    try {
      return await startOn(bin, p, env, tls, redirectURIs, allowedOrigins, backchannelLogoutURI, seedDoc, identityProviders);
    } catch (err) {
      lastError = err; // the port may have been taken in between: try another one
    }
  }
  throw lastError;
}

export { freePort };

/**
 * A client CA and a certificate it issues for mtlsClient (subject DN
 * mtlsClient.subject), made with the openssl command in dir. Returns the paths.
 */
async function clientCertificates(dir) {
  const f = (name) => join(dir, name);
  const subj = '/' + mtlsClient.subject.split(',').reverse().join('/');
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes'];
  await run('openssl', ['req', '-x509', ...ec, '-keyout', f('client-ca-key.pem'), '-out', f('client-ca.pem'), '-days', '1', '-subj', '/CN=pargate browser test client CA']);
  await run('openssl', ['req', ...ec, '-keyout', f('client-key.pem'), '-out', f('client.csr'), '-subj', subj]);
  await writeFile(f('client.ext'), 'basicConstraints=CA:FALSE\nkeyUsage=digitalSignature\nextendedKeyUsage=clientAuth\n');
  await run('openssl', ['x509', '-req', '-in', f('client.csr'), '-CA', f('client-ca.pem'), '-CAkey', f('client-ca-key.pem'), '-CAcreateserial', '-out', f('client.pem'), '-days', '1', '-extfile', f('client.ext')]);
  return { caFile: f('client-ca.pem'), certFile: f('client.pem'), keyFile: f('client-key.pem') };
}

async function startOn({ bin, args }, port, env, tls, redirectURIs, allowedOrigins, backchannelLogoutURI, seedDoc, identityProviders) {
  const issuer = `${tls ? 'https' : 'http'}://127.0.0.1:${port}`;
  const callbackServer = target === 'lambda' ? await startCallback() : null;
  const callback = callbackServer?.url ?? `${issuer}/callback`;
  const dir = await mkdtemp(join(tmpdir(), 'pargate-seed-'));
  const seedFile = join(dir, 'seed.json');
  // seedDoc(callback) replaces the fixture seed (an upstream pargate of the
  // federation suite); identityProviders are added to it (issue 13).
  const doc = seedDoc ? seedDoc(callback) : seed(callback, redirectURIs, allowedOrigins, backchannelLogoutURI);
  if (identityProviders) doc.identity_providers = identityProviders;
  await writeFile(seedFile, JSON.stringify(doc, null, 2), { mode: 0o600 });
  let tlsEnv = {};
  let certs;
  if (tls) {
    certs = await clientCertificates(dir);
    tlsEnv = { TLS: 'true', TLS_DIR: join(dir, 'tls'), MTLS_CA_FILE: certs.caFile };
  }
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
      ...tlsEnv,
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
      let extra = {};
      let init = {};
      if (tls) {
        // The server makes its CA at start; until then there is nothing to trust.
        const ca = await readFile(join(dir, 'tls', 'ca.pem'), 'utf8');
        extra = { ca, clientCert: await readFile(certs.certFile, 'utf8'), clientKey: await readFile(certs.keyFile, 'utf8') };
        init = { dispatcher: new Agent({ connect: { ca } }) };
      }
      const r = await undiciFetch(`${issuer}/.well-known/openid-configuration`, init);
      if (r.ok) {
        const meta = await r.json();
        return { issuer, port, meta, callback, stop, log: () => output, ...extra };
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

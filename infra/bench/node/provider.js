// node-oidc-provider configured like pargate for the comparison in `make bench`
// (infra/bench/loadgen): one confidential client authenticating with
// client_secret_basic, the same redirect URI and scopes (openid, offline_access: it
// may refresh), pushed authorization requests enabled, PKCE required for every
// client, the library's in-memory adapter, and NODE_ENV=production (set by the
// caller). It listens on 127.0.0.1 only.
//
//   PORT=<port> JWKS_FILE=<path> CLIENT_ID=… CLIENT_SECRET=… REDIRECT_URI=… \
//     USER_NAME=… USER_PASSWORD=… node provider.js
//   node provider.js --generate-jwks <path>   # write a signing key set and exit
//
// The whole flow (infra/bench/flow) signs in and consents through a minimal
// implementation of the interaction routes, the library's documented way
// (provider.interactionDetails, interactionFinished, Grant): GET /interaction/<uid>
// renders the login or the consent form, POST /interaction/<uid>/login compares the
// password with USER_PASSWORD as it is (no password hashing: the benchmark reports
// pargate's argon2id apart), POST /interaction/<uid>/confirm grants what the
// request asks for. Both answer 303 to the provider's /authorize/<uid>, which resumes
// the authorization.
//
// Signing keys come from JWKS_FILE, as pargate's come from KEYS_FILE, so neither
// server generates a key during the measured cold start.
import { generateKeyPairSync, randomBytes, timingSafeEqual } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';

function generateJWKS(path) {
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const jwk = { ...privateKey.export({ format: 'jwk' }), kid: randomBytes(8).toString('hex'), alg: 'RS256', use: 'sig' };
  writeFileSync(path, JSON.stringify({ keys: [jwk] }), { mode: 0o600 });
}

if (process.argv[2] === '--generate-jwks') {
  generateJWKS(process.argv[3]);
  process.exit(0);
}

function required(name) {
  const v = process.env[name];
  if (!v) {
    console.error(`provider.js: ${name} is required`);
    process.exit(2);
  }
  return v;
}

const port = Number(required('PORT'));
const jwks = JSON.parse(readFileSync(required('JWKS_FILE'), 'utf8'));
const { default: Provider } = await import('oidc-provider');

const provider = new Provider(`http://127.0.0.1:${port}`, {
  clients: [{
    client_id: required('CLIENT_ID'),
    client_secret: required('CLIENT_SECRET'),
    token_endpoint_auth_method: 'client_secret_basic',
    redirect_uris: [required('REDIRECT_URI')],
    grant_types: ['authorization_code', 'refresh_token'],
    response_types: ['code'],
    scope: 'openid offline_access',
  }],
  scopes: ['openid', 'offline_access'],
  findAccount: (ctx, accountId) => ({
    accountId,
    claims: () => ({ sub: accountId, name: 'Bench User', email: 'bench@example.com', email_verified: true }),
  }),
  interactions: { url: (ctx, interaction) => `/interaction/${interaction.uid}` },
  jwks,
  cookies: { keys: [randomBytes(32).toString('base64url')] },
  features: {
    pushedAuthorizationRequests: { enabled: true },
    devInteractions: { enabled: false }, // the interaction routes below take their place
  },
  routes: { pushed_authorization_request: '/par', authorization: '/authorize', token: '/token' },
  pkce: { required: () => true },
  // Refresh tokens rotate on every use, as pargate's do (RFC 9700 §4.14.2); the
  // library's default rotates only some (public clients, old tokens).
  rotateRefreshToken: true,
});

const userName = required('USER_NAME');
const userPassword = Buffer.from(required('USER_PASSWORD'));

const escape = (s) => String(s).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

function page(res, title, body) {
  res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8', 'Cache-Control': 'no-store' });
  res.end(`<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${title}</title></head><body>${body}</body></html>`);
}

async function readForm(req) {
  let body = '';
  for await (const chunk of req) {
    body += chunk;
    if (body.length > 16384) throw new Error('form too large');
  }
  return new URLSearchParams(body);
}

// interaction serves /interaction/<uid>[/login|/confirm]; false when the path is not one.
async function interaction(req, res) {
  const m = /^\/interaction\/([A-Za-z0-9_-]+)(\/login|\/confirm)?$/.exec(req.url);
  if (!m) return false;
  const details = await provider.interactionDetails(req, res);
  const { uid, prompt, params } = details;
  const action = m[2] ?? '';
  if (req.method === 'GET' && action === '') {
    if (prompt.name === 'login') {
      page(res, 'Sign in', `<form method="post" action="/interaction/${uid}/login">`
        + '<input type="hidden" name="prompt" value="login">'
        + '<input name="username" autocomplete="username"><input type="password" name="password" autocomplete="current-password">'
        + '<button>Sign in</button></form>');
    } else {
      page(res, 'Consent', `<p>${escape(params.client_id)} asks for ${escape(params.scope)}</p>`
        + `<form method="post" action="/interaction/${uid}/confirm"><input type="hidden" name="prompt" value="consent">`
        + '<button>Allow</button></form>');
    }
    return true;
  }
  if (req.method === 'POST' && action === '/login' && prompt.name === 'login') {
    const form = await readForm(req);
    const password = Buffer.from(form.get('password') ?? '');
    const ok = form.get('username') === userName && password.length === userPassword.length
      && timingSafeEqual(password, userPassword);
    if (!ok) {
      page(res, 'Sign in', '<p>Wrong username or password</p>');
      return true;
    }
    await provider.interactionFinished(req, res, { login: { accountId: userName } }, { mergeWithLastSubmission: false });
    return true;
  }
  if (req.method === 'POST' && action === '/confirm' && prompt.name === 'consent') {
    await readForm(req);
    const grant = details.grantId
      ? await provider.Grant.find(details.grantId)
      : new provider.Grant({ accountId: details.session.accountId, clientId: params.client_id });
    const { missingOIDCScope, missingOIDCClaims, missingResourceScopes } = prompt.details;
    if (missingOIDCScope) grant.addOIDCScope(missingOIDCScope.join(' '));
    if (missingOIDCClaims) grant.addOIDCClaims(missingOIDCClaims);
    for (const [indicator, scopes] of Object.entries(missingResourceScopes ?? {})) {
      grant.addResourceScope(indicator, scopes.join(' '));
    }
    const grantId = await grant.save();
    await provider.interactionFinished(req, res, { consent: { grantId } }, { mergeWithLastSubmission: true });
    return true;
  }
  res.writeHead(400, { 'Content-Type': 'text/plain' });
  res.end('bad interaction request');
  return true;
}

const callback = provider.callback();
const server = createServer((req, res) => {
  if (!req.url.startsWith('/interaction/')) {
    callback(req, res);
    return;
  }
  interaction(req, res).then((served) => {
    if (!served) callback(req, res);
  }, (err) => {
    if (!res.headersSent) {
      res.writeHead(err.statusCode ?? 500, { 'Content-Type': 'text/plain' });
    }
    res.end(err.statusCode ? err.name ?? 'error' : 'server error');
  });
});
server.keepAliveTimeout = 65_000;
server.listen(port, '127.0.0.1', () => {
  console.log(`node-oidc-provider listening on http://127.0.0.1:${port}`);
});
for (const signal of ['SIGTERM', 'SIGINT']) {
  process.on(signal, () => server.close(() => process.exit(0)));
}

// The upstream OpenID Providers of the federation suite (issue 13): node-oidc-provider
// started in this process on a 127.0.0.1 port, with its own login and consent pages
// (the library's interaction routes, as infra/bench/node/provider.js serves them),
// and the broker registered as its one client.

import { generateKeyPairSync, randomBytes, timingSafeEqual } from 'node:crypto';
import { createServer } from 'node:http';
import Provider from 'oidc-provider';

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

/**
 * Starts node-oidc-provider at http://127.0.0.1:port with PAR enabled and PKCE
 * required, the client {id, secret, redirectURI} (client_secret_basic), and one
 * account {username, password, claims}. Its login page has "Upstream username",
 * "Upstream password" and "Sign in upstream"; its consent page "Allow upstream".
 * Returns {issuer, close()}.
 */
export async function startNodeProvider(port, client, account) {
  const issuer = `http://127.0.0.1:${port}`;
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const jwk = { ...privateKey.export({ format: 'jwk' }), kid: randomBytes(8).toString('hex'), alg: 'ES256', use: 'sig' };
  const provider = new Provider(issuer, {
    clients: [{
      client_id: client.id,
      client_secret: client.secret,
      token_endpoint_auth_method: 'client_secret_basic',
      redirect_uris: [client.redirectURI],
      id_token_signed_response_alg: 'ES256', // the one key's algorithm
      grant_types: ['authorization_code'],
      response_types: ['code'],
      scope: 'openid email profile',
    }],
    // acr and amr in every ID token, the login's (interactionFinished below): the
    // library releases an ID token's claims by the openid scope's entry, and acr only
    // with acrValues.
    acrValues: ['urn:upstream:loa:2'],
    claims: { acr: null, amr: null, openid: { sub: null, acr: null, amr: null }, email: ['email', 'email_verified'], profile: ['name'] },
    findAccount: (ctx, accountId) => ({ accountId, claims: () => ({ sub: accountId, ...account.claims }) }),
    interactions: { url: (ctx, interaction) => `/interaction/${interaction.uid}` },
    jwks: { keys: [jwk] },
    cookies: { keys: [randomBytes(32).toString('base64url')] },
    features: {
      pushedAuthorizationRequests: { enabled: true },
      devInteractions: { enabled: false },
    },
    pkce: { required: () => true },
  });
  const password = Buffer.from(account.password);

  async function interaction(req, res) {
    const m = /^\/interaction\/([A-Za-z0-9_-]+)(\/login|\/confirm)?$/.exec(req.url);
    if (!m) return false;
    const details = await provider.interactionDetails(req, res);
    const { uid, prompt, params } = details;
    const action = m[2] ?? '';
    if (req.method === 'GET' && action === '') {
      if (prompt.name === 'login') {
        page(res, 'Upstream sign-in', `<form method="post" action="/interaction/${uid}/login">`
          + '<label>Upstream username <input name="username" autocomplete="username"></label>'
          + '<label>Upstream password <input type="password" name="password" autocomplete="current-password"></label>'
          + '<button>Sign in upstream</button></form>');
      } else {
        page(res, 'Upstream consent', `<p>${escape(params.client_id)} asks for ${escape(params.scope)}</p>`
          + `<form method="post" action="/interaction/${uid}/confirm"><button>Allow upstream</button></form>`);
      }
      return true;
    }
    if (req.method === 'POST' && action === '/login' && prompt.name === 'login') {
      const form = await readForm(req);
      const given = Buffer.from(form.get('password') ?? '');
      if (form.get('username') !== account.username || given.length !== password.length || !timingSafeEqual(given, password)) {
        page(res, 'Upstream sign-in', '<p>Wrong username or password</p>');
        return true;
      }
      await provider.interactionFinished(req, res, { login: { accountId: account.username, amr: ['pwd', 'mfa'], acr: 'urn:upstream:loa:2' } }, { mergeWithLastSubmission: false });
      return true;
    }
    if (req.method === 'POST' && action === '/confirm' && prompt.name === 'consent') {
      await readForm(req);
      const grant = details.grantId
        ? await provider.Grant.find(details.grantId)
        : new provider.Grant({ accountId: details.session.accountId, clientId: params.client_id });
      const { missingOIDCScope, missingOIDCClaims } = prompt.details;
      if (missingOIDCScope) grant.addOIDCScope(missingOIDCScope.join(' '));
      if (missingOIDCClaims) grant.addOIDCClaims(missingOIDCClaims);
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
      if (!res.headersSent) res.writeHead(err.statusCode ?? 500, { 'Content-Type': 'text/plain' });
      res.end(err.statusCode ? err.name ?? 'error' : 'server error');
    });
  });
  await new Promise((ok, fail) => server.once('error', fail).listen(port, '127.0.0.1', ok));
  return { issuer, close: () => new Promise((ok) => { server.closeAllConnections(); server.close(ok); }) };
}

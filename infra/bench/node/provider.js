// node-oidc-provider configured like pargate's /par for the comparison in `make bench`
// (infra/bench/loadgen): one confidential client authenticating with
// client_secret_basic, the same redirect URI and scope, pushed authorization requests
// enabled, PKCE required for every client, the library's in-memory adapter, and
// NODE_ENV=production (set by the caller). It listens on 127.0.0.1 only.
//
//   PORT=<port> JWKS_FILE=<path> CLIENT_ID=… CLIENT_SECRET=… REDIRECT_URI=… node provider.js
//   node provider.js --generate-jwks <path>   # write a signing key set and exit
//
// Signing keys come from JWKS_FILE, as pargate's come from KEYS_FILE, so neither
// server generates a key during the measured cold start.
import { generateKeyPairSync, randomBytes } from 'node:crypto';
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
    grant_types: ['authorization_code'],
    response_types: ['code'],
    scope: 'openid',
  }],
  jwks,
  cookies: { keys: [randomBytes(32).toString('base64url')] },
  features: {
    pushedAuthorizationRequests: { enabled: true },
    devInteractions: { enabled: false }, // login pages are not part of this comparison
  },
  routes: { pushed_authorization_request: '/par' },
  pkce: { required: () => true },
});

const server = createServer(provider.callback());
server.keepAliveTimeout = 65_000;
server.listen(port, '127.0.0.1', () => {
  console.log(`node-oidc-provider listening on http://127.0.0.1:${port}`);
});
for (const signal of ['SIGTERM', 'SIGINT']) {
  process.on(signal, () => server.close(() => process.exit(0)));
}

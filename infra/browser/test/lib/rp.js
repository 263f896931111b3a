// The openid-client relying party of the session and logout suites: discovery of the
// local issuer and one authorization in a Chromium page.

import * as client from 'openid-client';
import { confidential } from './localapi.js';

/** Discovers server's issuer as the relying party rp (client_secret_basic). */
export async function discover(server, rp = confidential) {
  return client.discovery(new URL(server.issuer), rp.id, rp.secret, client.ClientSecretBasic(rp.secret), {
    execute: [client.allowInsecureRequests], // the local issuer is http://127.0.0.1
  });
}

/**
 * One authorization in page: PAR with PKCE, state and nonce (and extra), then
 * act(page) in the browser until the callback. Returns the callback URL and checks.
 */
export async function authorize(server, config, page, extra, act) {
  const pkceCodeVerifier = client.randomPKCECodeVerifier();
  const state = client.randomState();
  const nonce = client.randomNonce();
  const url = await client.buildAuthorizationUrlWithPAR(config, {
    redirect_uri: server.callback,
    scope: 'openid profile',
    code_challenge: await client.calculatePKCECodeChallenge(pkceCodeVerifier),
    code_challenge_method: 'S256',
    state,
    nonce,
    ...extra,
  });
  await page.goto(url.href);
  await act(page);
  await page.waitForURL((u) => u.href.startsWith(`${server.callback}?`));
  return { callback: new URL(page.url()), checks: { pkceCodeVerifier, expectedState: state, expectedNonce: nonce, idTokenExpected: true } };
}

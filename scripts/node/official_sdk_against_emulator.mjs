#!/usr/bin/env node
// Box's official generated Node.js/TypeScript SDK (npm `box-node-sdk` 10.12.0, installed under the
// alias `box-node-sdk-10` by scripts/node/package.json), unmodified, against the boxauth emulator:
// client credentials as the service account and as a user, JWT with the exported box_config.json
// (this SDK signs without `kid`), OAuth 2.0 with a code obtained through the consent form, code
// exchange, refresh, downscope to a file and to a shared link, revoke.
//
// Usage: node scripts/node/official_sdk_against_emulator.mjs path/to/boxauth
// (after `npm ci --prefix scripts/node`; scripts/test does both). Prints `  ok  step` per step; a
// failing step prints what the SDK sent (secrets masked), what the emulator answered and the
// emulator's log, stops its group, and the run exits 1. A step that hangs stops the run.
import process from 'node:process';

import { BoxCcgAuth, BoxClient, BoxJwtAuth, BoxOAuth, CcgConfig, JwtConfig, OAuthConfig } from 'box-node-sdk-10';
import { BoxApiError } from 'box-node-sdk-10/box';
import { BaseUrls, NetworkSession } from 'box-node-sdk-10/networking';
import harness from './harness.cjs';

const { Runner, Wire, consent, decodeJwt, expect, startEmulator } = harness;

const SDK = 'box-node-sdk 10.12.0';
const OVERALL_TIMEOUT_MS = 180000;
const REDIRECT_URI = 'http://localhost:3000/callback';
const FILE_ID = '400000001';
const FILE_URL = `https://api.box.com/2.0/files/${FILE_ID}`;
const JWT_BEARER = 'urn:ietf:params:oauth:grant-type:jwt-bearer';

async function main(binary) {
  if (!binary) {
    console.error('usage: node scripts/node/official_sdk_against_emulator.mjs path/to/boxauth');
    process.exit(2);
  }
  let emulator;
  try {
    emulator = await startEmulator(binary);
  } catch (error) {
    console.log(`FAIL  start the emulator: ${error.message}`);
    process.exit(1);
  }
  let current = 'start';
  const stopRun = (why) => {
    console.log(`FAIL  the run stopped: ${why}`);
    emulator.kill();
    emulator.cleanup();
    process.exit(1);
  };
  const watchdog = setTimeout(() => stopRun(`it took more than ${OVERALL_TIMEOUT_MS / 1000} s (at "${current}")`), OVERALL_TIMEOUT_MS);

  const wire = new Wire();
  const runner = new Runner({ base: emulator.base, wire, onHang: (name) => stopRun(`"${name}" hung`), onStart: (name) => { current = name; } });
  try {
    await run(runner, emulator, wire);
  } catch (error) {
    console.log(`FAIL  ${current}: ${error.stack || error}`);
    runner.failed.push(current);
  }

  const stopped = await emulator.stop();
  clearTimeout(watchdog);
  emulator.cleanup();
  if (stopped.hung) {
    console.log('FAIL  the emulator stops cleanly on Ctrl-C: it did not stop within 10 s');
    runner.failed.push('stop');
  } else if (stopped.code !== 0) {
    console.log(`FAIL  the emulator stops cleanly on Ctrl-C: exit code ${stopped.code}, signal ${stopped.signal}; stderr: ${emulator.stderrTail()}`);
    runner.failed.push('stop');
  } else {
    console.log('  ok  the emulator stops cleanly on Ctrl-C');
    runner.passed.push('stop');
  }
  if (runner.failed.length) {
    console.log(`Box Node SDK (${SDK}) against the emulator: ${runner.failed.length} failed, ${runner.passed.length} passed`);
    process.exit(1);
  }
  console.log(`Box Node SDK (${SDK}) against the emulator: ${runner.passed.length} steps passed`);
}

// An interceptor that only looks: it records each request and answer for the failure messages
// and the JWT header check, and hands the SDK's own options and response back untouched.
function recorder(wire) {
  return {
    beforeRequest(options) {
      const form = options.contentType === 'application/x-www-form-urlencoded' ? { ...options.data } : undefined;
      wire.sent({
        method: options.method,
        url: options.params && Object.keys(options.params).length
          ? `${options.url}?${new URLSearchParams(Object.entries(options.params).filter(([, v]) => v != null))}`
          : options.url,
        headers: { ...(options.headers || {}), ...(options.contentType ? { 'content-type': options.contentType } : {}) },
        form,
        json: options.contentType === 'application/json' ? options.data : undefined,
        note: options.auth ? `Authorization from ${options.auth.constructor.name}; User-Agent and X-Box-UA added by the SDK` : undefined,
      });
      return options;
    },
    afterRequest(response) {
      wire.answered(undefined, { status: response.status, headers: response.headers, body: response.data });
      return response;
    },
  };
}

async function apiStatus(base, accessToken) {
  const answer = await fetch(`${base}/2.0/users/me`, {
    headers: { authorization: `Bearer ${accessToken}` },
    signal: AbortSignal.timeout(10000),
  });
  return answer.status;
}

async function run(runner, emulator, wire) {
  const { base, world } = emulator;
  const step = runner.step.bind(runner);
  const app = world.app;
  const user = (role) => world.users.find((u) => u.role === role);
  const admin = user('admin');
  const appUser = user('app_user');
  const serviceAccount = user('service_account');
  const sharedLink = world.shared_links.find((l) => l.id === FILE_ID).url;

  const urls = new BaseUrls({ baseUrl: base, uploadUrl: `${base}/api`, oauth2Url: `${base}/api/oauth2` });
  const session = new NetworkSession({ baseUrls: urls }).withInterceptors([recorder(wire)]);
  const clientFor = (auth) => new BoxClient({ auth, networkSession: session });

  await runner.group('client credentials', async () => {
    const ccg = new BoxCcgAuth({
      config: new CcgConfig({ clientId: app.client_id, clientSecret: app.client_secret, enterpriseId: world.enterprise_id }),
    });
    const client = clientFor(ccg);
    await step('CCG: the service account calls /2.0/users/me', async () => {
      const me = await client.users.getUserMe();
      expect(me.id === serviceAccount.id && me.login.startsWith('AutomationUser_'), () => `got ${me.id} ${me.login}`);
    });
    await step('CCG: users.getUserMe({ fields: [\'enterprise\'] }) returns the enterprise', async () => {
      const me = await client.users.getUserMe({ fields: ['enterprise'] });
      expect(me.enterprise && me.enterprise.id === world.enterprise_id && me.enterprise.type === 'enterprise',
        () => `got ${JSON.stringify(me.rawData)}`);
    });
    await step('CCG: a user token for the admin (withUserSubject)', async () => {
      const me = await clientFor(ccg.withUserSubject(admin.id)).users.getUserMe();
      expect(me.id === admin.id, () => `got ${me.id}`);
    });
    await step('CCG: CcgConfig({ userId }) authenticates as that user', async () => {
      const asUser = new BoxCcgAuth({ config: new CcgConfig({ clientId: app.client_id, clientSecret: app.client_secret, userId: admin.id }) });
      const me = await clientFor(asUser).users.getUserMe();
      expect(me.id === admin.id, () => `got ${me.id}`);
      const form = wire.lastForm('client_credentials');
      expect(form.box_subject_type === 'user' && form.box_subject_id === admin.id, () => `sent box_subject_type=${form.box_subject_type}`);
    });
    await step('CCG: the service account as the app user (withAsUserHeader)', async () => {
      const me = await client.withAsUserHeader(appUser.id).users.getUserMe();
      expect(me.id === appUser.id, () => `got ${me.id}`);
    });
    await step(`CCG: downscope to file ${FILE_ID} returns restricted_to`, async () => {
      const down = await ccg.downscopeToken(['item_preview'], FILE_URL, undefined, session);
      const [first] = down.restrictedTo || [];
      expect(first && first.object.id === FILE_ID && first.scope === 'item_preview' && down.refreshToken === undefined,
        () => `got ${JSON.stringify(down.rawData)}`);
    });
    await step('CCG: a token revoked behind the SDK\'s back: on the 401 the SDK gets a new one and retries', async () => {
      const other = new BoxCcgAuth({
        config: new CcgConfig({ clientId: app.client_id, clientSecret: app.client_secret, enterpriseId: world.enterprise_id }),
      });
      const otherClient = clientFor(other);
      await otherClient.users.getUserMe();
      const old = (await other.retrieveToken(session)).accessToken;
      const revoked = await fetch(`${base}/oauth2/revoke`, {
        method: 'POST',
        body: new URLSearchParams({ client_id: app.client_id, client_secret: app.client_secret, token: old }),
        signal: AbortSignal.timeout(10000),
      });
      expect(revoked.status === 200, `the revoke (by hand) answered ${revoked.status}`);
      const mark = wire.mark();
      const me = await otherClient.users.getUserMe();
      const seen = wire.since(mark).map((e) => `${e.request.form ? e.request.form.grant_type : e.request.method} ${e.response && e.response.status}`);
      expect(me.id === serviceAccount.id && (await other.retrieveToken(session)).accessToken !== old
        && seen.join(', ') === 'GET 401, client_credentials 200, GET 200', () => `exchanges: ${seen.join(', ')}`);
    });
    await step('CCG: revoke, then the token gets 401', async () => {
      const token = await ccg.retrieveToken(session);
      await ccg.revokeToken(session);
      const status = await apiStatus(base, token.accessToken);
      expect(status === 401, `GET /2.0/users/me with the revoked token answered ${status}`);
    });
  });

  await runner.group('JWT', async () => {
    const config = JwtConfig.fromConfigFile(emulator.boxConfigPath);
    const jwt = new BoxJwtAuth({ config });
    await step('JWT: box_config.json (encrypted key) decrypts, signs, and the token works', async () => {
      const me = await clientFor(jwt).users.getUserMe();
      expect(me.id === serviceAccount.id, () => `got ${me.id} ${me.login}`);
    });
    await step('JWT: the SDK\'s assertion has no kid (header {"alg":"RS256"}), the emulator tried the app\'s keys', async () => {
      const form = wire.lastForm(JWT_BEARER);
      expect(form && form.assertion, 'no JWT bearer request was recorded');
      const { header, claims } = decodeJwt(form.assertion);
      // box-node-sdk 10 signs with jose's SignJWT and setProtectedHeader({ alg }) only: its
      // `keyid` option (the config's publicKeyID) never reaches the header.
      expect(JSON.stringify(header) === '{"alg":"RS256"}', () => `header ${JSON.stringify(header)}`);
      expect(config.jwtKeyId === app.public_key_ids[0], `the config's publicKeyID ${config.jwtKeyId} is not the app's key`);
      expect(claims.iss === app.client_id && claims.sub === world.enterprise_id && claims.box_sub_type === 'enterprise'
        && claims.aud === 'https://api.box.com/oauth2/token' && claims.jti && claims.exp - claims.iat <= 60,
      () => `claims ${JSON.stringify(claims)}`);
    });
    await step('JWT: a new assertion (fresh jti) gives a new token', async () => {
      const first = (await jwt.retrieveToken(session)).accessToken;
      const second = (await jwt.refreshToken(session)).accessToken;
      expect(first !== second, 'the same token came back');
    });
    await step('JWT: JwtConfig.fromConfigJsonString gives a working token too', async () => {
      const fs = await import('node:fs');
      const fromString = new BoxJwtAuth({ config: JwtConfig.fromConfigJsonString(fs.readFileSync(emulator.boxConfigPath, 'utf8')) });
      const me = await clientFor(fromString).users.getUserMe();
      expect(me.id === serviceAccount.id, () => `got ${me.id}`);
    });
    await step('JWT: RS512 (JwtConfig algorithm) is accepted', async () => {
      const rs512 = new BoxJwtAuth({
        config: new JwtConfig({
          clientId: config.clientId, clientSecret: config.clientSecret, jwtKeyId: config.jwtKeyId,
          privateKey: config.privateKey, privateKeyPassphrase: config.privateKeyPassphrase,
          enterpriseId: config.enterpriseId, algorithm: 'RS512',
        }),
      });
      const me = await clientFor(rs512).users.getUserMe();
      expect(me.id === serviceAccount.id, () => `got ${me.id}`);
      const { header } = decodeJwt(wire.lastForm(JWT_BEARER).assertion);
      expect(header.alg === 'RS512', () => `header ${JSON.stringify(header)}`);
    });
    await step('JWT: a user token for the admin (withUserSubject)', async () => {
      const me = await clientFor(jwt.withUserSubject(admin.id)).users.getUserMe();
      expect(me.id === admin.id, () => `got ${me.id}`);
      const { claims } = decodeJwt(wire.lastForm(JWT_BEARER).assertion);
      expect(claims.sub === admin.id && claims.box_sub_type === 'user', () => `claims ${JSON.stringify(claims)}`);
    });
    await step('JWT: a user token for the app user', async () => {
      const me = await clientFor(jwt.withUserSubject(appUser.id)).users.getUserMe();
      expect(me.id === appUser.id, () => `got ${me.id}`);
    });
    await step('JWT: downscope to the shared link from emulator.json', async () => {
      const down = await jwt.downscopeToken(['item_preview'], undefined, sharedLink, session);
      const [first] = down.restrictedTo || [];
      expect(down.issuedTokenType === 'urn:ietf:params:oauth:token-type:access_token' && first && first.object.id === FILE_ID,
        () => `got ${JSON.stringify(down.rawData)}`);
    });
    await step('JWT: revoke, then the token gets 401', async () => {
      const token = await jwt.retrieveToken(session);
      await jwt.revokeToken(session);
      const status = await apiStatus(base, token.accessToken);
      expect(status === 401, `GET /2.0/users/me with the revoked token answered ${status}`);
    });
  });

  await runner.group('OAuth 2.0', async () => {
    const oauth = new BoxOAuth({ config: new OAuthConfig({ clientId: app.client_id, clientSecret: app.client_secret }) });
    let code;
    let token;
    let refreshed;
    await step('OAuth: the consent form approves and redirects with the state echoed', async () => {
      const boxUrl = oauth.getAuthorizeUrl({ redirectUri: REDIRECT_URI, state: 'sdk-state-1' });
      expect(boxUrl.startsWith('https://account.box.com/api/oauth2/authorize?'), `the SDK built ${boxUrl}`);
      // The SDK always builds the URL on account.box.com; the user opens the same query on the emulator.
      const location = await consent(`${base}/api/oauth2/authorize?${new URL(boxUrl).search.slice(1)}`, admin.login);
      const redirect = new URL(location);
      expect(`${redirect.origin}${redirect.pathname}` === REDIRECT_URI && redirect.searchParams.get('state') === 'sdk-state-1',
        `redirected to ${redirect.origin}${redirect.pathname} with state ${redirect.searchParams.get('state')}`);
      code = redirect.searchParams.get('code');
      expect(code, 'no code in the redirect');
    });
    await step('OAuth: the code is exchanged for an access and a refresh token', async () => {
      token = await oauth.getTokensAuthorizationCodeGrant(code, session);
      expect(token.accessToken && token.refreshToken && token.expiresIn > 0 && token.tokenType === 'bearer',
        () => `got ${JSON.stringify(Object.keys(token.rawData))}`);
    });
    await step('OAuth: /2.0/users/me is the admin', async () => {
      const me = await clientFor(oauth).users.getUserMe();
      expect(me.id === admin.id, () => `got ${me.id}`);
    });
    await step('OAuth: refresh rotates both tokens', async () => {
      refreshed = await oauth.refreshToken(session);
      expect(refreshed.accessToken !== token.accessToken && refreshed.refreshToken && refreshed.refreshToken !== token.refreshToken,
        'a token came back unchanged');
      const me = await clientFor(oauth).users.getUserMe();
      expect(me.id === admin.id, () => `the refreshed token is ${me.id}`);
    });
    await step(`OAuth: downscope to file ${FILE_ID} returns restricted_to`, async () => {
      const down = await oauth.downscopeToken(['item_preview', 'item_download'], FILE_URL, undefined, session);
      const scopes = (down.restrictedTo || []).filter((r) => r.object.id === FILE_ID).map((r) => r.scope).sort();
      expect(scopes.join(' ') === 'item_download item_preview', () => `got ${JSON.stringify(down.rawData)}`);
    });
    await step('OAuth: revoke, then the token gets 401', async () => {
      await oauth.revokeToken(session);
      const status = await apiStatus(base, refreshed.accessToken);
      expect(status === 401, `GET /2.0/users/me with the revoked token answered ${status}`);
    });
    await step('OAuth: the revoked refresh token is refused (400 invalid_grant)', async () => {
      let refused;
      try {
        await oauth.refreshToken(session);
      } catch (error) {
        refused = error;
      }
      expect(refused instanceof BoxApiError, () => `the refresh ${refused ? `failed otherwise: ${refused.message}` : 'was accepted'}`);
      expect(refused.responseInfo.statusCode === 400 && refused.responseInfo.body.error === 'invalid_grant',
        () => `got ${refused.responseInfo.statusCode} ${JSON.stringify(refused.responseInfo.body)}`);
    });
    await step('OAuth: the used code is refused when replayed (400 invalid_grant)', async () => {
      let refused;
      try {
        await oauth.getTokensAuthorizationCodeGrant(code, session);
      } catch (error) {
        refused = error;
      }
      expect(refused instanceof BoxApiError && refused.responseInfo.statusCode === 400
        && refused.responseInfo.body.error === 'invalid_grant',
      () => (refused ? `got ${refused.message}` : 'the code was accepted twice'));
    });
  });
}

main(process.argv[2]);

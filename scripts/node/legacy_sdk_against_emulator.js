#!/usr/bin/env node
'use strict';
// Box's legacy Node.js SDK (npm `box-node-sdk` 4.15.0, the API the Box CLI uses, installed under
// the alias `box-node-sdk-4` by scripts/node/package.json), unmodified, against the boxauth
// emulator over https: JWT app auth from the exported box_config.json (service account, admin,
// app user), client credentials, OAuth 2.0 with a code obtained through the consent form, refresh
// (by hand and by a persistent client), token exchange (downscope, shared link, annotator), revoke;
// and curl with the emulator's CA.
//
// This SDK only speaks https (its request agent is https.Agent), so the emulator runs with --tls and
// the SDK runs in a child process started with NODE_EXTRA_CA_CERTS=DIR/emulator-ca.pem, as a Box
// CLI user behind a TLS-inspecting proxy would.
//
// Usage: node scripts/node/legacy_sdk_against_emulator.js path/to/boxauth
// (after `npm ci --prefix scripts/node`; scripts/test does both). Prints `  ok  step` per step; a
// failing step prints what the SDK sent (secrets masked), what the emulator answered and the
// emulator's log, stops its group, and the run exits 1. A step that hangs stops the run.

const { execFile, spawn } = require('node:child_process');
const fs = require('node:fs');
const process = require('node:process');

const { Runner, Wire, consent, decodeJwt, expect, startEmulator } = require('./harness.cjs');

const SDK = 'box-node-sdk 4.15.0';
const CHILD_ENV = 'BOXAUTH_LEGACY_SDK_CHILD';
const OVERALL_TIMEOUT_MS = 180000;
const REDIRECT_URI = 'http://localhost:3000/callback';
const FILE_ID = '400000001';
const FILE_URL = `https://api.box.com/2.0/files/${FILE_ID}`;
const JWT_BEARER = 'urn:ietf:params:oauth:grant-type:jwt-bearer';

// ---------------------------------------------------------------------------------------------
// The parent: starts the emulator with --tls, runs the SDK in a child that trusts its CA, stops the
// emulator with Ctrl-C (SIGINT) and checks it exits 0.

async function parent(binary) {
  if (!binary) {
    console.error('usage: node scripts/node/legacy_sdk_against_emulator.js path/to/boxauth');
    process.exit(2);
  }
  let emulator;
  try {
    emulator = await startEmulator(binary, { tls: true });
  } catch (error) {
    console.log(`FAIL  start the emulator with --tls: ${error.message}`);
    process.exit(1);
  }
  const failed = [];
  let passed = 0;
  if (emulator.base.startsWith('https://') && fs.existsSync(emulator.caPath)) {
    console.log(`  ok  the emulator serves ${emulator.base} and wrote its CA to DIR/emulator-ca.pem`);
    passed += 1;
  } else {
    console.log(`FAIL  the emulator with --tls: banner URL ${emulator.base}, CA file present: ${fs.existsSync(emulator.caPath)}`);
    failed.push('tls');
  }

  const child = spawn(process.execPath, [__filename], {
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    env: {
      ...process.env,
      NODE_EXTRA_CA_CERTS: emulator.caPath,
      [CHILD_ENV]: JSON.stringify({ base: emulator.base, dir: emulator.dir }),
    },
  });
  let current = 'start the SDK process';
  let result;
  child.on('message', (message) => {
    if (message.started) current = message.started;
    if (message.result) result = message.result;
  });
  const exited = new Promise((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
  let timer;
  const outcome = await Promise.race([
    exited,
    new Promise((resolve) => { timer = setTimeout(resolve, OVERALL_TIMEOUT_MS, { hung: true }); }),
  ]);
  clearTimeout(timer);
  if (outcome.hung) {
    child.kill('SIGKILL');
    console.log(`FAIL  the run stopped: it took more than ${OVERALL_TIMEOUT_MS / 1000} s (at "${current}")`);
    failed.push(current);
  } else if (!result) {
    console.log(`FAIL  the SDK process ended (code ${outcome.code}, signal ${outcome.signal}) at "${current}" without a result`);
    failed.push(current);
  } else {
    passed += result.passed;
    failed.push(...result.failed);
  }

  const stopped = await emulator.stop();
  emulator.cleanup();
  if (stopped.hung) {
    console.log('FAIL  the emulator stops cleanly on Ctrl-C: it did not stop within 10 s');
    failed.push('stop');
  } else if (stopped.code !== 0) {
    console.log(`FAIL  the emulator stops cleanly on Ctrl-C: exit code ${stopped.code}, signal ${stopped.signal}; stderr: ${emulator.stderrTail()}`);
    failed.push('stop');
  } else {
    console.log('  ok  the emulator stops cleanly on Ctrl-C');
    passed += 1;
  }
  if (failed.length) {
    console.log(`Box legacy Node SDK (${SDK}) against the emulator: ${failed.length} failed, ${passed} passed`);
    process.exit(1);
  }
  console.log(`Box legacy Node SDK (${SDK}) against the emulator: ${passed} steps passed`);
}

// ---------------------------------------------------------------------------------------------
// The child: the SDK's steps.

async function childMain({ base, dir }) {
  // The 4.x SDK warns on every client it makes that it is deprecated: say it once, keep the others.
  process.removeAllListeners('warning');
  let warnedDeprecated = false;
  process.on('warning', (warning) => {
    const deprecated = /^DEPRECATION WARNING: This BoxClient class/.test(warning.message);
    if (!deprecated || !warnedDeprecated) console.error(`(node warning) ${warning.message.trim()}`);
    warnedDeprecated = warnedDeprecated || deprecated;
  });
  const world = JSON.parse(fs.readFileSync(`${dir}/emulator.json`, 'utf8'));
  const emulator = { base, dir, world, boxConfigPath: `${dir}/box_config.json`, caPath: `${dir}/emulator-ca.pem` };
  const wire = new Wire();
  const runner = new Runner({
    base,
    wire,
    onStart: (name) => process.send({ started: name }),
    onHang: async (name) => {
      console.log(`FAIL  the run stopped: "${name}" hung`);
      process.send({ result: { passed: runner.passed.length, failed: runner.failed } }, () => process.exit(1));
    },
  });
  try {
    await run(runner, emulator, wire);
  } catch (error) {
    console.log(`FAIL  unexpected: ${error.stack || error}`);
    runner.failed.push('unexpected');
  }
  process.send({ result: { passed: runner.passed.length, failed: runner.failed } }, () => process.exit(0));
}

// What the SDK reports of each exchange (its `response` event, which carries the request): kept for
// failure messages and for the JWT header check. It only listens.
function listen(sdk, wire) {
  sdk.on('response', (error, response) => {
    const res = response || (error && error.response);
    const req = (res && res.request) || (error && error.request) || {};
    const rawBody = req.body === undefined ? undefined : String(req.body);
    const contentType = req.headers && (req.headers['content-type'] || req.headers['Content-Type']);
    const form = rawBody && String(contentType || '').includes('x-www-form-urlencoded')
      ? Object.fromEntries(new URLSearchParams(rawBody))
      : undefined;
    const exchange = wire.sent({
      method: req.method,
      url: req.uri ? req.uri.href : req.href,
      headers: req.headers,
      form,
      note: 'the SDK removes Authorization from what it reports',
    });
    wire.answered(exchange, res
      ? { status: res.statusCode, headers: res.headers, body: Buffer.isBuffer(res.body) ? res.body.toString('utf8') : res.body }
      : { status: 'no response', body: error && error.message });
  });
  return sdk;
}

// The last answer body the SDK received for a token request of `grantType` (the 4.x SDK keeps only
// access token, refresh token and lifetime of it, so `restricted_to` is checked on what it received).
function lastTokenAnswer(wire, grantType) {
  for (let i = wire.exchanges.length - 1; i >= 0; i--) {
    const { request, response } = wire.exchanges[i];
    if (request.form && request.form.grant_type === grantType && response) return response.body;
  }
  return undefined;
}

function curl(args) {
  return new Promise((resolve) => {
    execFile('curl', ['-sS', '--max-time', '10', ...args], { timeout: 15000 }, (error, stdout, stderr) => {
      resolve({ code: error ? (error.code ?? 'killed') : 0, stdout, stderr });
    });
  });
}

async function rejection(promise) {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  return undefined;
}

async function run(runner, emulator, wire) {
  const BoxSDK = require('box-node-sdk-4').default || require('box-node-sdk-4');
  const { base, world } = emulator;
  const step = runner.step.bind(runner);
  const app = world.app;
  const user = (role) => world.users.find((u) => u.role === role);
  const admin = user('admin');
  const appUser = user('app_user');
  const serviceAccount = user('service_account');
  const sharedLink = world.shared_links.find((l) => l.id === FILE_ID).url;
  // What the Box CLI sets for a custom API host (4.x config keys: apiRootURL, uploadAPIRootURL,
  // authorizeRootURL; the token and revoke URLs are apiRootURL + /oauth2/token and /oauth2/revoke).
  const roots = { apiRootURL: base, uploadAPIRootURL: `${base}/api`, authorizeRootURL: `${base}/api` };
  const me = (client, options) => client.users.get(client.CURRENT_USER_ID, options);

  await runner.group('https and curl', async () => {
    let curlToken;
    await step('curl --cacert DIR/emulator-ca.pem: a client credentials token over https', async () => {
      const answer = await curl([
        '--cacert', emulator.caPath, `${base}/oauth2/token`,
        '-d', 'grant_type=client_credentials', '-d', `client_id=${app.client_id}`, '-d', `client_secret=${app.client_secret}`,
        '-d', 'box_subject_type=enterprise', '-d', `box_subject_id=${world.enterprise_id}`,
      ]);
      expect(answer.code === 0, () => `curl exited ${answer.code}: ${answer.stderr}`);
      const body = JSON.parse(answer.stdout);
      expect(body.access_token && body.token_type === 'bearer', () => `got ${answer.stdout.slice(0, 200)}`);
      curlToken = body.access_token;
    });
    await step('curl without the CA refuses the certificate (exit 60)', async () => {
      const answer = await curl([`${base}/2.0/users/me`]);
      expect(answer.code === 60, () => `curl exited ${answer.code}: ${answer.stderr}`);
    });
    await step('the SDK (NODE_EXTRA_CA_CERTS) uses that token: getBasicClient is the service account', async () => {
      const sdk = listen(new BoxSDK({ clientID: app.client_id, clientSecret: app.client_secret, ...roots }), wire);
      const user = await me(sdk.getBasicClient(curlToken));
      expect(user.id === serviceAccount.id, () => `got ${user.id}`);
    });
  });

  await runner.group('JWT app auth', async () => {
    const config = JSON.parse(fs.readFileSync(emulator.boxConfigPath, 'utf8'));
    const sdk = listen(BoxSDK.getPreconfiguredInstance(config), wire);
    sdk.configure(roots);
    let client;
    await step('JWT: getPreconfiguredInstance(box_config.json), getAppAuthClient(\'enterprise\') is the service account', async () => {
      client = sdk.getAppAuthClient('enterprise', world.enterprise_id);
      const user = await me(client);
      expect(user.id === serviceAccount.id && user.login.startsWith('AutomationUser_'), () => `got ${user.id} ${user.login}`);
    });
    await step('JWT: the SDK\'s assertion names the key (kid = publicKeyID), no iat', async () => {
      const form = wire.lastForm(JWT_BEARER);
      expect(form && form.assertion, 'no JWT bearer request was recorded');
      const { header, claims } = decodeJwt(form.assertion);
      expect(header.kid === app.public_key_ids[0] && header.alg === 'RS256', () => `header ${JSON.stringify(header)}`);
      expect(claims.iss === app.client_id && claims.sub === world.enterprise_id && claims.box_sub_type === 'enterprise'
        && claims.aud === 'https://api.box.com/oauth2/token' && claims.jti && !('iat' in claims),
      () => `claims ${JSON.stringify(claims)}`);
    });
    await step('JWT: appAuth algorithm RS384 with expirationTime 60 (the SDK\'s maximum) is accepted', async () => {
      const strict = listen(new BoxSDK({
        clientID: app.client_id,
        clientSecret: app.client_secret,
        enterpriseID: world.enterprise_id,
        appAuth: {
          keyID: config.boxAppSettings.appAuth.publicKeyID,
          privateKey: config.boxAppSettings.appAuth.privateKey,
          passphrase: config.boxAppSettings.appAuth.passphrase,
          algorithm: 'RS384',
          expirationTime: 60,
        },
        ...roots,
      }), wire);
      const user = await me(strict.getAppAuthClient('enterprise'));
      expect(user.id === serviceAccount.id, () => `got ${user.id}`);
      const { header, claims } = decodeJwt(wire.lastForm(JWT_BEARER).assertion);
      expect(header.alg === 'RS384' && claims.exp - Math.floor(Date.now() / 1000) <= 60, () => `header ${JSON.stringify(header)}`);
    });
    await step('JWT: users.get(me, { fields: \'enterprise\' }) returns the enterprise', async () => {
      const user = await me(client, { fields: 'enterprise' });
      expect(user.enterprise && user.enterprise.id === world.enterprise_id, () => `got ${JSON.stringify(user)}`);
    });
    await step('JWT: client.asUser(admin) sends As-User and is the admin', async () => {
      client.asUser(admin.id);
      const user = await me(client);
      client.asSelf();
      expect(user.id === admin.id, () => `got ${user.id}`);
    });
    await step('JWT: getAppAuthClient(\'user\', admin) is the admin', async () => {
      const user = await me(sdk.getAppAuthClient('user', admin.id));
      expect(user.id === admin.id, () => `got ${user.id}`);
    });
    await step('JWT: getAppAuthClient(\'user\', app user) is the app user', async () => {
      const user = await me(sdk.getAppAuthClient('user', appUser.id));
      expect(user.id === appUser.id, () => `got ${user.id}`);
    });
    await step('JWT: getEnterpriseAppAuthTokens and getAppUserTokens give token infos', async () => {
      const enterprise = await sdk.getEnterpriseAppAuthTokens(world.enterprise_id);
      const appUserTokens = await sdk.getAppUserTokens(appUser.id);
      expect(enterprise.accessToken && enterprise.accessTokenTTLMS > 0 && appUserTokens.accessToken
        && appUserTokens.accessToken !== enterprise.accessToken, 'incomplete token info');
      const user = await me(sdk.getBasicClient(appUserTokens.accessToken));
      expect(user.id === appUser.id, () => `the app user's token is ${user.id}`);
    });
    await step(`JWT: exchangeToken downscopes to file ${FILE_ID} (restricted_to in the answer)`, async () => {
      const down = await client.exchangeToken(['item_preview'], FILE_URL);
      const body = lastTokenAnswer(wire, 'urn:ietf:params:oauth:grant-type:token-exchange');
      expect(down.accessToken && body && body.restricted_to && body.restricted_to[0].object.id === FILE_ID
        && body.restricted_to[0].scope === 'item_preview', () => `got ${JSON.stringify(body)}`);
    });
    await step('JWT: exchangeToken with a shared link (options.sharedLink.url)', async () => {
      const down = await client.exchangeToken('item_preview', undefined, { sharedLink: { url: sharedLink } });
      const body = lastTokenAnswer(wire, 'urn:ietf:params:oauth:grant-type:token-exchange');
      expect(down.accessToken && body.restricted_to && body.restricted_to[0].object.id === FILE_ID,
        () => `got ${JSON.stringify(body)}`);
    });
    await step('JWT: exchangeToken for an annotator (options.actor: an alg "none" actor token)', async () => {
      const down = await client.exchangeToken(['item_preview'], FILE_URL, { actor: { id: 'external-annotator-1', name: 'Ann Otator' } });
      const form = wire.lastForm('urn:ietf:params:oauth:grant-type:token-exchange');
      const { header, claims } = decodeJwt(form.actor_token);
      expect(down.accessToken && header.alg === 'none' && claims.box_sub_type === 'external'
        && form.actor_token_type === 'urn:ietf:params:oauth:token-type:id_token',
      () => `header ${JSON.stringify(header)}, claims ${JSON.stringify(claims)}`);
    });
    await step('JWT: revokeTokens, then the token gets 401 (authExpired in the SDK)', async () => {
      const info = await sdk.getEnterpriseAppAuthTokens(world.enterprise_id);
      await sdk.revokeTokens(info.accessToken);
      const error = await rejection(me(sdk.getBasicClient(info.accessToken)));
      expect(error && error.statusCode === 401 && error.authExpired === true,
        () => (error ? `got ${error.statusCode} authExpired=${error.authExpired}: ${error.message}` : 'the revoked token still works'));
    });
  });

  await runner.group('client credentials', async () => {
    const sdk = listen(new BoxSDK({ clientID: app.client_id, clientSecret: app.client_secret, enterpriseID: world.enterprise_id, ...roots }), wire);
    await step('CCG: getAnonymousClient is the service account', async () => {
      const user = await me(sdk.getAnonymousClient());
      expect(user.id === serviceAccount.id, () => `got ${user.id}`);
    });
    await step('CCG: getCCGClientForUser(admin) is the admin', async () => {
      const user = await me(sdk.getCCGClientForUser(admin.id));
      expect(user.id === admin.id, () => `got ${user.id}`);
      const form = wire.lastForm('client_credentials');
      expect(form.box_subject_type === 'user' && form.box_subject_id === admin.id, () => `sent ${JSON.stringify(form.box_subject_type)}`);
    });
    await step('CCG: exchangeToken downscopes the CCG token', async () => {
      const down = await sdk.getAnonymousClient().exchangeToken(['item_preview'], FILE_URL);
      const body = lastTokenAnswer(wire, 'urn:ietf:params:oauth:grant-type:token-exchange');
      expect(down.accessToken && body.restricted_to && body.restricted_to[0].object.id === FILE_ID, () => `got ${JSON.stringify(body)}`);
    });
    await step('CCG: client.revokeTokens, the token gets 401, and the session gets a new one', async () => {
      const client = sdk.getAnonymousClient();
      await me(client);
      const token = lastTokenAnswer(wire, 'client_credentials').access_token;
      await client.revokeTokens();
      const error = await rejection(me(sdk.getBasicClient(token)));
      expect(error && error.statusCode === 401, () => (error ? `got ${error.statusCode}: ${error.message}` : 'the revoked token still works'));
      const again = await me(client);
      expect(again.id === serviceAccount.id && lastTokenAnswer(wire, 'client_credentials').access_token !== token,
        'after revoke the CCG session did not get a new token');
    });
  });

  await runner.group('OAuth 2.0', async () => {
    const sdk = listen(new BoxSDK({ clientID: app.client_id, clientSecret: app.client_secret, ...roots }), wire);
    let code;
    let tokens;
    let refreshed;
    await step('OAuth: getAuthorizeURL on authorizeRootURL, the consent form approves, state echoed', async () => {
      const url = sdk.getAuthorizeURL({ response_type: 'code', redirect_uri: REDIRECT_URI, state: 'legacy-state-1' });
      expect(url.startsWith(`${base}/api/oauth2/authorize?`), `the SDK built ${url}`);
      const redirect = new URL(await consent(url, admin.login));
      expect(`${redirect.origin}${redirect.pathname}` === REDIRECT_URI && redirect.searchParams.get('state') === 'legacy-state-1',
        `redirected to ${redirect.origin}${redirect.pathname} with state ${redirect.searchParams.get('state')}`);
      code = redirect.searchParams.get('code');
      expect(code, 'no code in the redirect');
    });
    await step('OAuth: getTokensAuthorizationCodeGrant gives access and refresh tokens', async () => {
      tokens = await sdk.getTokensAuthorizationCodeGrant(code);
      expect(tokens.accessToken && tokens.refreshToken && tokens.accessTokenTTLMS > 0, 'incomplete token info');
    });
    await step('OAuth: getPersistentClient(tokenInfo) is the admin', async () => {
      const user = await me(sdk.getPersistentClient(tokens));
      expect(user.id === admin.id, () => `got ${user.id}`);
    });
    await step('OAuth: getTokensRefreshGrant rotates both tokens', async () => {
      refreshed = await sdk.getTokensRefreshGrant(tokens.refreshToken);
      expect(refreshed.accessToken !== tokens.accessToken && refreshed.refreshToken && refreshed.refreshToken !== tokens.refreshToken,
        'a token came back unchanged');
    });
    await step('OAuth: the used refresh token is refused (authExpired, 400 invalid_grant)', async () => {
      const error = await rejection(sdk.getTokensRefreshGrant(tokens.refreshToken));
      expect(error && error.statusCode === 400 && error.authExpired === true && error.response.body.error === 'invalid_grant',
        () => (error ? `got ${error.statusCode}: ${error.message}` : 'the used refresh token was accepted'));
      // Box revokes the family of a reused refresh token: get a fresh pair for what follows.
    });
    let persistent;
    await step('OAuth: a persistent client with an expired access token refreshes by itself into its token store', async () => {
      const url = sdk.getAuthorizeURL({ response_type: 'code', redirect_uri: REDIRECT_URI, state: 'legacy-state-2' });
      const fresh = await sdk.getTokensAuthorizationCodeGrant(new URL(await consent(url, admin.login)).searchParams.get('code'));
      let saved;
      const store = {
        read: (callback) => callback(null, saved),
        write: (info, callback) => { saved = info; callback(); },
        clear: (callback) => { saved = undefined; callback(); },
      };
      const stale = { ...fresh, acquiredAtMS: Date.now() - fresh.accessTokenTTLMS - 1000 };
      const client = sdk.getPersistentClient(stale, store);
      const user = await me(client);
      expect(user.id === admin.id, () => `got ${user.id}`);
      expect(saved && saved.accessToken !== fresh.accessToken && saved.refreshToken !== fresh.refreshToken,
        'the token store was not written with a new pair');
      refreshed = saved;
      persistent = client;
    });
    await step('OAuth: exchangeToken on the persistent client downscopes to the file', async () => {
      const down = await persistent.exchangeToken(['item_preview'], FILE_URL);
      const body = lastTokenAnswer(wire, 'urn:ietf:params:oauth:grant-type:token-exchange');
      expect(down.accessToken && body.restricted_to && body.restricted_to[0].object.id === FILE_ID, () => `got ${JSON.stringify(body)}`);
    });
    await step('OAuth: client.revokeTokens (with the refresh token), then the access token gets 401', async () => {
      await persistent.revokeTokens();
      const form = [...wire.exchanges].reverse().find((e) => e.request.url && e.request.url.endsWith('/oauth2/revoke')).request.form;
      expect(form.token === refreshed.refreshToken, 'the SDK did not revoke with the refresh token');
      const error = await rejection(me(sdk.getBasicClient(refreshed.accessToken)));
      expect(error && error.statusCode === 401 && error.authExpired === true,
        () => (error ? `got ${error.statusCode}: ${error.message}` : 'the revoked pair\'s access token still works'));
    });
    await step('OAuth: the revoked refresh token is refused', async () => {
      const error = await rejection(sdk.getTokensRefreshGrant(refreshed.refreshToken));
      expect(error && error.statusCode === 400 && error.authExpired === true,
        () => (error ? `got ${error.statusCode}: ${error.message}` : 'the revoked refresh token was accepted'));
    });
  });
}

if (process.env[CHILD_ENV]) {
  childMain(JSON.parse(process.env[CHILD_ENV]));
} else {
  parent(process.argv[2]);
}

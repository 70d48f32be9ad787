// The scenarios both suites run (node:test in sdk.node.test.mjs, vitest in sdk.vitest.test.mjs),
// with Box's official SDK (box-node-sdk 10.x), unmodified, through the package's helpers only.
import assert from 'node:assert/strict';

import { BoxCcgAuth, BoxClient, BoxJwtAuth, BoxOAuth, CcgConfig, JwtConfig, OAuthConfig } from 'box-node-sdk';
import { BaseUrls, NetworkSession } from 'box-node-sdk/networking';

const session = (e) => new NetworkSession({ baseUrls: new BaseUrls({ baseUrl: e.baseUrl, oauth2Url: e.oauth2Url }) });
const clientFor = (e, auth) => new BoxClient({ auth, networkSession: session(e) });
const ccg = (e) => new BoxCcgAuth({
  config: new CcgConfig({ clientId: e.clientId, clientSecret: e.clientSecret, enterpriseId: e.enterpriseId }),
});
const tokenGrants = async (e) => (await e.requests())
  .filter((x) => x.path === '/oauth2/token').map((x) => `${x.grant_type} ${x.status}`);

async function oauthClient(e) {
  const auth = new BoxOAuth({ config: new OAuthConfig({ clientId: e.clientId, clientSecret: e.clientSecret }) });
  const url = auth.getAuthorizeUrl({ redirectUri: 'http://localhost:3000/callback', state: 'st-1' });
  const redirect = new URL(await e.approve(url));
  assert.equal(redirect.searchParams.get('state'), 'st-1');
  await auth.getTokensAuthorizationCodeGrant(redirect.searchParams.get('code'), session(e));
  return { auth, client: clientFor(e, auth) };
}

export const scenarios = {
  async 'client credentials'(e) {
    const me = await clientFor(e, ccg(e)).users.getUserMe();
    assert.match(me.login, /^AutomationUser_/);
    assert.deepEqual(await tokenGrants(e), ['client_credentials 200']);
  },
  async 'JWT from the exported config'(e) {
    const auth = new BoxJwtAuth({ config: JwtConfig.fromConfigFile(e.jwtConfigPath) });
    assert.match((await clientFor(e, auth).users.getUserMe()).login, /^AutomationUser_/);
    assert.deepEqual(await tokenGrants(e), ['urn:ietf:params:oauth:grant-type:jwt-bearer 200']);
  },
  async 'OAuth 2.0 through the consent page'(e) {
    const { client } = await oauthClient(e);
    assert.equal((await client.users.getUserMe()).id, e.adminUserId);
  },
  async 'an expired token is refreshed by the SDK'(e) {
    const { auth, client } = await oauthClient(e);
    const before = (await auth.retrieveToken(session(e))).accessToken;
    await e.advanceClock(3601);
    assert.equal((await client.users.getUserMe()).id, e.adminUserId);
    assert.notEqual((await auth.retrieveToken(session(e))).accessToken, before);
    assert.ok((await tokenGrants(e)).includes('refresh_token 200'));
    const me = (await e.requests()).filter((x) => x.path === '/2.0/users/me').map((x) => x.status);
    assert.deepEqual(me, [401, 200], 'the expired token was refused, then the refreshed one served');
  },
  async 'a scripted 503 is retried by the SDK'(e) {
    const client = clientFor(e, ccg(e));
    await e.scriptFaults([503]);
    assert.match((await client.users.getUserMe()).login, /^AutomationUser_/);
    const statuses = (await e.requests()).map((x) => x.status);
    assert.equal(statuses[0], 503, `${statuses}`);
    assert.equal(statuses.at(-1), 200, `${statuses}`);
    assert.equal((await e.stats()).faults_injected, 1);
  },
  async 'each test starts from a reset emulator (1)'(e) { await dirtyAfterClean(e); },
  async 'each test starts from a reset emulator (2)'(e) { await dirtyAfterClean(e); },
};

// Whichever runs first finds a clean emulator and dirties it; the other finds it clean again.
async function dirtyAfterClean(e) {
  assert.deepEqual(await e.requests(), []);
  const stats = await e.stats();
  assert.equal(stats.faults_scripted, 0);
  assert.equal(stats.store.access_tokens, 0);
  await clientFor(e, ccg(e)).users.getUserMe();
  await e.advanceClock(10000);
  await e.scriptFaults([500, 500, 500]);
}

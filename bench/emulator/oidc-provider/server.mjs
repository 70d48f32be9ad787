// Peer server for bench/emulator/run.sh: node-oidc-provider (npm `oidc-provider`) issuing
// client-credentials access tokens, configured as a normal production user would run it:
// one process (no cluster), NODE_ENV=production, the built-in in-memory adapter, opaque tokens.
//
//   NODE_ENV=production node server.mjs PORT [CLIENT_ID CLIENT_SECRET]
//
// Client id / secret: arguments 2 and 3, else env OIDC_CLIENT_ID / OIDC_CLIENT_SECRET, else the
// defaults below. Token endpoint: POST http://127.0.0.1:PORT/token with a form body
// grant_type=client_credentials&client_id=…&client_secret=… (client_secret_post).
// Parameters the grant does not know (box_subject_type, box_subject_id) are dropped, not refused.
// Access-token lifetime: env OIDC_TOKEN_TTL seconds (default 3600, as Box's).
import { generateKeyPairSync, randomBytes } from 'node:crypto';

import Provider from 'oidc-provider';

const port = Number.parseInt(process.argv[2] ?? process.env.PORT ?? '', 10);
if (!Number.isInteger(port) || port <= 0 || port > 65535) {
  console.error('usage: node server.mjs PORT [CLIENT_ID CLIENT_SECRET]');
  process.exit(2);
}
const clientId = process.argv[3] ?? process.env.OIDC_CLIENT_ID ?? 'boxauthbenchclient00000000000001';
const clientSecret = process.argv[4] ?? process.env.OIDC_CLIENT_SECRET ?? 'boxauthbenchsecret00000000000001';
const ttl = Number.parseInt(process.env.OIDC_TOKEN_TTL ?? '3600', 10);

// A production deployment brings its own signing key (the token endpoint never signs anything
// for opaque client-credentials tokens, but without one the provider falls back to its
// development keystore and says so on every start).
const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const jwk = { ...privateKey.export({ format: 'jwk' }), use: 'sig', alg: 'RS256' };

const provider = new Provider(`http://127.0.0.1:${port}`, {
  clients: [{
    client_id: clientId,
    client_secret: clientSecret,
    grant_types: ['client_credentials'],
    response_types: [],
    redirect_uris: [],
    token_endpoint_auth_method: 'client_secret_post',
  }],
  clientAuthMethods: ['client_secret_post'],
  features: {
    clientCredentials: { enabled: true },
    devInteractions: { enabled: false },
  },
  // Opaque access tokens: with no resource indicator (features.resourceIndicators is off by
  // default) client-credentials tokens are opaque, stored in the in-memory adapter (an LRU).
  ttl: { ClientCredentials: ttl },
  jwks: { keys: [jwk] },
  cookies: { keys: [randomBytes(32).toString('base64url')] },
  routes: { token: '/token' },
});

// Plain http on 127.0.0.1: oidc-provider serves it as is (it only needs `proxy` behind TLS
// termination); nothing to switch off.
provider.on('server_error', (ctx, err) => console.error('server_error', err));

const server = provider.listen(port, '127.0.0.1', () => {
  console.log(`oidc-provider ${process.env.NODE_ENV ?? '(NODE_ENV unset)'} listening on http://127.0.0.1:${port} token endpoint /token pid ${process.pid}`);
});
server.keepAliveTimeout = 65_000;

const stop = () => server.close(() => process.exit(0));
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
